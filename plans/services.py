"""Writes about plans: the plan lifecycle, targets and their breakdown, qualitative goals, budget
lines and expenses, plan tasks. Keyword-only; each takes the organization and the acting member.

Field errors are Django ValidationErrors (400, naming the field), a missing power is Django's
PermissionDenied (403), and a write to a closed plan, or a state change that is not allowed now,
is a Conflict (409). Nothing is written when any of them is raised.
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.audit import (
    audit_entry_build,
    audit_record,
    audit_record_change,
    audit_record_many,
    audit_snapshot,
)
from agents.errors import Conflict
from agents.models import Membership, Organization, Role
from agents.products import product_check_sellable
from reports.metrics import METRICS

from . import audit
from .models import (
    BreakdownMethod,
    BudgetLine,
    Dimension,
    Expense,
    GoalStatus,
    PeriodKind,
    PlanStatus,
    PlanTask,
    QualitativeGoal,
    SalesPlan,
    Target,
    TaskStatus,
)
from .policies import OVERRUN_REFUSE, budget_overrun
from .progress import plan_snapshot_build
from .rules import can_assign, can_break_down, can_manage_for, can_write_target, in_subtree
from .vocabulary import target_quantum

ZERO = Decimal("0.00")
# The longest span of each period kind, so that a "month" plan cannot run for a year.
MAX_PERIOD_DAYS = {PeriodKind.MONTH: 31, PeriodKind.QUARTER: 92, PeriodKind.YEAR: 366}


def ensure_plan_open(plan: SalesPlan) -> None:
    if plan.status == PlanStatus.CLOSED:
        raise Conflict(_("The plan is closed: it can no longer be changed."))


def _lock_plan(plan: SalesPlan) -> SalesPlan:
    return SalesPlan.objects.select_for_update().get(pk=plan.pk)


def _apply(instance, data: dict, fields) -> None:
    for name in fields:
        if name in data:
            setattr(instance, name, data[name])


# --- Plans ------------------------------------------------------------------------------------

PLAN_FIELDS = ("name", "period_kind", "start", "end", "owner", "description")
PLAN_AUDIT_FIELDS = (*PLAN_FIELDS, "status")


def plan_audit(*, organization, actor, action, plan, before=None, deleted=False, context=None):
    """Record a plan's change in the audit trail (one INSERT): the fields `before` names (all
    audited fields for a creation)."""
    audit_record_change(
        organization=organization,
        actor=actor,
        action=action,
        instance=plan,
        fields=tuple(before or PLAN_AUDIT_FIELDS),
        before=before,
        deleted=deleted,
        context=context,
    )


def _check_plan(*, organization: Organization, plan: SalesPlan) -> None:
    if plan.end < plan.start:
        raise ValidationError({"end": _("The end must not be before the start.")})
    if (plan.end - plan.start).days + 1 > MAX_PERIOD_DAYS[plan.period_kind]:
        raise ValidationError(
            {
                "end": _("The period is longer than a %(kind)s.")
                % {"kind": plan.get_period_kind_display()}
            }
        )
    duplicates = SalesPlan.objects.filter(organization=organization, name=plan.name)
    if plan.pk:
        duplicates = duplicates.exclude(pk=plan.pk)
    if duplicates.exists():
        raise ValidationError({"name": _("A plan with this name exists.")})
    if plan.pk:
        outside = Target.objects.filter(organization=organization, plan=plan).exclude(
            start__gte=plan.start, end__lte=plan.end
        )
        if outside.exists():
            raise ValidationError(
                {"start": _("Some of the plan's targets would fall outside its period.")}
            )


@transaction.atomic
def plan_create(*, organization: Organization, actor: Membership, data: dict) -> SalesPlan:
    plan = SalesPlan(organization=organization, status=PlanStatus.DRAFT)
    _apply(plan, data, PLAN_FIELDS)
    if plan.owner_id is None:
        plan.owner = actor if actor.pk else None
    _check_plan(organization=organization, plan=plan)
    plan.save()
    plan_audit(organization=organization, actor=actor, action="plan.create", plan=plan)
    return plan


@transaction.atomic
def plan_update(
    *, organization: Organization, actor: Membership, plan: SalesPlan, data: dict
) -> SalesPlan:
    plan = _lock_plan(plan)
    ensure_plan_open(plan)
    before = audit_snapshot(plan, PLAN_AUDIT_FIELDS)
    _apply(plan, data, PLAN_FIELDS)
    _check_plan(organization=organization, plan=plan)
    plan.save()
    plan_audit(
        organization=organization, actor=actor, action="plan.update", plan=plan, before=before
    )
    return plan


@transaction.atomic
def plan_delete(*, organization: Organization, actor: Membership, plan: SalesPlan) -> None:
    plan = _lock_plan(plan)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(_("Only a draft plan can be deleted; close it instead."))
    Expense.objects.filter(organization=organization, budget__plan=plan).delete()
    before, plan_id = audit_snapshot(plan, PLAN_AUDIT_FIELDS), plan.pk
    plan.delete()
    plan.pk = plan_id  # the entry names the deleted plan
    plan_audit(
        organization=organization,
        actor=actor,
        action="plan.delete",
        plan=plan,
        before=before,
        deleted=True,
    )


@transaction.atomic
def plan_activate(*, organization: Organization, actor: Membership, plan: SalesPlan) -> SalesPlan:
    plan = _lock_plan(plan)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(_("Only a draft plan can be activated."))
    plan.status = PlanStatus.ACTIVE
    plan.activated_at = timezone.now()
    plan.save(update_fields=["status", "activated_at", "updated_at"])
    plan_audit(
        organization=organization,
        actor=actor,
        action="plan.activate",
        plan=plan,
        before={"status": PlanStatus.DRAFT},
    )
    return plan


@transaction.atomic
def plan_close(*, organization: Organization, actor: Membership, plan: SalesPlan) -> SalesPlan:
    """Close an active plan and freeze its figures: every target's actuals as of today (or the
    plan's end, when it is over) are kept in the plan's snapshot, which its progress and
    attainment answer from from now on."""
    plan = _lock_plan(plan)
    if plan.status != PlanStatus.ACTIVE:
        raise Conflict(_("Only an active plan can be closed."))
    as_of = min(organization.local_today(), plan.end)
    plan.snapshot = plan_snapshot_build(organization=organization, plan=plan, as_of=as_of)
    plan.status = PlanStatus.CLOSED
    plan.closed_at = timezone.now()
    plan.save(update_fields=["snapshot", "status", "closed_at", "updated_at"])
    plan_audit(
        organization=organization,
        actor=actor,
        action="plan.close",
        plan=plan,
        before={"status": PlanStatus.ACTIVE},
        context={"as_of": as_of},
    )
    return plan


# --- Targets ----------------------------------------------------------------------------------

SCOPE_FIELDS = ("member", "include_downline", "region", "product", "customer")
TARGET_FIELDS = ("metric", "tier", *SCOPE_FIELDS, "start", "end", "value")
TARGET_AUDIT_FIELDS = ("plan", "parent", *TARGET_FIELDS)


def check_target_value(*, metric_key: str, value: Decimal, field: str = "value") -> None:
    metric = METRICS[metric_key]
    if value < 0:
        raise ValidationError({field: _("A target cannot be negative.")})
    if value % target_quantum(metric):
        raise ValidationError({field: _("Targets of this metric are whole numbers.")})
    if metric.unit == "ratio" and value > 1:
        raise ValidationError({field: _("A ratio target is between 0 and 1.")})


def check_target_shape(*, target: Target) -> None:
    """The target on its own: a metric that supports its scope, a period inside the plan."""
    metric = METRICS.get(target.metric)
    if metric is None:
        raise ValidationError({"metric": _("Unknown metric.")})
    for dimension in ("product", "customer"):
        if getattr(target, f"{dimension}_id") is not None and not metric.supports(dimension):
            raise ValidationError(
                {
                    dimension: _("This metric cannot be measured per %(dimension)s.")
                    % {"dimension": Dimension(dimension).label}
                }
            )
    if target.end < target.start:
        raise ValidationError({"end": _("The end must not be before the start.")})
    plan = target.plan
    if target.start < plan.start or target.end > plan.end:
        raise ValidationError({"start": _("The target's period must lie inside the plan's.")})
    check_target_value(metric_key=target.metric, value=target.value)


def check_inside_parent(*, child: Target, parent: Target) -> None:
    """A child narrows its parent: same plan, metric and tier, a period inside the parent's and a
    scope inside the parent's."""
    if parent.plan_id != child.plan_id:
        raise ValidationError({"parent": _("The parent target belongs to another plan.")})
    if child.metric != parent.metric:
        raise ValidationError({"metric": _("A child target has its parent's metric.")})
    if child.tier != parent.tier:
        raise ValidationError({"tier": _("A child target has its parent's tier.")})
    if child.start < parent.start or child.end > parent.end:
        raise ValidationError({"start": _("A child target's period lies inside its parent's.")})
    if parent.member_id is not None:
        if child.member_id is None:
            raise ValidationError({"member": _("A child target keeps its parent's member.")})
        if child.member_id == parent.member_id:
            if child.include_downline and not parent.include_downline:
                raise ValidationError(
                    {"include_downline": _("The parent counts only the member's own results.")}
                )
        elif not (parent.include_downline and in_subtree(child.member, parent.member)):
            raise ValidationError({"member": _("The member is outside the parent's scope.")})
    if parent.region_id is not None and not (
        child.region_id is not None and child.region.path.startswith(parent.region.path)
    ):
        raise ValidationError({"region": _("The region is outside the parent's region.")})
    for dimension in ("product", "customer"):
        parent_id = getattr(parent, f"{dimension}_id")
        if parent_id is not None and getattr(child, f"{dimension}_id") != parent_id:
            raise ValidationError(
                {
                    dimension: _("A child target keeps its parent's %(dimension)s.")
                    % {"dimension": Dimension(dimension).label}
                }
            )


