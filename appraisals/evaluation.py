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

import json
from collections import defaultdict
from decimal import Decimal

from django.db import connection
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


def score_quantitative(
    cycle: AppraisalCycle, criteria: list[Criterion], appraisals: list[tuple[int, int]]
) -> int:
    """Compute every quantitative criterion score of the cycle from the facts and upsert the
    ones that changed. `appraisals` are (appraisal id, member id) pairs. Returns the number of
    score rows written. Queries: targets (1), actuals (one per fact source, twice at most),
    existing scores (1), the upsert (1 per batch of rows)."""
    quantitative = [c for c in criteria if c.kind == CriterionKind.QUANTITATIVE]
    if not quantitative or not appraisals:
        return 0
    member_ids = [member_id for _appraisal_id, member_id in appraisals]
    ratio_metrics = {c.metric for c in quantitative if c.method == ScoringMethod.RATIO_TO_TARGET}
    targets = selectors.cycle_targets(cycle=cycle, member_ids=member_ids, metrics=ratio_metrics)
    downline = [key for key, target in targets.items() if target.include_downline]
    own, subtree = selectors.cycle_actuals(
        cycle=cycle,
        own_metrics={c.metric for c in quantitative},
        subtree_metrics={metric for _member_id, metric in downline},
        subtree_roots={member_id for member_id, _metric in downline},
    )
    existing = {
        (row["appraisal_id"], row["criterion_id"]): row
        for row in CriterionScore.objects.filter(
            organization_id=cycle.organization_id,
            appraisal__cycle=cycle,
            criterion__in=quantitative,
        ).values("appraisal_id", "criterion_id", *SCORE_FIELDS)
    }
    rows = []
    for appraisal_id, member_id in appraisals:
        for criterion in quantitative:
            target = None
            if criterion.method == ScoringMethod.RATIO_TO_TARGET:
                target = targets.get((member_id, criterion.metric))
            facts = subtree if target is not None and target.include_downline else own
            actual = Decimal(facts.get(criterion.metric, {}).get(member_id, 0))
            values = {
                "raw_value": actual,
                "target_value": target.value if target is not None else None,
                "target_missing": criterion.method == ScoringMethod.RATIO_TO_TARGET
                and (target is None or target.value <= 0),
            }
            values["score"] = scoring.score_quantitative(
                criterion.method, criterion.params, actual, values["target_value"]
            )
            values["weighted_score"] = scoring.weighted(values["score"], criterion.weight)
            if existing.get((appraisal_id, criterion.pk)) != {
                "appraisal_id": appraisal_id,
                "criterion_id": criterion.pk,
                **values,
            }:
                rows.append(
                    CriterionScore(
                        organization_id=cycle.organization_id,
                        appraisal_id=appraisal_id,
                        criterion=criterion,
                        **values,
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
    cycle: AppraisalCycle, criteria: list[Criterion], *, finalizing: bool = False
) -> int:
    """Recompute every appraisal's totals, attainment, rank, grade and recommended outcome from
    the stored scores, and bulk-update the appraisals whose results changed. Until a reviewer
    picks another outcome, the final outcome follows the recommendation; on finalization every
    appraisal gets one. Returns the number of appraisals updated."""
    by_id = {criterion.pk: criterion for criterion in criteria}
    bands = [
        scoring.Band(grade=band.grade, min_score=band.min_score, outcome=band.outcome)
        for band in cycle.template.grades.all()
    ]
    appraisals = list(
        Appraisal.objects.filter(organization_id=cycle.organization_id, cycle=cycle).only(
            "id", "member_id", "reviewed_at", "outcome_overridden", *APPRAISAL_RESULT_FIELDS
        )
    )
    sums: dict[int, dict] = defaultdict(
        lambda: {CriterionKind.QUANTITATIVE: Decimal(0), CriterionKind.QUALITATIVE: Decimal(0)}
    )
    attainment_parts: dict[int, list] = defaultdict(list)
    scores = CriterionScore.objects.filter(
        organization_id=cycle.organization_id, appraisal__cycle=cycle
    ).values_list("appraisal_id", "criterion_id", "raw_value", "target_value", "weighted_score")
    for appraisal_id, criterion_id, raw, target, weighted_score in scores:
        criterion = by_id.get(criterion_id)
        if criterion is None:
            continue
        sums[appraisal_id][criterion.kind] += weighted_score or 0
        if criterion.method == ScoringMethod.RATIO_TO_TARGET and target and raw is not None:
            ratio = scoring.ratio_to_target_ratio(raw, target)
            if ratio is not None:
                attainment_parts[appraisal_id].append((ratio, criterion.weight))
    totals = {
        appraisal.pk: sum(sums[appraisal.pk].values(), Decimal(0)) for appraisal in appraisals
    }
    ranks = scoring.competition_ranks(totals)
    rules = cycle.template.rules or []
    history = selectors.previous_results(
        cycle=cycle,
        member_ids=[appraisal.member_id for appraisal in appraisals],
        lookback=scoring.rules_lookback(rules),
    )
    changed = []
    for appraisal in appraisals:
        parts = sums[appraisal.pk]
        total = scoring.quantize(totals[appraisal.pk])
        attainment = scoring.weighted_attainment(attainment_parts[appraisal.pk])
        band = scoring.grade_for(total, bands)
        outcome, basis = scoring.recommend(
            band=band,
            total=total,
            attainment=attainment,
            rules=rules,
            history=history.get(appraisal.member_id, []),
        )
        final = appraisal.final_outcome
        if not appraisal.outcome_overridden and (appraisal.reviewed_at or finalizing):
            final = outcome
        new = {
            "quantitative_score": scoring.quantize(parts[CriterionKind.QUANTITATIVE]),
            "qualitative_score": scoring.quantize(parts[CriterionKind.QUALITATIVE]),
            "total_score": total,
            "attainment": attainment,
            "rank": ranks[appraisal.pk],
            "grade": band.grade if band else None,
            "recommended_outcome": outcome,
            "recommendation_basis": basis,
            "final_outcome": final,
        }
        if any(getattr(appraisal, key) != value for key, value in new.items()):
            for key, value in new.items():
                setattr(appraisal, key, value)
            changed.append(appraisal)
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


def cycle_evaluate(cycle: AppraisalCycle, *, finalizing: bool = False) -> dict:
    """A full scoring pass over a locked, open cycle."""
    criteria = list(cycle.template.criteria.all())
    appraisals = list(
        Appraisal.objects.filter(organization_id=cycle.organization_id, cycle=cycle)
        .order_by("id")
        .values_list("id", "member_id")
    )
    scores = score_quantitative(cycle, criteria, appraisals)
    results = cycle_results(cycle, criteria, finalizing=finalizing)
    if scores or results:
        cycle.scored_at = timezone.now()
        AppraisalCycle.objects.filter(pk=cycle.pk).update(scored_at=cycle.scored_at)
    return {"scores_changed": scores, "appraisals_changed": results}
