"""What the audit trail keeps of expenses and plan tasks (agents/audit.py records it). The
services in plans/services.py call these in the transaction of the change."""

from agents.audit import audit_record, audit_record_change, audit_snapshot

from .models import Expense, PlanTask

EXPENSE_AUDIT_FIELDS = ("budget", "amount", "date", "note", "over_budget")


def expense_audit_state(expense: Expense) -> dict:
    return audit_snapshot(expense, EXPENSE_AUDIT_FIELDS)


def expense_audit(
    *, organization, actor, action: str, expense: Expense, before=None, object_id=None
) -> None:
    """Record an expense's creation, change or deletion (`before`: expense_audit_state before
    the change; a deletion passes the id the expense had). A change that changed nothing (a
    retry) records nothing."""
    audit_record_change(
        organization=organization,
        actor=actor,
        action=action,
        instance=expense,
        fields=EXPENSE_AUDIT_FIELDS,
        before=before,
        deleted=action.endswith(".delete"),
        object_id=object_id,
        context={"budget": expense.budget_id},
    )


def task_status_audit(*, organization, actor, task: PlanTask, before: str) -> None:
    """Record a task moving from status `before` to its current one (nothing when unchanged)."""
    if before == task.status:
        return
    audit_record(
        organization=organization,
        actor=actor,
        action="task.status",
        instance=task,
        changes={"status": [before, task.status]},
        context={"plan": task.plan_id, "owner": task.owner_id},
    )
