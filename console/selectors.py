"""What the admin dashboard shows, composed from the apps' own selectors: no metric is computed
here. Numbers come from plans.progress (attainment by region and product, a target's daily
progress), plans.dashboard (month-to-date figures and pace of the top-level targets, open urgent
feedback), reports.selectors (today's missing reports) and the appraisal tables (the latest
cycle's grades).

A constant number of queries whatever the number of members: each part is one or a few
set-based queries.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from agents.models import Membership, Organization
from agents.selectors import subtree_q
from appraisals.models import Appraisal, AppraisalCycle, CycleStatus
from appraisals.selectors import appraisal_scope_q
from plans.dashboard import TargetToday, target_today, urgent_feedback
from plans.decomposition import WorkingCalendar
from plans.models import PeriodKind, PlanStatus, SalesPlan, Target, Tier
from plans.progress import AttainmentRow, Progress, attainment_rows, target_progress
from plans.selectors import dashboard_targets, targets_visible
from reports.metrics import METRIC_KEYS, METRICS
from reports.models import MarketFeedback
from reports.selectors import members_missing_report

MISSING_SHOWN = 30
URGENT_SHOWN = 10
# Shortest period first: a month's plan answers "this month" best.
_PERIOD_RANK = {PeriodKind.MONTH: 0, PeriodKind.QUARTER: 1, PeriodKind.YEAR: 2}


def dashboard_plans(*, organization: Organization) -> list[SalesPlan]:
    """The plans one may put on the dashboard: active and closed ones (drafts have no
    actuals to speak of), newest first."""
    return list(
        SalesPlan.objects.filter(organization=organization)
        .exclude(status=PlanStatus.DRAFT)
        .order_by("-start", "-id")
    )


def default_plan(plans: list[SalesPlan], *, today: dt.date) -> SalesPlan | None:
    """The active plan covering today with the shortest period (the latest start on a tie);
    else the newest active plan; else None."""
    active = [plan for plan in plans if plan.status == PlanStatus.ACTIVE]
    covering = [plan for plan in active if plan.start <= today <= plan.end]
    if covering:
        return min(
            covering, key=lambda p: (_PERIOD_RANK.get(p.period_kind, 9), -p.start.toordinal())
        )
    return active[0] if active else None


def dashboard_scope(*, organization: Organization, viewer: Membership) -> QuerySet[Target]:
    """The targets whose numbers the viewer's dashboard may show. Owners and admins: all of
    them. A leader: only the targets of their own subtree's members, never one of the whole
    organization, a region or a product without a member: their actuals count everybody, the
    other branches too."""
    targets = targets_visible(organization=organization, viewer=viewer)
    if viewer.is_manager:
        return targets
    return targets.filter(member__isnull=False).filter(subtree_q(root=viewer, prefix="member__"))


def plan_metrics(
    *, organization: Organization, plan: SalesPlan, targets: QuerySet[Target] | None = None
) -> list[str]:
    """The metrics the plan has base-tier targets for (among `targets`, default all), in the
    vocabulary's order."""
    targets = Target.objects.all() if targets is None else targets
    used = set(
        targets.filter(organization=organization, plan=plan, tier=Tier.BASE)
        .values_list("metric", flat=True)
        .distinct()
        .order_by()
    )
    return [key for key in METRIC_KEYS if key in used]


def plan_root_target(*, organization: Organization, plan: SalesPlan, metric: str) -> Target | None:
    """The plan's target for the whole organization on `metric` (base tier, no parent, no
    member/region/product/customer); None when the plan has none."""
    targets = (
        Target.objects.filter(
            organization=organization, plan=plan, metric=metric, tier=Tier.BASE, parent__isnull=True
        )
        .select_related("plan", "member__user", "region", "product", "customer")
        .order_by("start", "id")
    )
    whole = Q(member__isnull=True, region__isnull=True, product__isnull=True, customer__isnull=True)
    return targets.filter(whole).first()


def plan_target(
    *,
    organization: Organization,
    plan: SalesPlan,
    target_id: int,
    targets: QuerySet[Target] | None = None,
) -> Target | None:
    """One target of the plan, chosen by id among `targets` (default all); None when it is not
    the plan's or not among them."""
    targets = Target.objects.all() if targets is None else targets
    return (
        targets.filter(organization=organization, plan=plan, pk=target_id)
        .select_related("plan", "member__user", "region", "product", "customer")
        .first()
    )


@dataclass
class GradeDistribution:
    cycle: AppraisalCycle
    bins: list[tuple[str, int]]  # (grade, number of appraisals), best grade first
    ungraded: int
    total: int