def narrowed_dimension(*, child: Target, parent: Target) -> str:
    """Which part of the parent's scope a child narrows (the period when none of the others)."""
    for dimension in ("member", "region", "product", "customer"):
        if getattr(child, f"{dimension}_id") != getattr(parent, f"{dimension}_id"):
            return dimension
    if child.include_downline != parent.include_downline:
        return Dimension.MEMBER
    return Dimension.PERIOD


def children_total(*, parent: Target, exclude_pk=None) -> Decimal:
    children = Target.objects.filter(organization_id=parent.organization_id, parent=parent)
    if exclude_pk is not None:
        children = children.exclude(pk=exclude_pk)
    return children.aggregate(total=Sum("value"))["total"] or ZERO


def _check_within_parent_value(*, target: Target, parent: Target) -> None:
    if not METRICS[parent.metric].additive:
        return
    siblings = children_total(parent=parent, exclude_pk=target.pk)
    if siblings + target.value > parent.value:
        raise ValidationError(
            {
                "value": _(
                    "The children of a target never sum above it: %(free)s of %(total)s is "
                    "still unallocated."
                )
                % {"free": parent.value - siblings, "total": parent.value}
            }
        )


def lock_target(target: Target) -> Target:
    return (
        Target.objects.select_for_update(of=("self",))
        .select_related("plan", "parent", "member", "region", "product", "customer")
        .get(pk=target.pk)
    )


