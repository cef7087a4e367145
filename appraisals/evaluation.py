"""The set-based scoring pass of a cycle: a fixed number of queries for the whole cycle, whatever
the number of members, then bulk upserts of only what changed (so a re-run over unchanged facts
writes nothing). Called by the services (appraisals/services.py) with the cycle's row locked;
never call these without that lock.

1. `score_quantitative`: every quantitative criterion score from the facts (reports.metrics,
   grouped by member, and by subtree for targets that include the downline) and the targets
   (plans.models.Target, one query), upserted with `bulk_create(update_conflicts=True)`.
2. `cycle_results`: every appraisal's totals, attainment, rank, grade and recommended outcome
   from the stored scores, `bulk_update` of the appraisals whose results changed.
"""

import dataclasses
import json
from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from . import scoring, selectors
from .models import (
    Appraisal,
    AppraisalCycle,
    Criterion,
    CriterionKind,
    CriterionScore,
    ScoringMethod,
)

SCORE_FIELDS = ("raw_value", "target_value", "target_missing", "score", "weighted_score")
APPRAISAL_RESULT_FIELDS = (
    "quantitative_score",
    "qualitative_score",
    "total_score",
    "attainment",
    "rank",
    "grade",
    "recommended_outcome",
    "recommendation_basis",
    "final_outcome",
)


# (appraisal id, criterion id) -> (raw_value, target_value, target_missing, score, weighted_score)
Stored = dict[tuple[int, int], tuple]


@dataclasses.dataclass
class ScoredTotals:
    """Per appraisal, gathered by the scoring pass as it goes over every quantitative score:
    the sum of the weighted scores and the attainment parts (ratio in percent, weight), so that
    the results need not go over the scores a second time."""

    weighted: dict[int, Decimal] = dataclasses.field(default_factory=lambda: defaultdict(Decimal))
    attainment: dict[int, list] = dataclasses.field(default_factory=lambda: defaultdict(list))


def stored_scores(cycle: AppraisalCycle, criteria: list[Criterion]) -> Stored:
    """The cycle's stored scores of `criteria`, in one query, as plain tuples: a cycle of
    10,000 members has about 100,000 of them."""
    rows = (
        CriterionScore.objects.filter(
            organization_id=cycle.organization_id, appraisal__cycle=cycle, criterion__in=criteria
        )
        .order_by()
        .values_list("appraisal_id", "criterion_id", *SCORE_FIELDS)
    )
    return {row[:2]: row[2:] for row in rows}


def summed_apart(criteria: list[Criterion]) -> list[Criterion]:
    """The criteria an appraisal's results need only the weighted total of (the qualitative
    ones, which never count for attainment): added up by the database instead of read row by
    row."""
    return [
        c
        for c in criteria
        if c.kind == CriterionKind.QUALITATIVE and c.method != ScoringMethod.RATIO_TO_TARGET
    ]


def summed_scores(cycle: AppraisalCycle, criteria: list[Criterion]) -> dict[int, Decimal]:
    """appraisal id -> the sum of its weighted scores of `criteria`, in one query."""
    if not criteria:
        return {}
    rows = (
        CriterionScore.objects.filter(
            organization_id=cycle.organization_id, appraisal__cycle=cycle, criterion__in=criteria
        )
        .order_by()
        .values_list("appraisal_id")
        .annotate(total=Sum("weighted_score"))
    )
    return {appraisal_id: total for appraisal_id, total in rows if total is not None}


