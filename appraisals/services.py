"""Writes for appraisals: templates, cycles (open, score, finalize), reviews, acknowledgements and
the outcomes an appraisal leads to. Keyword-only, typed; each takes the organization and the
acting member where it matters.

Scoring is set-based (see `appraisal_cycle_score`): a fixed number of queries for a whole cycle,
then bulk upserts of only what changed, so a re-run over unchanged facts writes nothing.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agents.audit import audit_entry_build, audit_record, audit_record_many, audit_snapshot
from agents.errors import Conflict
from agents.models import AgentLevel, Membership, MemberStatus, Organization
from agents.permissions import MANAGERS

from . import audit, evaluation, scoring, selectors
from .models import (
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    Criterion,
    CriterionKind,
    CriterionScore,
    CycleStatus,
    GradeBand,
    Outcome,
    OutcomeAudit,
)
from .rules import criteria_ids_check, cycle_period_check, draft_cycles_fit_check

# --- Templates -----------------------------------------------------------------------------------

TEMPLATE_FIELDS = ("name", "description", "period_kind", "eligibility", "rules")
CRITERION_FIELDS = ("name", "kind", "metric", "weight", "method", "params", "order")


def template_parts_validate(*, criteria: list[dict], grades: list[dict], rules: list) -> dict:
    """The rules a whole template must keep, for the API and for any other caller (field ->
    messages; empty when valid): at least one criterion, weights summing to exactly 100, distinct
    criterion names, grades with distinct names and minimums, rules naming known grades."""
    errors: dict[str, list] = {}
    if not criteria:
        errors["criteria"] = [_("A template needs at least one criterion.")]
    else:
        message = scoring.weights_error(item["weight"] for item in criteria)
        if message:
            errors["criteria"] = [message]
        names = [item["name"] for item in criteria]
        if len(set(names)) != len(names):
            errors.setdefault("criteria", []).append(_("Criterion names must be distinct."))
        for item in criteria:
            if "kind" not in item:
                continue  # only names and weights given (the stored criteria, already valid)
            problems = scoring.validate_criterion(
                kind=item["kind"],
                method=item["method"],
                metric=item.get("metric") or "",
                metric_keys=selectors.metric_keys(),
            )
            try:
                item["params"] = scoring.validate_params(item["method"], item.get("params"))
            except ValidationError as exc:
                problems["params"] = exc.messages
            for field, messages in problems.items():
                errors.setdefault("criteria", []).extend(
                    f"{item['name']}: {field}: {message}" for message in messages
                )
    if not grades:
        errors["grades"] = [_("A template needs at least one grade.")]
    else:
        names = [item["grade"] for item in grades]
        minimums = [Decimal(item["min_score"]) for item in grades]
        if len(set(names)) != len(names):
            errors.setdefault("grades", []).append(_("Grades must be distinct."))
        if len(set(minimums)) != len(minimums):
            errors.setdefault("grades", []).append(
                _("Each grade needs its own minimum score (min_score).")
            )
    try:
        scoring.validate_rules(rules, grades={item["grade"] for item in grades})
    except ValidationError as exc:
        errors["rules"] = exc.messages
    return errors


def _template_in_use(template: AppraisalTemplate) -> bool:
    return template.cycles.exclude(status=CycleStatus.DRAFT).exists()


def _criteria_replace(template: AppraisalTemplate, items: list[dict]) -> None:
    """Make the template's criteria what `items` says: items with the id of an existing criterion
    change it, items without an id are added, criteria not named are removed."""
    existing = {criterion.pk: criterion for criterion in template.criteria.all()}
    keep = {item["id"] for item in items if item.get("id") in existing}
    Criterion.objects.filter(template=template).exclude(pk__in=keep).delete()
    changed, added = [], []
    for position, item in enumerate(items):
        values = {key: item[key] for key in CRITERION_FIELDS if key in item}
        values.setdefault("order", position)
        values.setdefault("metric", "")
        values.setdefault("params", {})
        criterion = existing.get(item.get("id")) if item.get("id") in keep else None
        if criterion is None:
            added.append(
                Criterion(organization_id=template.organization_id, template=template, **values)
            )
        else:
            for key, value in values.items():
                setattr(criterion, key, value)
            changed.append(criterion)
    if changed:
        Criterion.objects.bulk_update(changed, list(CRITERION_FIELDS))
    Criterion.objects.bulk_create(added)


def _grades_replace(template: AppraisalTemplate, items: list[dict]) -> None:
    GradeBand.objects.filter(template=template).delete()
    GradeBand.objects.bulk_create(
        GradeBand(
            organization_id=template.organization_id,
            template=template,
            grade=item["grade"],
            min_score=item["min_score"],
            outcome=item["outcome"],
        )
        for item in items
    )


def _check_template_name(*, organization: Organization, name: str, pk=None) -> None:
    taken = AppraisalTemplate.objects.filter(organization=organization, name=name).exclude(pk=pk)
    if taken.exists():
        raise ValidationError({"name": _("A template with this name exists.")})


@transaction.atomic
def appraisal_template_create(
    *, organization: Organization, actor: Membership | None, data: dict
) -> AppraisalTemplate:
    data = dict(data)
    criteria, grades = data.pop("criteria", []), data.pop("grades", [])
    errors = template_parts_validate(criteria=criteria, grades=grades, rules=data.get("rules", []))
    if errors:
        raise ValidationError(errors)
    _check_template_name(organization=organization, name=data["name"])
    template = AppraisalTemplate.objects.create(
        organization=organization, **{key: data[key] for key in TEMPLATE_FIELDS if key in data}
    )
    _criteria_replace(template, criteria)
    _grades_replace(template, grades)
    audit_record(
        organization=organization,
        actor=actor,
        action="appraisal_template.create",
        instance=template,
        after={
            **audit_snapshot(template, TEMPLATE_FIELDS),
            "criteria": audit.template_criteria_state(template),
            "grades": audit.template_grades_state(template),
        },
    )
    return template


@transaction.atomic
def appraisal_template_update(
    *,
    organization: Organization,
    actor: Membership | None,
    template: AppraisalTemplate,
    data: dict,
) -> AppraisalTemplate:
    """Change a template. Its criteria, grades and period kind are fixed once a cycle of it has
    been opened (the appraisals were scored against them): 409; make a new template instead.
    Name, description, eligibility (used when a cycle opens) and rules may still change."""
    data = dict(data)
    template = AppraisalTemplate.objects.select_for_update().get(pk=template.pk)
    criteria, grades = data.pop("criteria", None), data.pop("grades", None)
    structural = (
        criteria is not None
        or grades is not None
        or data.get("period_kind", template.period_kind) != template.period_kind
    )
    if structural and _template_in_use(template):
        raise Conflict(
            _(
                "This template's criteria, grades and period are in use by an opened cycle and "
                "cannot change; create a new template instead."
            )
        )
    if criteria is None:
        criteria = list(template.criteria.values(*CRITERION_FIELDS, "id"))
    else:
        criteria_ids_check(template=template, items=criteria)
    if data.get("period_kind", template.period_kind) != template.period_kind:
        draft_cycles_fit_check(template=template, period_kind=data["period_kind"])
    if grades is None:
        grades = list(template.grades.values("grade", "min_score", "outcome"))
    errors = template_parts_validate(
        criteria=criteria, grades=grades, rules=data.get("rules", template.rules)
    )
    if errors:
        raise ValidationError(errors)
    if "name" in data:
        _check_template_name(organization=organization, name=data["name"], pk=template.pk)
    before = audit_snapshot(template, TEMPLATE_FIELDS)
    if structural:
        before["criteria"] = audit.template_criteria_state(template)
        before["grades"] = audit.template_grades_state(template)
    for key in TEMPLATE_FIELDS:
        if key in data:
            setattr(template, key, data[key])
    template.save()
    if structural:
        _criteria_replace(template, criteria)
        _grades_replace(template, grades)
    after = audit_snapshot(template, TEMPLATE_FIELDS)
    if structural:
        after["criteria"] = audit.template_criteria_state(template)
        after["grades"] = audit.template_grades_state(template)
    audit_record(
        organization=organization,
        actor=actor,
        action="appraisal_template.update",
        instance=template,
        before=before,
        after=after,
        only_if_changed=True,
    )
    return template


@transaction.atomic
def appraisal_template_delete(
    *, organization: Organization, actor: Membership | None, template: AppraisalTemplate
) -> None:
    """Delete a template no cycle uses (one that is used is protected: 409), and record it."""
    before = audit_snapshot(template, TEMPLATE_FIELDS)
    template_id, template_repr = template.pk, str(template)
    template.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="appraisal_template.delete",
        instance=template,
        object_id=template_id,
        object_repr=template_repr,
        before=before,
    )


# --- Cycles --------------------------------------------------------------------------------------


def _lock_cycle(cycle: AppraisalCycle) -> AppraisalCycle:
    """Re-read the cycle under a row lock: state changes of one cycle (open, score, review,
    finalize) run one at a time (a no-op on SQLite, which serializes writers anyway)."""
    return (
        AppraisalCycle.objects.select_for_update(of=("self",))
        .select_related("organization", "template")
        .get(pk=cycle.pk)
    )


def _refuse_if_finalized(cycle: AppraisalCycle) -> None:
    if cycle.status == CycleStatus.FINALIZED:
        raise Conflict(_("The cycle is finalized: it and its appraisals are read-only."))


def _check_cycle_period(
    *,
    organization: Organization,
    template: AppraisalTemplate,
    start: dt.date,
    end: dt.date,
    review_deadline: dt.date | None,
    pk=None,
    period_changed: bool = True,
) -> None:
    if end < start:
        raise ValidationError({"end": _("The end must not be before the start.")})
    if period_changed:
        # Checked only when the period or template changes: a cycle made before the rule keeps
        # its name and deadline editable.
        cycle_period_check(period_kind=template.period_kind, start=start, end=end)
    if review_deadline is not None and review_deadline < start:
        raise ValidationError(
            {"review_deadline": _("The review deadline must not be before the start.")}
        )
    overlapping = AppraisalCycle.objects.filter(
        organization=organization, template=template, start__lte=end, end__gte=start
    ).exclude(pk=pk)
    if overlapping.exists():
        raise ValidationError({"start": _("Another cycle of this template overlaps this period.")})


@transaction.atomic
def appraisal_cycle_create(
    *, organization: Organization, actor: Membership | None, data: dict
) -> AppraisalCycle:
    template = data["template"]
    if template.organization_id != organization.pk:
        raise ValidationError({"template": _("Unknown template.")})
    _check_cycle_period(
        organization=organization,
        template=template,
        start=data["start"],
        end=data["end"],
        review_deadline=data.get("review_deadline"),
    )
    cycle = AppraisalCycle.objects.create(
        organization=organization,
        template=template,
        name=data.get("name", ""),
        start=data["start"],
        end=data["end"],
        review_deadline=data.get("review_deadline"),
    )
    audit.cycle_audit(
        organization=organization, actor=actor, action="appraisal_cycle.create", cycle=cycle
    )
    return cycle


@transaction.atomic
def appraisal_cycle_update(
    *, organization: Organization, actor: Membership | None, cycle: AppraisalCycle, data: dict
) -> AppraisalCycle:
    """A draft cycle may change anything; an open one only its name and review deadline (its
    appraisals exist for this template and period); a finalized one nothing (409)."""
    cycle = _lock_cycle(cycle)
    _refuse_if_finalized(cycle)
    fixed = {"template", "start", "end"} & set(data)
    if cycle.status == CycleStatus.OPEN and any(data[key] != getattr(cycle, key) for key in fixed):
        raise Conflict(_("An open cycle keeps its template and period."))
    template = data.get("template", cycle.template)
    if template.organization_id != organization.pk:
        raise ValidationError({"template": _("Unknown template.")})
    _check_cycle_period(
        organization=organization,
        template=template,
        start=data.get("start", cycle.start),
        end=data.get("end", cycle.end),
        review_deadline=data.get("review_deadline", cycle.review_deadline),
        pk=cycle.pk,
        period_changed=any(data[key] != getattr(cycle, key) for key in fixed),
    )
    before = audit.cycle_audit_state(cycle)
    for key in ("template", "name", "start", "end", "review_deadline"):
        if key in data:
            setattr(cycle, key, data[key])
    cycle.save()
    audit.cycle_audit(
        organization=organization,
        actor=actor,
        action="appraisal_cycle.update",
        cycle=cycle,
        before=before,
    )
    return cycle


@transaction.atomic
def appraisal_cycle_delete(
    *, organization: Organization, actor: Membership | None, cycle: AppraisalCycle
) -> None:
    cycle = _lock_cycle(cycle)
    if cycle.status != CycleStatus.DRAFT:
        raise Conflict(_("Only a draft cycle can be deleted."))
    before, cycle_id = audit.cycle_audit_state(cycle), cycle.pk
    cycle.delete()
    audit.cycle_audit(
        organization=organization,
        actor=actor,
        action="appraisal_cycle.delete",
        cycle=cycle,
        before=before,
        deleted=True,
        object_id=cycle_id,
    )


@transaction.atomic
def appraisal_cycle_open(
    *, organization: Organization, actor: Membership | None, cycle: AppraisalCycle
) -> AppraisalCycle:
    """draft -> open: one appraisal per eligible member (with the reviewer: the nearest upline
    leader, admin or owner; else an owner), created in one bulk insert, then a first scoring
    pass. The qualitative scores are created empty, for the reviewer."""
    cycle = _lock_cycle(cycle)
    if cycle.status != CycleStatus.DRAFT:
        raise Conflict(_("Only a draft cycle can be opened."))
    members = list(
        selectors.eligible_members(cycle=cycle).only("id", "path", "region_id", "level_id")
    )
    reviewers = selectors.reviewer_map(organization=cycle.organization, members=members)
    appraisals = Appraisal.objects.bulk_create(
        Appraisal(
            organization_id=cycle.organization_id,
            cycle=cycle,
            member_id=member.pk,
            reviewer_id=reviewers.get(member.pk),
            region_id=member.region_id,
            level_id=member.level_id,
        )
        for member in members
    )
    qualitative = list(cycle.template.criteria.filter(kind=CriterionKind.QUALITATIVE))
    CriterionScore.objects.bulk_create(
        CriterionScore(
            organization_id=cycle.organization_id, appraisal=appraisal, criterion=criterion
        )
        for appraisal in appraisals
        for criterion in qualitative
    )
    cycle.status = CycleStatus.OPEN
    cycle.opened_at = timezone.now()
    cycle.save(update_fields=["status", "opened_at"])
    audit.cycle_audit(
        organization=organization,
        actor=actor,
        action="appraisal_cycle.open",
        cycle=cycle,
        changes={"status": [CycleStatus.DRAFT, CycleStatus.OPEN]},
        context={"appraisals": len(appraisals)},
    )
    evaluation.cycle_evaluate(cycle)
    return cycle


# --- Scoring (set-based: appraisals/evaluation.py) -------------------------------------------


def appraisal_cycle_score(*, cycle: AppraisalCycle) -> dict:
    """Recompute the quantitative scores of an open cycle from the current facts and targets,
    then every appraisal's totals, rank, grade and recommended outcome. Set-based: the number of
    queries does not depend on the number of members. Re-running over unchanged facts writes
    nothing. Returns {"scores_changed": n, "appraisals_changed": n}. The nightly job calls this
    for every open cycle; a cycle that is not open is a Conflict.

    Called outside a transaction (the job, the API), the members' own facts are read on a
    second connection while this one reads the stored scores and targets (OwnFactsAhead)."""
    ahead = None
    if cycle.status == CycleStatus.OPEN:
        ahead = selectors.OwnFactsAhead.start(
            cycle=cycle, metrics=evaluation.quantitative_metrics(cycle)
        )
    try:
        with transaction.atomic():
            cycle = _lock_cycle(cycle)
            if cycle.status != CycleStatus.OPEN:
                raise Conflict(_("Only an open cycle is scored."))
            return evaluation.cycle_evaluate(cycle, ahead=ahead)
    except BaseException:
        if ahead is not None:
            ahead.discard()  # the thread finishes on its own, its answer unused
        raise


# --- Reviews -------------------------------------------------------------------------------------


def appraisal_review_ensure_open(*, appraisal: Appraisal) -> None:
    """409 unless the appraisal's cycle is open (checked again under the lock by the review)."""
    _refuse_if_finalized(appraisal.cycle)
    if appraisal.cycle.status != CycleStatus.OPEN:
        raise Conflict(_("The cycle is not open."))