@transaction.atomic
def target_create(
    *,
    organization: Organization,
    actor: Membership,
    plan: SalesPlan,
    parent: Target | None = None,
    data: dict,
) -> Target:
    ensure_plan_open(plan)
    target = Target(organization=organization, plan=plan, created_by=actor if actor.pk else None)
    if parent is not None:
        parent = lock_target(parent)
        target.parent = parent
        # What a child does not say it inherits: metric, tier, scope and period.
        for name in ("metric", "tier", *SCOPE_FIELDS, "start", "end"):
            setattr(target, name, getattr(parent, name))
        target.breakdown_method = BreakdownMethod.MANUAL
    _apply(target, data, TARGET_FIELDS)
    # A deactivated product is refused, except the one a child inherits from its parent.
    product_check_sellable(target.product, kept_ids={parent.product_id} if parent else ())
    if parent is None:
        if not can_assign(actor, target.member):
            raise PermissionDenied(
                _("You can set targets only for the members below you.")
                if actor.role == Role.LEADER
                else _("Your role does not allow this.")
            )
    else:
        if not can_break_down(actor, parent):
            raise PermissionDenied(_("You cannot break this target down."))
        if actor.role == Role.AGENT and target.member_id != actor.pk:
            raise PermissionDenied(_("Agents break down their own targets for themselves only."))
        check_inside_parent(child=target, parent=parent)
        target.breakdown_dimension = narrowed_dimension(child=target, parent=parent)
        siblings = {
            dimension
            for dimension in Target.objects.filter(
                organization=organization, parent=parent
            ).values_list("breakdown_dimension", flat=True)
            if dimension
        }
        if siblings - {target.breakdown_dimension}:
            raise ValidationError(
                {
                    "parent": _("The parent is broken down by %(dimension)s.")
                    % {"dimension": ", ".join(str(Dimension(d).label) for d in sorted(siblings))}
                }
            )
    check_target_shape(target=target)
    if parent is not None:
        _check_within_parent_value(target=target, parent=parent)
    target.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="target.create",
        instance=target,
        after=audit_snapshot(target, TARGET_AUDIT_FIELDS),
    )
    return target


