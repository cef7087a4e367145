"""The morning view: "is today on target?" for the caller's scope.

Today's and month-to-date target against actual with the month's pace for the caller's targets
(owners and admins: the organization's top-level targets of active plans), the members in scope
who have not filed today's report, open urgent market feedback in scope, and appraisal reviews
waiting for the caller.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from agents.models import Membership, Organization
from reports.metrics import METRICS, metric_actuals
from reports.models import FeedbackStatus, MarketFeedback, Urgency
from reports.selectors import feedback_scope_q, members_missing_report

from .decomposition import WorkingCalendar, daily_targets, weekday_weights
from .models import Target
from .policies import pace_thresholds
from .progress import attainment_ratio, pace_of, target_scope
from .selectors import dashboard_targets

ZERO = Decimal("0")
FEEDBACK_LIMIT = 50

# Appraisals depend on plans, never the other way round: the appraisals app registers what it
# has to show here (in its AppConfig.ready) instead of plans importing it.
PendingReviewsProvider = Callable[..., list[dict]]
_pending_reviews_providers: list[PendingReviewsProvider] = []


def register_pending_reviews(provider: PendingReviewsProvider) -> None:
    """Register provider(*, organization, viewer) -> [{"appraisal": id, "cycle": id,
    "member": id, "display_name": str, "review_deadline": date | None}], the reviews waiting
    for the viewer. Registering the same provider twice has no effect."""
    if provider not in _pending_reviews_providers:
        _pending_reviews_providers.append(provider)


def pending_reviews(*, organization: Organization, viewer: Membership) -> list[dict]:
    """Appraisal reviews waiting for the viewer; empty while no appraisals app registered."""
    return [
        review
        for provider in _pending_reviews_providers
        for review in provider(organization=organization, viewer=viewer)
    ]


@dataclass
class TargetToday:
    target: Target
    today_target: Decimal
    today_actual: Decimal
    month_target: Decimal  # the month's share of the target, to the month's end
    month_to_date_target: Decimal
    month_to_date_actual: Decimal
    attainment: Decimal | None
    pace: str


@dataclass
class Dashboard:
    date: dt.date
    targets: list[TargetToday]
    missing_reports: QuerySet[Membership]
    urgent_feedback: QuerySet[MarketFeedback]
    pending_reviews: list


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def target_today(
    *, organization: Organization, target: Target, today: dt.date, calendar: WorkingCalendar
) -> TargetToday:
    """One query for additive metrics (the month's actuals by day), two for levels."""
    metric = METRICS[target.metric]
    month_start, month_end = _month_bounds(today)
    plan_by_day = daily_targets(
        calendar=calendar,
        value=target.value,
        start=target.start,
        end=target.end,
        metric=metric,
        weights=weekday_weights(organization),
    )
    first, last = max(month_start, target.start), min(today, target.end)
    in_month = [day for day in plan_by_day if month_start <= day <= month_end]
    to_date = [day for day in in_month if day <= today]
    if metric.additive:
        month_target = sum((plan_by_day[day] for day in in_month), ZERO)
        mtd_target = sum((plan_by_day[day] for day in to_date), ZERO)
    else:
        month_target = mtd_target = target.value if in_month else ZERO
    today_target = plan_by_day.get(today, ZERO)
    mtd_actual = today_actual = ZERO
    if first <= last:
        common = {
            "organization": organization,
            "metric": target.metric,
            "start": first,
            "end": last,
            "scope": target_scope(target),
        }
        by_day = metric_actuals(**common, group_by="day")
        today_actual = Decimal(by_day.get(today, 0))
        if metric.additive:
            mtd_actual = sum((Decimal(value) for value in by_day.values()), ZERO)
        else:
            mtd_actual = Decimal(metric_actuals(**common)[None])
    return TargetToday(
        target=target,
        today_target=today_target,
        today_actual=today_actual,
        month_target=month_target,
        month_to_date_target=mtd_target,
        month_to_date_actual=mtd_actual,
        attainment=attainment_ratio(mtd_actual, mtd_target),
        pace=pace_of(
            thresholds=pace_thresholds(organization),
            metric=metric,
            value=month_target,
            actual=mtd_actual,
            expected=mtd_target,
            finished=today >= min(month_end, target.end),
        ),
    )


def urgent_feedback(
    *, organization: Organization, viewer: Membership, limit: int = FEEDBACK_LIMIT
) -> QuerySet[MarketFeedback]:
    """Open or acknowledged feedback of high or critical urgency in the viewer's scope, the
    earliest response deadline first (also the admin dashboard's list, console/)."""
    return (
        MarketFeedback.objects.filter(
            organization=organization,
            urgency__in=(Urgency.HIGH, Urgency.CRITICAL),
            status__in=(FeedbackStatus.OPEN, FeedbackStatus.ACKNOWLEDGED),
        )
        .filter(feedback_scope_q(viewer=viewer))
        .select_related("author__user")
        .order_by("respond_by", "id")[:limit]
    )


def dashboard_today(*, organization: Organization, viewer: Membership) -> Dashboard:
    today = organization.local_today()
    targets = dashboard_targets(organization=organization, viewer=viewer)
    rows = []
    if targets:
        calendar = WorkingCalendar.load(
            organization=organization,
            start=min(target.start for target in targets),
            end=max(target.end for target in targets),
        )
        rows = [
            target_today(organization=organization, target=target, today=today, calendar=calendar)
            for target in targets
        ]
    return Dashboard(
        date=today,
        targets=rows,
        missing_reports=members_missing_report(organization=organization, viewer=viewer, day=today),
        urgent_feedback=urgent_feedback(organization=organization, viewer=viewer),
        pending_reviews=pending_reviews(organization=organization, viewer=viewer),
    )