def appraisal_may_review(*, actor: Membership, appraisal: Appraisal) -> bool:
    """The assigned reviewer, anyone above the member in the hierarchy, or an owner or admin;
    never the member themself."""
    if appraisal.member_id == actor.pk:
        return False
    if actor.role in MANAGERS or appraisal.reviewer_id == actor.pk:
        return True
    return bool(actor.path) and appraisal.member.path.startswith(actor.path)


@transaction.atomic
def appraisal_review(
    *,
    organization: Organization,
    actor: Membership,
    appraisal: Appraisal,
    scores: list[dict],
    comment: str | None = None,
    improvement_plan: str | None = None,
    final_outcome: str | None = None,
) -> Appraisal:
    """The reviewer's part: qualitative scores (criterion id, score on the criterion's scale,
    optional comment), a comment, an improvement plan and the final outcome (by default the
    recommended one, following it while the facts move). After the review every qualitative
    criterion has a score. A second review changes what it names."""
    cycle = _lock_cycle(appraisal.cycle)
    appraisal = Appraisal.objects.select_related("member__user").get(pk=appraisal.pk)
    appraisal.cycle = cycle
    appraisal_review_ensure_open(appraisal=appraisal)
    if appraisal.member_id == actor.pk:
        raise PermissionDenied(_("Nobody reviews their own appraisal."))
    if not appraisal_may_review(actor=actor, appraisal=appraisal):
        raise PermissionDenied(_("Only the member's leaders or an administrator review them."))
    criteria = list(cycle.template.criteria.all())
    qualitative = {c.pk: c for c in criteria if c.kind == CriterionKind.QUALITATIVE}
    current = {
        row.criterion_id: row
        for row in CriterionScore.objects.filter(appraisal=appraisal, criterion__in=qualitative)
    }
    before = audit.review_audit_state(appraisal, current, qualitative)
    rows = []
    for item in scores:
        criterion = qualitative.get(item["criterion"])
        if criterion is None:
            raise ValidationError({"scores": _("Only qualitative criteria are scored here.")})
        levels = criterion.params.get("levels", 5)
        if not 1 <= item["score"] <= levels:
            raise ValidationError({"scores": _("A score is outside its criterion's scale.")})
        score = scoring.score_scale(item["score"], levels=levels)
        row = current.get(criterion.pk) or CriterionScore(
            organization_id=organization.pk, appraisal=appraisal, criterion=criterion
        )
        row.raw_value = Decimal(item["score"])
        row.score = score
        row.weighted_score = scoring.weighted(score, criterion.weight)
        row.comment = item.get("comment", row.comment)
        rows.append(row)
        current[criterion.pk] = row
    missing = [
        c.name for pk, c in qualitative.items() if pk not in current or current[pk].score is None
    ]
    if missing:
        raise ValidationError(
            {"scores": _("Missing scores for: %(names)s.") % {"names": ", ".join(missing)}}
        )
    evaluation.scores_upsert(rows)
    if comment is not None:
        appraisal.reviewer_comment = comment
    if improvement_plan is not None:
        appraisal.improvement_plan = improvement_plan
    if final_outcome is not None:
        appraisal.final_outcome = final_outcome
        appraisal.outcome_overridden = True
    elif not appraisal.outcome_overridden:
        appraisal.final_outcome = appraisal.recommended_outcome
    appraisal.reviewed_at = timezone.now()
    appraisal.reviewed_by = actor
    appraisal.save(
        update_fields=[
            "reviewer_comment",
            "improvement_plan",
            "final_outcome",
            "outcome_overridden",
            "reviewed_at",
            "reviewed_by",
        ]
    )
    evaluation.cycle_results(cycle, criteria)
    appraisal.refresh_from_db()
    audit_record(
        organization=organization,
        actor=actor,
        action="appraisal.review",
        instance=appraisal,
        object_repr=f"{cycle} · {appraisal.member}",
        before=before,
        after=audit.review_audit_state(appraisal, current, qualitative),
        context={"cycle": cycle.pk, "member": appraisal.member_id},
    )
    return appraisal