def target_breakdown_audit(
    *,
    organization: Organization,
    actor: Membership,
    parent: Target,
    created: list[Target],
    context: dict,
) -> None:
    """Record a breakdown: one entry on the parent naming its new children, one per child
    created; one bulk INSERT however many children."""
    if not created:
        return
    entries = [
        audit_entry_build(
            organization=organization,
            actor=actor,
            action="target.breakdown",
            instance=parent,
            changes={"children": [None, [child.pk for child in created]]},
            context=context,
        )
    ]
    entries.extend(
        audit_entry_build(
            organization=organization,
            actor=actor,
            action="target.create",
            instance=child,
            after=audit_snapshot(child, TARGET_AUDIT_FIELDS),
            context={"breakdown_of": parent.pk, **context},
        )
        for child in created
    )
    audit_record_many(entries)


@transaction.atomic
def target_update(
    *, organization: Organization, actor: Membership, target: Target, data: dict
) -> Target:
    if target.parent_id is not None:
        # The parent first (as breakdowns and new children do): siblings changing at the same
        # time queue on it, so they cannot together sum above it.
        Target.objects.select_for_update().filter(pk=target.parent_id).first()
    target = lock_target(target)
    ensure_plan_open(target.plan)
    if not can_write_target(actor, target):
        raise PermissionDenied(_("You cannot change this target."))
    before = {name: getattr(target, name) for name in TARGET_FIELDS if name != "value"}
    audit_before = audit_snapshot(target, TARGET_AUDIT_FIELDS)
    kept_product = target.product_id  # it may keep a product deactivated since
    _apply(target, data, TARGET_FIELDS)
    product_check_sellable(target.product, kept_ids={kept_product})
    if target.parent_id is None:
        if not can_assign(actor, target.member):
            raise PermissionDenied(_("You can set targets only for the members below you."))
    else:
        check_inside_parent(child=target, parent=target.parent)
        if actor.role == Role.AGENT and target.member_id != actor.pk:
            raise PermissionDenied(_("Agents break down their own targets for themselves only."))
    check_target_shape(target=target)
    has_children = Target.objects.filter(organization=organization, parent=target).exists()
    if has_children:
        changed = [name for name, value in before.items() if getattr(target, name) != value]
        if changed:
            raise ValidationError(
                {
                    changed[0]: _(
                        "This target is broken down: only its value can change while it has "
                        "children."
                    )
                }
            )
        allocated = children_total(parent=target)
        if METRICS[target.metric].additive and target.value < allocated:
            raise ValidationError(
                {"value": _("Its children already take %(allocated)s.") % {"allocated": allocated}}
            )
    if target.parent_id is not None:
        _check_within_parent_value(target=target, parent=target.parent)
    target.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="target.update",
        instance=target,
        before=audit_before,
        after=audit_snapshot(target, TARGET_AUDIT_FIELDS),
        only_if_changed=True,
    )
    return target