def score_quantitative(
    cycle: AppraisalCycle,
    criteria: list[Criterion],
    appraisals: list[tuple[int, int]],
    stored: Stored | None = None,
    totals: ScoredTotals | None = None,
    ahead: selectors.OwnFactsAhead | None = None,
) -> int:
    """Compute every quantitative criterion score of the cycle from the facts and upsert the
    ones that changed. `appraisals` are (appraisal id, member id) pairs; `stored` the scores as
    stored (read here when not given), updated in place with what is written; `totals`, when
    given, gathers each appraisal's weighted sum and attainment parts; `ahead`, when given, has
    the members' own facts read on another connection meanwhile (OwnFactsAhead). Returns the
    number of score rows written. Queries: targets (1), actuals (one per fact source, twice at
    most), existing scores (1 unless given), the upsert (1 per batch of rows)."""
    quantitative = [c for c in criteria if c.kind == CriterionKind.QUANTITATIVE]
    if not quantitative or not appraisals:
        return 0
    ratio_metrics = {c.metric for c in quantitative if c.method == ScoringMethod.RATIO_TO_TARGET}
    targets = selectors.cycle_targets(
        cycle=cycle,
        # The cycle's members as a subquery: no list of thousands of ids to send and parse.
        member_ids=Appraisal.objects.filter(
            organization_id=cycle.organization_id, cycle=cycle
        ).values("member_id"),
        metrics=ratio_metrics,
    )
    downline = [key for key, target in targets.items() if target.include_downline]
    own, subtree = selectors.cycle_actuals(
        cycle=cycle,
        own_metrics={c.metric for c in quantitative},
        subtree_metrics={metric for _member_id, metric in downline},
        subtree_roots={member_id for member_id, _metric in downline},
        ahead=ahead,
    )
    if stored is None:
        stored = stored_scores(cycle, quantitative)
    rows = []
    organization_id = cycle.organization_id
    for criterion in quantitative:
        score_of = scoring.scorer(criterion.method, criterion.params)
        by_ratio = criterion.method == ScoringMethod.RATIO_TO_TARGET
        metric = criterion.metric
        own_facts = own.get(metric, {})
        subtree_facts = subtree.get(metric, {})
        weight = criterion.weight
        criterion_id = criterion.pk
        # (actual, target) -> (score, weighted score): many members share a count or a band.
        scored: dict[tuple, tuple[Decimal, Decimal]] = {}
        for appraisal_id, member_id in appraisals:
            target = targets.get((member_id, metric)) if by_ratio else None
            # Facts are Decimals (money, ratios) or ints (counts); an int compares and hashes
            # equal to the stored Decimal, and scoring converts it.
            if target is None:
                actual, target_value = own_facts.get(member_id, 0), None
            else:
                facts = subtree_facts if target.include_downline else own_facts
                actual, target_value = facts.get(member_id, 0), target.value
            result = scored.get((actual, target_value))
            if result is None:
                score = score_of(actual, target_value)
                result = scored[(actual, target_value)] = (
                    score,
                    scoring.weighted(score, weight),
                )
            values = (
                actual,
                target_value,
                by_ratio and (target_value is None or target_value <= 0),
                *result,
            )
            if totals is not None:
                if result[1]:
                    totals.weighted[appraisal_id] += result[1]
                if by_ratio and target_value:
                    ratio = scoring.ratio_to_target_ratio(actual, target_value)
                    if ratio is not None:
                        totals.attainment[appraisal_id].append((ratio, weight))
            key = (appraisal_id, criterion_id)
            if stored.get(key) != values:
                stored[key] = values
                rows.append(
                    CriterionScore(
                        organization_id=organization_id,
                        appraisal_id=appraisal_id,
                        criterion=criterion,
                        **dict(zip(SCORE_FIELDS, values, strict=True)),
                    )
                )
    scores_upsert(rows)
    return len(rows)


def scores_upsert(rows: list[CriterionScore]) -> None:
    if rows:
        CriterionScore.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["organization", "appraisal", "criterion"],
            update_fields=[*SCORE_FIELDS, "comment"],
        )


