"""Reads about plans. Every selector takes the organization and, where it matters, the viewer.

Who sees what: plans are the organization's and every member reads them. Targets, goals,
budget lines, expenses and tasks that name a member are seen by that member, their upline chain
(leaders see their subtree) and owners/admins; targets without a member (the organization's,
a region's, a product's) are the team's common goals and every member reads them. Budget lines
without a member are for owners and admins.
"""

from decimal import Decimal

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from agents.models import Membership, Organization
from agents.selectors import member_scope_q

from .models import BudgetLine, PlanStatus, SalesPlan, Target


def target_scope_q(*, viewer: Membership, prefix: str = "") -> Q:
    if viewer.is_manager:
        return Q()
    return Q(**{f"{prefix}member__isnull": True}) | member_scope_q(
        membership=viewer, prefix=f"{prefix}member__"
    )


def targets_visible(*, organization: Organization, viewer: Membership) -> QuerySet[Target]:
    return Target.objects.filter(organization=organization).filter(target_scope_q(viewer=viewer))


def budget_lines_with_spent(queryset: QuerySet[BudgetLine]) -> QuerySet[BudgetLine]:
    """Each line with `spent`, the sum of its expenses, in the same query."""
    return queryset.annotate(
        spent=Coalesce(
            Sum("expenses__amount"),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )
    )


def dashboard_targets(
    *, organization: Organization, viewer: Membership, limit: int = 50
) -> list[Target]:
    """The targets of a member's morning view, in the active plans: for owners and admins the
    organization's top-level targets; for everyone else their own top-most targets (not the
    pieces of their personal plan, which their own target already counts)."""
    targets = Target.objects.filter(
        organization=organization, plan__status=PlanStatus.ACTIVE
    ).select_related("plan", "member__user", "region", "product", "customer")
    if viewer.is_manager:
        targets = targets.filter(parent__isnull=True)
    else:
        targets = targets.filter(member=viewer).filter(
            Q(parent__isnull=True) | ~Q(parent__member=viewer)
        )
    return list(targets.order_by("plan__start", "plan_id", "start", "id")[:limit])


def active_plans(*, organization: Organization) -> QuerySet[SalesPlan]:
    return SalesPlan.objects.filter(organization=organization, status=PlanStatus.ACTIVE)