@transaction.atomic
def target_delete(*, organization: Organization, actor: Membership, target: Target) -> None:
    """Delete a target with its whole breakdown below it."""
    target = lock_target(target)
    ensure_plan_open(target.plan)
    if not can_write_target(actor, target):
        raise PermissionDenied(_("You cannot change this target."))
    before = audit_snapshot(target, TARGET_AUDIT_FIELDS)
    target_id, target_repr = target.pk, str(target)
    target.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="target.delete",
        instance=target,
        object_id=target_id,
        object_repr=target_repr,
        before=before,
    )


# --- Qualitative goals --------------------------------------------------------------------------

GOAL_FIELDS = ("description", "owner", "due_on", "status", "evaluation")


def _check_goal_power(actor: Membership, owner: Membership | None) -> None:
    if not can_assign(actor, owner):
        raise PermissionDenied(_("You can set goals only for the members below you."))


@transaction.atomic
def goal_create(
    *, organization: Organization, actor: Membership, plan: SalesPlan, data: dict
) -> QualitativeGoal:
    ensure_plan_open(_lock_plan(plan))
    goal = QualitativeGoal(organization=organization, plan=plan, status=GoalStatus.OPEN)
    _apply(goal, data, GOAL_FIELDS)
    _check_goal_power(actor, goal.owner)
    goal.save()
    return goal


@transaction.atomic
def goal_update(
    *, organization: Organization, actor: Membership, goal: QualitativeGoal, data: dict
) -> QualitativeGoal:
    ensure_plan_open(_lock_plan(goal.plan))
    _check_goal_power(actor, goal.owner)
    _apply(goal, data, GOAL_FIELDS)
    _check_goal_power(actor, goal.owner)
    goal.save()
    return goal


@transaction.atomic
def goal_delete(*, organization: Organization, actor: Membership, goal: QualitativeGoal) -> None:
    ensure_plan_open(_lock_plan(goal.plan))
    _check_goal_power(actor, goal.owner)
    goal.delete()


# --- Budgets and expenses -----------------------------------------------------------------------

BUDGET_FIELDS = ("category", "member", "region", "amount", "note")


def budget_spent(*, budget: BudgetLine, exclude_pk=None) -> Decimal:
    expenses = Expense.objects.filter(organization_id=budget.organization_id, budget=budget)
    if exclude_pk is not None:
        expenses = expenses.exclude(pk=exclude_pk)
    return expenses.aggregate(total=Sum("amount"))["total"] or ZERO


def _check_budget_power(actor: Membership, member: Membership | None) -> None:
    if not can_assign(actor, member):
        raise PermissionDenied(_("You can allocate budgets only to the members below you."))