# --- Finalization and outcomes -------------------------------------------------------------------


@transaction.atomic
def appraisal_cycle_finalize(
    *,
    organization: Organization,
    actor: Membership | None,
    cycle: AppraisalCycle,
    force: bool = False,
) -> AppraisalCycle:
    """open -> finalized. Refused (409, listing them) while appraisals are not reviewed, unless
    an owner or admin forces it. Scores the facts one last time, fixes totals, ranks, grades and
    outcomes (an unreviewed appraisal takes its recommended outcome), locks the cycle, and
    applies the outcomes. Retrying is harmless: a finalized cycle is answered as it is, and
    each appraisal's outcome is applied exactly once (under the cycle's row lock, marked by
    `outcome_applied_at`, and guarded by the audit's unique constraint)."""
    cycle = _lock_cycle(cycle)
    if cycle.status == CycleStatus.FINALIZED:
        appraisal_outcomes_apply(cycle=cycle, actor=actor)
        return cycle
    if cycle.status != CycleStatus.OPEN:
        raise Conflict(_("Open the cycle before finalizing it."))
    missing = selectors.missing_reviews(cycle=cycle)
    if missing:
        if not force:
            raise Conflict(
                ngettext(
                    "%(count)d appraisal has not been reviewed yet.",
                    "%(count)d appraisals have not been reviewed yet.",
                    len(missing),
                )
                % {"count": len(missing)},
                details={"missing_reviews": missing},
            )
        if actor is not None and actor.role not in MANAGERS:
            raise PermissionDenied(_("Only an owner or administrator can force finalization."))
    results_before = audit.finalize_audit_states(cycle)
    evaluation.cycle_evaluate(cycle, finalizing=True)
    cycle.status = CycleStatus.FINALIZED
    cycle.finalized_at = timezone.now()
    cycle.finalized_by = actor if actor is not None and actor.pk else None
    cycle.save(update_fields=["status", "finalized_at", "finalized_by"])
    audit.finalize_audit(
        organization=organization,
        actor=actor,
        cycle=cycle,
        before=results_before,
        force=bool(missing),
    )
    appraisal_outcomes_apply(cycle=cycle, actor=actor)
    return cycle