def grade_distribution(
    *, organization: Organization, viewer: Membership | None = None
) -> GradeDistribution | None:
    """The grades of the latest appraisal cycle that is open or finalized (the latest end, then
    the latest created), counting the appraisals the viewer may see (default: all). Three
    queries; None without such a cycle."""
    cycle = (
        AppraisalCycle.objects.filter(organization=organization)
        .exclude(status=CycleStatus.DRAFT)
        .select_related("template")
        .order_by("-end", "-id")
        .first()
    )
    if cycle is None:
        return None
    grades = list(cycle.template.grades.order_by("-min_score").values_list("grade", flat=True))
    appraisals = Appraisal.objects.filter(organization=organization, cycle=cycle)
    if viewer is not None:
        appraisals = appraisals.filter(appraisal_scope_q(membership=viewer))
    counts = dict(appraisals.values_list("grade").annotate(n=Count("id")).order_by())
    ungraded = counts.pop(None, 0)
    # A grade no longer in the template (edited bands) still counts, after the known ones.
    names = grades + sorted(name for name in counts if name not in grades)
    bins = [(name, counts.get(name, 0)) for name in names]
    return GradeDistribution(
        cycle=cycle, bins=bins, ungraded=ungraded, total=ungraded + sum(counts.values())
    )


@dataclass
class AdminDashboard:
    organization: Organization
    today: dt.date
    plans: list[SalesPlan]
    plan: SalesPlan | None
    metrics: list[str]
    metric: str | None
    pace: list[TargetToday] = field(default_factory=list)
    # A leader's dashboard: their team's members instead of the organization's regions and
    # products.
    team: list[AttainmentRow] = field(default_factory=list)
    regions: list[AttainmentRow] = field(default_factory=list)
    products: list[AttainmentRow] = field(default_factory=list)
    progress: Progress | None = None
    missing_count: int = 0
    missing: list[Membership] = field(default_factory=list)
    urgent: list[MarketFeedback] = field(default_factory=list)
    grades: GradeDistribution | None = None


def plan_pace(
    *, organization: Organization, viewer: Membership, plan: SalesPlan, today: dt.date
) -> list[TargetToday]:
    """Month-to-date target, actual and pace of the plan's top-level targets, as the morning
    view (`P/dashboard/today/`) computes them. Only an active plan has a pace."""
    targets = [
        target
        for target in dashboard_targets(organization=organization, viewer=viewer)
        if target.plan_id == plan.pk
    ]
    if not targets:
        return []
    calendar = WorkingCalendar.load(
        organization=organization,
        start=min(target.start for target in targets),
        end=max(target.end for target in targets),
    )
    return [
        target_today(organization=organization, target=target, today=today, calendar=calendar)
        for target in targets
    ]


def admin_dashboard(
    *,
    organization: Organization,
    viewer: Membership,
    plan: SalesPlan | None = None,
    metric: str | None = None,
    target: Target | None = None,
    plans: list[SalesPlan] | None = None,
) -> AdminDashboard:
    """Everything the admin dashboard draws for one organization, as far as the viewer sees it
    (`dashboard_scope`). `plan` and `metric` default to `default_plan` and the plan's first
    metric (sales amount when it has one). The line chart follows `target` (one of the plan's,
    its metric then rules) or else the plan's organization-wide target on the metric (for a
    leader: their own top-most target on it). A leader gets their team's members' attainment
    instead of the organization's regions and products."""
    today = organization.local_today()
    plans = dashboard_plans(organization=organization) if plans is None else plans
    plan = plan or default_plan(plans, today=today)
    missing = members_missing_report(organization=organization, viewer=viewer, day=today)
    board = AdminDashboard(
        organization=organization,
        today=today,
        plans=plans,
        plan=plan,
        metrics=[],
        metric=None,
        missing=list(missing[:MISSING_SHOWN]),
        urgent=list(urgent_feedback(organization=organization, viewer=viewer, limit=URGENT_SHOWN)),
        grades=grade_distribution(
            organization=organization, viewer=None if viewer.is_manager else viewer
        ),
    )
    board.missing_count = (
        len(board.missing) if len(board.missing) < MISSING_SHOWN else missing.count()
    )
    if plan is None:
        return board
    visible = dashboard_scope(organization=organization, viewer=viewer)
    board.metrics = plan_metrics(organization=organization, plan=plan, targets=visible)
    if target is not None:
        metric = target.metric
    if metric not in board.metrics:
        metric = (
            "sales_amount" if "sales_amount" in board.metrics else next(iter(board.metrics), None)
        )
    board.metric = metric
    board.pace = plan_pace(organization=organization, viewer=viewer, plan=plan, today=today)
    if metric is None:
        return board
    groups = (("region", "regions"), ("product", "products"))
    if not viewer.is_manager:
        groups = (("member", "team"),)
    for group_by, name in groups:
        if not METRICS[metric].supports(group_by):
            continue
        rows = attainment_rows(
            organization=organization,
            targets=visible,
            plan=plan,
            metric_key=metric,
            group_by=group_by,
            tier=Tier.BASE,
        )
        setattr(board, name, rows)
    if target is not None:
        root = target
    elif viewer.is_manager:
        root = plan_root_target(organization=organization, plan=plan, metric=metric)
    else:
        root = next(
            (
                row.target
                for row in board.pace
                if row.target.metric == metric and row.target.plan_id == plan.pk
            ),
            None,
        )
    if root is not None:
        board.progress = target_progress(organization=organization, target=root)
    return board