def cycle_results(
    cycle: AppraisalCycle,
    criteria: list[Criterion],
    *,
    finalizing: bool = False,
    stored: Stored | None = None,
    summed: dict[int, Decimal] | None = None,
    scored: ScoredTotals | None = None,
) -> int:
    """Recompute every appraisal's totals, attainment, rank, grade and recommended outcome from
    the stored scores (`stored` for the criteria not `summed_apart`, `summed` the totals of
    those that are; read here when not given; `scored`, the quantitative part as the scoring
    pass just gathered it), and bulk-update the appraisals
    whose results changed. Until a reviewer picks another outcome, the final outcome follows the
    recommendation; on finalization every appraisal gets one. Returns the number of appraisals
    updated."""
    by_id = {criterion.pk: criterion for criterion in criteria}
    bands = [
        scoring.Band(grade=band.grade, min_score=band.min_score, outcome=band.outcome)
        for band in cycle.template.grades.all()
    ]
    appraisals = list(
        Appraisal.objects.filter(organization_id=cycle.organization_id, cycle=cycle)
        .order_by()
        .values_list(
            "id", "member_id", "reviewed_at", "outcome_overridden", *APPRAISAL_RESULT_FIELDS
        )
    )
    apart = summed_apart(criteria)
    kept = [c for c in criteria if c not in apart]
    # When the scoring pass went over every score kept apart from the sums (all quantitative,
    # the usual case), its totals are the answer: nothing to go over again here.
    use_scored = scored is not None and all(c.kind == CriterionKind.QUANTITATIVE for c in kept)
    if use_scored:
        stored = {}
    elif stored is None:
        stored = stored_scores(cycle, kept)
    if summed is None:
        summed = summed_scores(cycle, apart)
    # Per criterion, once: (is it quantitative, does it count for attainment, its weight).
    kinds = {
        pk: (
            criterion.kind == CriterionKind.QUANTITATIVE,
            criterion.method == ScoringMethod.RATIO_TO_TARGET,
            criterion.weight,
        )
        for pk, criterion in by_id.items()
    }
    quantitative_sums: dict[int, Decimal] = defaultdict(Decimal)
    qualitative_sums: dict[int, Decimal] = defaultdict(Decimal, summed)
    attainment_parts: dict[int, list] = defaultdict(list)
    if use_scored:
        quantitative_sums, attainment_parts = scored.weighted, scored.attainment
    for (appraisal_id, criterion_id), (
        raw,
        target,
        _missing,
        _score,
        weighted_score,
    ) in stored.items():
        kind = kinds.get(criterion_id)
        if kind is None:
            continue
        is_quantitative, by_ratio, weight = kind
        if weighted_score:
            if is_quantitative:
                quantitative_sums[appraisal_id] += weighted_score
            else:
                qualitative_sums[appraisal_id] += weighted_score
        if by_ratio and target and raw is not None:
            ratio = scoring.ratio_to_target_ratio(raw, target)
            if ratio is not None:
                attainment_parts[appraisal_id].append((ratio, weight))
    sums = {
        row[0]: {
            CriterionKind.QUANTITATIVE: quantitative_sums.get(row[0], Decimal(0)),
            CriterionKind.QUALITATIVE: qualitative_sums.get(row[0], Decimal(0)),
        }
        for row in appraisals
    }
    totals = {row[0]: sum(sums[row[0]].values(), Decimal(0)) for row in appraisals}
    ranks = scoring.competition_ranks(totals)
    grade_of = scoring.grade_finder(bands)
    rules = cycle.template.rules or []
    history = selectors.previous_results(
        cycle=cycle,
        member_ids=[row[1] for row in appraisals],
        lookback=scoring.rules_lookback(rules),
    )
    changed = []
    for pk, member_id, reviewed_at, overridden, *current in appraisals:
        parts = sums[pk]
        total = scoring.quantize(totals[pk])
        attainment = scoring.weighted_attainment(attainment_parts[pk])
        band = grade_of(total)
        outcome, basis = scoring.recommend(
            band=band,
            total=total,
            attainment=attainment,
            rules=rules,
            history=history.get(member_id, []),
        )
        final = current[-1]  # final_outcome, the last of APPRAISAL_RESULT_FIELDS
        if not overridden and (reviewed_at or finalizing):
            final = outcome
        new = (
            scoring.quantize(parts[CriterionKind.QUANTITATIVE]),
            scoring.quantize(parts[CriterionKind.QUALITATIVE]),
            total,
            attainment,
            ranks[pk],
            band.grade if band else None,
            outcome,
            basis,
            final,
        )
        if tuple(current) != new:
            changed.append(Appraisal(pk=pk, **dict(zip(APPRAISAL_RESULT_FIELDS, new, strict=True))))
    if changed:
        results_update(changed)
    return len(changed)