def _member_state(member: Membership, levels: dict[int, AgentLevel]) -> dict:
    level = levels.get(member.level_id)
    return {
        "level": member.level_id,
        "level_name": level.name if level else None,
        "level_rank": level.rank if level else None,
        "status": member.status,
    }


def appraisal_outcomes_apply(*, cycle: AppraisalCycle, actor: Membership | None) -> int:
    """Apply the final outcomes of a finalized cycle that have not been applied yet, and record
    each in an OutcomeAudit row (who, when, before, after). Set-based, like scoring: one UPDATE
    per level members move to, one for status changes, one bulk insert of audit rows.

    - promote: the next level by rank (a member without a level gets the lowest one);
    - demote: the previous level by rank;
    - eliminate: status "suspended" (not "left"): the member can still sign in and read their
      appraisal, nothing of theirs is detached from the hierarchy, and an owner or admin
      completes the departure (status "left") or reverses it. Owners and admins are never
      suspended by an appraisal, so the organization keeps its owners;
    - reward, retain, warn: recorded, nothing changes.
    A change that cannot happen (no higher or lower level) is recorded with a note.
    Must run inside the transaction that holds the cycle's row lock."""
    if cycle.status != CycleStatus.FINALIZED:
        raise Conflict(_("Outcomes are applied when the cycle is finalized."))
    pending = list(
        Appraisal.objects.filter(
            organization_id=cycle.organization_id, cycle=cycle, outcome_applied_at__isnull=True
        ).select_related("member__user")
    )
    if not pending:
        return 0
    ladder = list(AgentLevel.objects.filter(organization_id=cycle.organization_id).order_by("rank"))
    levels = {level.pk: level for level in ladder}
    now = timezone.now()
    level_moves: dict[int, list[int]] = defaultdict(list)
    suspended: list[int] = []
    audits, member_entries = [], []
    for appraisal in pending:
        member = appraisal.member
        outcome = appraisal.final_outcome or appraisal.recommended_outcome or Outcome.RETAIN
        before = _member_state(member, levels)
        note = ""
        current = levels.get(member.level_id)
        if outcome == Outcome.PROMOTE:
            higher = [level for level in ladder if current is None or level.rank > current.rank]
            if higher:
                member.level_id = higher[0].pk
                level_moves[higher[0].pk].append(member.pk)
            else:
                note = "no_higher_level"
        elif outcome == Outcome.DEMOTE:
            lower = [level for level in ladder if current is not None and level.rank < current.rank]
            if lower:
                member.level_id = lower[-1].pk
                level_moves[lower[-1].pk].append(member.pk)
            else:
                note = "no_lower_level"
        elif outcome == Outcome.ELIMINATE:
            if member.role in MANAGERS:
                note = "managers_are_not_suspended"
            elif member.status in (MemberStatus.SUSPENDED, MemberStatus.LEFT):
                note = "already_inactive"
            else:
                member.status = MemberStatus.SUSPENDED
                suspended.append(member.pk)
        audits.append(
            OutcomeAudit(
                organization_id=cycle.organization_id,
                appraisal=appraisal,
                cycle=cycle,
                member_id=member.pk,
                outcome=outcome,
                actor=actor if actor is not None and actor.pk else None,
                applied_at=now,
                before=before,
                after=_member_state(member, levels),
                note=note,
            )
        )
        if audits[-1].after != before:
            member_entries.append(
                audit_entry_build(
                    organization=cycle.organization_id,
                    actor=actor,
                    action="member.update",
                    instance=member,
                    before={"level": before["level"], "status": before["status"]},
                    after={"level": member.level_id, "status": member.status},
                    context={"cycle": cycle.pk, "appraisal": appraisal.pk, "outcome": outcome},
                    created_at=now,
                )
            )
    organization_members = Membership.objects.filter(organization_id=cycle.organization_id)
    for level_id, member_ids in level_moves.items():
        organization_members.filter(pk__in=member_ids).update(level_id=level_id, updated_at=now)
    if suspended:
        organization_members.filter(pk__in=suspended).update(
            status=MemberStatus.SUSPENDED, updated_at=now
        )
    OutcomeAudit.objects.bulk_create(audits)
    audit_record_many(member_entries)
    Appraisal.objects.filter(pk__in=[appraisal.pk for appraisal in pending]).update(
        outcome_applied_at=now
    )
    return len(pending)