@transaction.atomic
def budget_line_create(
    *, organization: Organization, actor: Membership, plan: SalesPlan, data: dict
) -> BudgetLine:
    ensure_plan_open(_lock_plan(plan))
    budget = BudgetLine(organization=organization, plan=plan)
    _apply(budget, data, BUDGET_FIELDS)
    _check_budget_power(actor, budget.member)
    budget.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="budget.create",
        instance=budget,
        after=audit_snapshot(budget, ("plan", *BUDGET_FIELDS)),
    )
    return budget


@transaction.atomic
def budget_line_update(
    *, organization: Organization, actor: Membership, budget: BudgetLine, data: dict
) -> BudgetLine:
    budget = (
        BudgetLine.objects.select_for_update(of=("self",)).select_related("plan").get(pk=budget.pk)
    )
    ensure_plan_open(budget.plan)
    _check_budget_power(actor, budget.member)
    before = audit_snapshot(budget, BUDGET_FIELDS)
    _apply(budget, data, BUDGET_FIELDS)
    _check_budget_power(actor, budget.member)
    if budget_overrun(organization) == OVERRUN_REFUSE:
        spent = budget_spent(budget=budget)
        if budget.amount < spent:
            raise ValidationError(
                {"amount": _("%(spent)s has already been spent on this line.") % {"spent": spent}}
            )
    budget.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="budget.update",
        instance=budget,
        before=before,
        after=audit_snapshot(budget, BUDGET_FIELDS),
        only_if_changed=True,
    )
    return budget


@transaction.atomic
def budget_line_delete(
    *, organization: Organization, actor: Membership, budget: BudgetLine
) -> None:
    budget = (
        BudgetLine.objects.select_for_update(of=("self",)).select_related("plan").get(pk=budget.pk)
    )
    ensure_plan_open(budget.plan)
    _check_budget_power(actor, budget.member)
    if Expense.objects.filter(organization=organization, budget=budget).exists():
        raise Conflict(_("This budget line has expenses: delete them first."))
    before, budget_id = audit_snapshot(budget, ("plan", *BUDGET_FIELDS)), budget.pk
    budget.delete()
    audit_record(
        organization=organization,
        actor=actor,
        action="budget.delete",
        instance=budget,
        object_id=budget_id,
        before=before,
    )


def _check_expense_power(actor: Membership, budget: BudgetLine) -> None:
    """Owners and admins book on any line, leaders on the lines of their subtree (their own
    included: spending a budget does not raise it), agents on their own lines."""
    if actor.is_manager:
        return
    allowed = (
        in_subtree(budget.member, actor)
        if actor.role == Role.LEADER
        else budget.member_id == actor.pk
    )
    if not allowed:
        raise PermissionDenied(_("You cannot book expenses on this budget line."))


def _book(*, organization: Organization, expense: Expense, budget: BudgetLine) -> None:
    """Check the line's limit with the line locked: two concurrent expenses queue on the lock,
    so they cannot both pass a limit that only one of them fits."""
    spent = budget_spent(budget=budget, exclude_pk=expense.pk)
    over = spent + expense.amount > budget.amount
    if over and budget_overrun(organization) == OVERRUN_REFUSE:
        raise ValidationError(
            {
                "amount": _("This expense exceeds its budget line: %(left)s of %(amount)s is left.")
                % {"left": max(budget.amount - spent, ZERO), "amount": budget.amount}
            }
        )
    expense.over_budget = over


def _lock_budget(budget_id: int) -> BudgetLine:
    return (
        BudgetLine.objects.select_for_update(of=("self",))
        .select_related("plan", "member")
        .get(pk=budget_id)
    )


@transaction.atomic
def expense_create(
    *, organization: Organization, actor: Membership, budget: BudgetLine, data: dict
) -> Expense:
    budget = _lock_budget(budget.pk)
    ensure_plan_open(budget.plan)
    _check_expense_power(actor, budget)
    expense = Expense(
        organization=organization, budget=budget, recorded_by=actor if actor.pk else None
    )
    _apply(expense, data, ("amount", "date", "note"))
    _book(organization=organization, expense=expense, budget=budget)
    expense.save()
    audit.expense_audit(
        organization=organization, actor=actor, action="expense.create", expense=expense
    )
    return expense


