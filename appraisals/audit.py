"""What the audit trail keeps of appraisals (agents/audit.py records it): a template's criteria
and grades, a review's scores and results, a finalization's results per appraisal. The services
in appraisals/services.py call these in the transaction of the change."""

from decimal import Decimal

from agents.audit import (
    audit_entry_build,
    audit_record,
    audit_record_change,
    audit_record_many,
    audit_snapshot,
)

from .models import Appraisal, AppraisalCycle, AppraisalTemplate, CycleStatus


def template_criteria_state(template: AppraisalTemplate) -> list:
    """A template's criteria and grades as the audit trail keeps them (one query each)."""
    return list(
        template.criteria.order_by("order", "id").values(
            "name", "kind", "weight", "metric", "method", "params"
        )
    )


def template_grades_state(template: AppraisalTemplate) -> list:
    return list(template.grades.order_by("-min_score").values("grade", "min_score", "outcome"))


REVIEW_AUDIT_FIELDS = (
    "reviewer_comment",
    "improvement_plan",
    "final_outcome",
    "outcome_overridden",
    "qualitative_score",
    "total_score",
    "rank",
    "grade",
    "recommended_outcome",
)


def review_audit_state(appraisal: Appraisal, rows: dict, qualitative: dict) -> dict:
    """What a review's audit entry compares: the appraisal's results and each qualitative
    criterion's score and comment (by criterion name). `rows`: criterion id -> CriterionScore;
    `qualitative`: criterion id -> Criterion. No query."""
    state = audit_snapshot(appraisal, REVIEW_AUDIT_FIELDS)
    for pk, criterion in qualitative.items():
        row = rows.get(pk)
        raw = None if row is None or row.raw_value is None else Decimal(row.raw_value)
        state[f"score:{criterion.name}"] = None if raw is None else raw.quantize(Decimal("0.01"))
        state[f"comment:{criterion.name}"] = None if row is None else row.comment
    return state


FINALIZE_AUDIT_FIELDS = ("total_score", "rank", "grade", "recommended_outcome", "final_outcome")


def finalize_audit_states(cycle: AppraisalCycle) -> dict[int, dict]:
    """Every appraisal's results in one query: {appraisal id: {field: value, ...}}."""
    rows = Appraisal.objects.filter(organization_id=cycle.organization_id, cycle=cycle).values(
        "pk",
        "member_id",
        "member__user__username",
        "member__user__display_name",
        *FINALIZE_AUDIT_FIELDS,
    )
    return {row.pop("pk"): row for row in rows}


def finalize_audit(*, organization, actor, cycle, before: dict, force: bool) -> None:
    """Record the finalization: one entry for the cycle, one per appraisal with its final
    results (before -> after); one query and one bulk INSERT however many appraisals."""
    after = finalize_audit_states(cycle)
    entries = [
        audit_entry_build(
            organization=organization,
            actor=actor,
            action="appraisal_cycle.finalize",
            instance=cycle,
            changes={"status": [CycleStatus.OPEN, CycleStatus.FINALIZED]},
            context={"forced": force, "appraisals": len(after)},
        )
    ]
    for pk, state in after.items():
        old = before.get(pk, {})
        member = state["member__user__display_name"] or state["member__user__username"]
        entries.append(
            audit_entry_build(
                organization=organization,
                actor=actor,
                action="appraisal.finalize",
                object_type=Appraisal._meta.label_lower,
                object_id=pk,
                object_repr=f"{cycle} · {member}",
                # Every final result, changed by the finalization or not: the entry is the record.
                changes={name: [old.get(name), state[name]] for name in FINALIZE_AUDIT_FIELDS},
                context={"cycle": cycle.pk, "member": state["member_id"]},
            )
        )
    audit_record_many(entries)


CYCLE_AUDIT_FIELDS = ("template", "name", "start", "end", "review_deadline", "status")


def cycle_audit(
    *,
    organization,
    actor,
    action: str,
    cycle: AppraisalCycle,
    before: dict | None = None,
    deleted: bool = False,
    object_id=None,
    changes: dict | None = None,
    context: dict | None = None,
) -> None:
    """Record a cycle's creation, change, opening or deletion (one INSERT; a change that
    changed nothing records nothing). `before` is cycle_audit_state before the change; a deletion
    passes the id the cycle had; `changes` names the change itself (an opening)."""
    if changes is not None:
        audit_record(
            organization=organization,
            actor=actor,
            action=action,
            instance=cycle,
            changes=changes,
            context=context,
        )
        return
    audit_record_change(
        organization=organization,
        actor=actor,
        action=action,
        instance=cycle,
        fields=CYCLE_AUDIT_FIELDS,
        before=before,
        deleted=deleted,
        object_id=object_id,
        context=context,
    )


def cycle_audit_state(cycle: AppraisalCycle) -> dict:
    return audit_snapshot(cycle, CYCLE_AUDIT_FIELDS)