def results_update(appraisals: list[Appraisal]) -> None:
    """Write the result fields of many appraisals in one statement. On PostgreSQL an UPDATE
    joined to one array per column (unnest): linear in the rows. bulk_update's CASE WHEN per
    row is quadratic there and took most of a minute for 10,000 appraisals (bench/README.md)."""
    fields = [Appraisal._meta.get_field(name) for name in APPRAISAL_RESULT_FIELDS]
    if connection.vendor != "postgresql":
        Appraisal.objects.bulk_update(appraisals, list(APPRAISAL_RESULT_FIELDS))
        return
    qn = connection.ops.quote_name
    arrays = [[appraisal.pk for appraisal in appraisals]]
    casts = ["bigint[]"]
    sets = []
    for index, field in enumerate(fields, start=1):
        values = [getattr(appraisal, field.attname) for appraisal in appraisals]
        if field.get_internal_type() == "JSONField":
            arrays.append([json.dumps(value, cls=field.encoder) for value in values])
            casts.append("text[]")
            sets.append(f"{qn(field.column)} = v.c{index}::jsonb")
        else:
            arrays.append([field.get_db_prep_save(value, connection) for value in values])
            casts.append(f"{field.db_type(connection)}[]")
            sets.append(f"{qn(field.column)} = v.c{index}")
    columns = ", ".join(["id", *(f"c{index}" for index in range(1, len(fields) + 1))])
    unnest = ", ".join(f"%s::{cast}" for cast in casts)
    table = qn(Appraisal._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET {', '.join(sets)} "  # noqa: S608 - names from the model
            f"FROM unnest({unnest}) AS v({columns}) WHERE a.id = v.id",
            arrays,
        )


def quantitative_metrics(cycle: AppraisalCycle) -> set[str]:
    """The metrics the cycle's quantitative criteria score (one query)."""
    return set(
        cycle.template.criteria.filter(kind=CriterionKind.QUANTITATIVE).values_list(
            "metric", flat=True
        )
    )


def cycle_evaluate(
    cycle: AppraisalCycle,
    *,
    finalizing: bool = False,
    ahead: selectors.OwnFactsAhead | None = None,
) -> dict:
    """A full scoring pass over a locked, open cycle (`ahead`: see OwnFactsAhead)."""
    criteria = list(cycle.template.criteria.all())
    appraisals = list(
        Appraisal.objects.filter(organization_id=cycle.organization_id, cycle=cycle)
        .order_by("id")
        .values_list("id", "member_id")
    )
    # The scores are read once and kept in memory between the two passes; the qualitative ones
    # only as totals per appraisal (issue 7).
    apart = summed_apart(criteria)
    stored = stored_scores(cycle, [c for c in criteria if c not in apart])
    summed = summed_scores(cycle, apart)
    totals = ScoredTotals()
    scores = score_quantitative(cycle, criteria, appraisals, stored, totals, ahead)
    results = cycle_results(
        cycle, criteria, finalizing=finalizing, stored=stored, summed=summed, scored=totals
    )
    if scores or results:
        cycle.scored_at = timezone.now()
        AppraisalCycle.objects.filter(pk=cycle.pk).update(scored_at=cycle.scored_at)
    return {"scores_changed": scores, "appraisals_changed": results}