@transaction.atomic
def expense_update(
    *, organization: Organization, actor: Membership, expense: Expense, data: dict
) -> Expense:
    new_budget_id = data["budget"].pk if "budget" in data else expense.budget_id
    # Lock both lines in id order so that two moves in opposite directions cannot deadlock.
    locked = {
        budget_id: _lock_budget(budget_id)
        for budget_id in sorted({expense.budget_id, new_budget_id})
    }
    old_budget, budget = locked[expense.budget_id], locked[new_budget_id]
    for line in (old_budget, budget):
        ensure_plan_open(line.plan)
        _check_expense_power(actor, line)
    before = audit.expense_audit_state(expense)
    expense.budget = budget
    _apply(expense, data, ("amount", "date", "note"))
    _book(organization=organization, expense=expense, budget=budget)
    expense.save()
    audit.expense_audit(
        organization=organization,
        actor=actor,
        action="expense.update",
        expense=expense,
        before=before,
    )
    return expense


@transaction.atomic
def expense_delete(*, organization: Organization, actor: Membership, expense: Expense) -> None:
    budget = _lock_budget(expense.budget_id)
    ensure_plan_open(budget.plan)
    _check_expense_power(actor, budget)
    before, expense_id = audit.expense_audit_state(expense), expense.pk
    expense.delete()
    audit.expense_audit(
        organization=organization,
        actor=actor,
        action="expense.delete",
        expense=expense,
        before=before,
        object_id=expense_id,
    )


# --- Tasks ------------------------------------------------------------------------------------

TASK_FIELDS = ("title", "description", "owner", "region", "place", "due_at", "status")
AGENT_TASK_FIELDS = frozenset({"status"})


def _set_task_status(task: PlanTask, status: str) -> None:
    if status == TaskStatus.DONE and task.completed_at is None:
        task.completed_at = timezone.now()
    elif status != TaskStatus.DONE:
        task.completed_at = None
    task.status = status


def _check_task_power(actor: Membership, owner: Membership | None) -> None:
    if not can_manage_for(actor, owner):
        raise PermissionDenied(_("You can give tasks only to yourself and the members below you."))


@transaction.atomic
def task_create(
    *, organization: Organization, actor: Membership, plan: SalesPlan, data: dict
) -> PlanTask:
    ensure_plan_open(_lock_plan(plan))
    task = PlanTask(organization=organization, plan=plan, created_by=actor if actor.pk else None)
    _apply(task, data, TASK_FIELDS)
    _set_task_status(task, data.get("status", TaskStatus.TODO))
    _check_task_power(actor, task.owner)
    task.save()
    return task


@transaction.atomic
def task_update(
    *, organization: Organization, actor: Membership, task: PlanTask, data: dict
) -> PlanTask:
    """Leaders and above change anything of the tasks of their subtree; the owner of a task
    moves it along (its status) and nothing else. A status change is recorded in the audit
    trail."""
    ensure_plan_open(_lock_plan(task.plan))
    status_before = task.status
    if actor.role == Role.AGENT:
        if task.owner_id != actor.pk or set(data) - AGENT_TASK_FIELDS:
            raise PermissionDenied(_("You can only change the status of your own tasks."))
    else:
        _check_task_power(actor, task.owner)
        _apply(task, data, TASK_FIELDS)
        _check_task_power(actor, task.owner)
    if "status" in data:
        _set_task_status(task, data["status"])
    task.save()
    audit.task_status_audit(organization=organization, actor=actor, task=task, before=status_before)
    return task


@transaction.atomic
def task_delete(*, organization: Organization, actor: Membership, task: PlanTask) -> None:
    ensure_plan_open(_lock_plan(task.plan))
    _check_task_power(actor, task.owner)
    task.delete()