# --- Acknowledgement -----------------------------------------------------------------------------


@transaction.atomic
def appraisal_acknowledge(
    *, organization: Organization, actor: Membership, appraisal: Appraisal, comment: str = ""
) -> Appraisal:
    """The appraised member confirms having read their final appraisal, once, optionally with a
    comment. This is the one write a finalized cycle accepts: it records the member's receipt
    and changes nothing of the appraisal itself."""
    appraisal = (
        Appraisal.objects.select_for_update(of=("self",))
        .select_related("cycle__template")
        .get(pk=appraisal.pk)
    )
    if appraisal.member_id != actor.pk:
        raise PermissionDenied(_("Only the appraised member acknowledges their appraisal."))
    if appraisal.cycle.status != CycleStatus.FINALIZED:
        raise Conflict(_("The appraisal is not final yet: it can be acknowledged once finalized."))
    if appraisal.acknowledged_at is not None:
        raise Conflict(_("This appraisal has already been acknowledged."))
    appraisal.acknowledged_at = timezone.now()
    appraisal.acknowledgement_comment = comment
    appraisal.save(update_fields=["acknowledged_at", "acknowledgement_comment"])
    audit_record(
        organization=organization,
        actor=actor,
        action="appraisal.acknowledge",
        instance=appraisal,
        object_repr=f"{appraisal.cycle} · {actor}",
        changes={
            "acknowledged_at": [None, appraisal.acknowledged_at],
            "acknowledgement_comment": [None, comment],
        },
        context={"cycle": appraisal.cycle_id, "member": appraisal.member_id},
    )
    return appraisal
