"""Targets against actuals: progress of one target, attainment grouped by member, region, product
or customer, and the snapshot that freezes a plan's figures when it closes.

Every actual comes from reports.metrics.metric_actuals with the target's scope. A closed plan
answers from its snapshot (the actuals of every target, in total and per day, as they were at
closing), so that later corrections of the facts do not rewrite a closed plan's history.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db.models import QuerySet
from django.utils import timezone

from agents.calendar import iter_dates
from agents.models import Organization, Region
from reports.metrics import METRICS, Metric, MetricScope, metric_actuals

from .decomposition import WorkingCalendar, daily_targets, expected_to_date, weekday_weights
from .models import Pace, SalesPlan, Target
from .policies import PaceThresholds, pace_thresholds

RATIO = Decimal("0.0001")
ZERO = Decimal("0")


def target_scope(target: Target) -> MetricScope:
    return MetricScope(
        member=target.member,
        include_downline=target.include_downline,
        region=target.region,
        product=target.product,
        customer=target.customer,
    )


def attainment_ratio(actual, value) -> Decimal | None:
    """actual / target, four places; None when the target is zero (nothing to attain)."""
    if not value:
        return None
    return (Decimal(actual) / Decimal(value)).quantize(RATIO)


def pace_of(
    *,
    thresholds: PaceThresholds,
    metric: Metric,
    value: Decimal,
    actual: Decimal,
    expected: Decimal,
    finished: bool,
) -> str:
    """Achieved, on track, at risk or behind: the actual against what the decomposition expects
    by now. For a metric where lower is better (lost customers) the target is a ceiling: it is
    achieved only once the period is over without crossing it."""
    actual, value, expected = Decimal(actual), Decimal(value), Decimal(expected)
    if metric.higher_is_better:
        if actual >= value:
            return Pace.ACHIEVED
        if expected <= 0:
            return Pace.ON_TRACK
        ratio = actual / expected
    else:
        if actual > value:
            return Pace.BEHIND
        if finished:
            return Pace.ACHIEVED
        if actual <= expected:
            return Pace.ON_TRACK
        ratio = expected / actual
    if ratio >= thresholds.on_track:
        return Pace.ON_TRACK
    if ratio >= thresholds.at_risk:
        return Pace.AT_RISK
    return Pace.BEHIND


# --- Actuals of one target ------------------------------------------------------------------


def _live_actuals(
    *, organization: Organization, target: Target, metric: Metric, as_of: dt.date
) -> tuple[Decimal, dict[dt.date, Decimal]]:
    """(total, {day: value}) from the target's start to as_of (capped at its end). One query
    for a plain sum (sales, minutes, counts of reports: the days add up to the total exactly);
    two for the others, whose total is asked for itself because distinct counts and averages
    do not add up by day."""
    end = min(target.end, as_of)
    if end < target.start:
        return Decimal(metric.zero()), {}
    common = {
        "organization": organization,
        "metric": target.metric,
        "start": target.start,
        "end": end,
        "scope": target_scope(target),
    }
    by_day = {
        day: Decimal(value) for day, value in metric_actuals(**common, group_by="day").items()
    }
    if _days_add_up(metric):
        return sum(by_day.values(), Decimal(metric.zero())), by_day
    return Decimal(metric_actuals(**common)[None]), by_day


def _days_add_up(metric: Metric) -> bool:
    """Whether a period's value is the sum of its days' values: additive metrics of plain sums.
    Not distinct customers (one customer buying on two days counts once for the period) nor
    averages and ratios."""
    plain_sum = metric.source in ("sales", "reports") and "customers" not in metric.parts
    return metric.additive and plain_sum


def _frozen_actuals(
    *, plan: SalesPlan, target: Target, metric: Metric, as_of: dt.date
) -> tuple[Decimal, dict[dt.date, Decimal]]:
    entry = plan.snapshot.get("targets", {}).get(str(target.pk), {})
    by_day = {
        dt.date.fromisoformat(day): Decimal(value)
        for day, value in entry.get("daily", {}).items()
        if dt.date.fromisoformat(day) <= as_of
    }
    frozen_as_of = dt.date.fromisoformat(plan.snapshot["as_of"])
    if as_of >= frozen_as_of or not metric.additive:
        return Decimal(entry.get("actual", "0")), by_day
    return sum(by_day.values(), ZERO), by_day


def is_frozen(plan: SalesPlan) -> bool:
    return plan.is_closed and "as_of" in (plan.snapshot or {})


def resolve_as_of(*, organization: Organization, plan: SalesPlan, as_of: dt.date | None) -> dt.date:
    """The day figures are taken at: the caller's date or the organization's today, and for a
    closed plan never after the day its figures were frozen."""
    if is_frozen(plan):
        frozen_as_of = dt.date.fromisoformat(plan.snapshot["as_of"])
        return min(as_of or frozen_as_of, frozen_as_of)
    return as_of or organization.local_today()


def target_actuals(
    *, organization: Organization, target: Target, as_of: dt.date
) -> tuple[Decimal, dict[dt.date, Decimal]]:
    metric = METRICS[target.metric]
    if is_frozen(target.plan):
        return _frozen_actuals(plan=target.plan, target=target, metric=metric, as_of=as_of)
    return _live_actuals(organization=organization, target=target, metric=metric, as_of=as_of)


# --- Progress ---------------------------------------------------------------------------------


@dataclass
class DayProgress:
    date: dt.date
    target: Decimal
    actual: Decimal | None
    cumulative_target: Decimal
    cumulative_actual: Decimal | None


@dataclass
class Progress:
    target: Target
    metric: Metric
    as_of: dt.date
    frozen: bool
    value: Decimal
    actual: Decimal
    attainment: Decimal | None
    expected_to_date: Decimal
    pace: str
    daily: list[DayProgress] = field(default_factory=list)


def target_progress(
    *,
    organization: Organization,
    target: Target,
    as_of: dt.date | None = None,
    calendar: WorkingCalendar | None = None,
) -> Progress:
    """A target's actual, attainment, expected-to-date by the daily decomposition, pace and
    daily series. Four queries at most (calendar, total, by day); none for a closed plan's
    actuals. `target` should come with its plan and scope objects selected."""
    metric = METRICS[target.metric]
    as_of = resolve_as_of(organization=organization, plan=target.plan, as_of=as_of)
    actual, by_day = target_actuals(organization=organization, target=target, as_of=as_of)
    calendar = calendar or WorkingCalendar.load(
        organization=organization, start=target.start, end=target.end
    )
    plan_by_day = daily_targets(
        calendar=calendar,
        value=target.value,
        start=target.start,
        end=target.end,
        metric=metric,
        weights=weekday_weights(organization),
    )
    expected = expected_to_date(daily=plan_by_day, metric=metric, value=target.value, today=as_of)
    daily = []
    cumulative_target = cumulative_actual = ZERO
    for day in iter_dates(target.start, target.end):
        day_target = plan_by_day[day]
        day_actual = by_day.get(day, ZERO) if day <= as_of else None
        if metric.additive:
            cumulative_target += day_target
            if day_actual is not None:
                cumulative_actual += day_actual
            running_actual = cumulative_actual if day_actual is not None else None
        else:
            # Levels do not accumulate: the target is the level, a running value is not kept.
            cumulative_target, running_actual = target.value, None
        daily.append(
            DayProgress(
                date=day,
                target=day_target,
                actual=day_actual,
                cumulative_target=cumulative_target,
                cumulative_actual=running_actual,
            )
        )
    return Progress(
        target=target,
        metric=metric,
        as_of=as_of,
        frozen=is_frozen(target.plan),
        value=target.value,
        actual=actual,
        attainment=attainment_ratio(actual, target.value),
        expected_to_date=expected,
        pace=pace_of(
            thresholds=pace_thresholds(organization),
            metric=metric,
            value=target.value,
            actual=actual,
            expected=expected,
            finished=as_of >= target.end,
        ),
        daily=daily,
    )


# --- Snapshot -------------------------------------------------------------------------------


def plan_snapshot_build(*, organization: Organization, plan: SalesPlan, as_of: dt.date) -> dict:
    """Every target's actual, in total and per day, as of `as_of`: what a closed plan answers
    from. Two queries per target (a closing happens once per plan)."""
    targets = Target.objects.filter(organization=organization, plan=plan).select_related(
        "member", "region", "product", "customer"
    )
    frozen = {}
    for target in targets:
        metric = METRICS[target.metric]
        total, by_day = _live_actuals(
            organization=organization, target=target, metric=metric, as_of=as_of
        )
        frozen[str(target.pk)] = {
            "actual": str(total),
            "daily": {
                day.isoformat(): str(value) for day, value in sorted(by_day.items()) if value
            },
        }
    return {"taken_at": timezone.now().isoformat(), "as_of": as_of.isoformat(), "targets": frozen}


# --- Attainment -----------------------------------------------------------------------------

GROUPINGS = ("member", "region", "product", "customer")
# For each grouping, the scope parts a target must leave empty to be a target *of the key*: a
# member's target narrowed to one product is not that member's target. A member's target inside
# a region (a region broken down by member) is; so is a product's inside a region.
_MUST_BE_EMPTY = {
    "member": ("product", "customer"),
    "region": ("member", "product", "customer"),
    "product": ("member", "customer"),
    "customer": ("product",),
}
# The columns a row's label is made of (read with the targets, in the same query).
_LABEL_COLUMNS = {
    "member": (
        "member__user__display_name",
        "member__user__first_name",
        "member__user__last_name",
        "member__user__username",
    ),
    "region": ("region__name",),
    "product": ("product__name",),
    "customer": ("customer__name",),
}
_PARTS = ("member", "region", "product", "customer")


class TargetPart(NamedTuple):
    """What attainment needs of one target: plain values, no model instance (a whole
    organization's targets are read at once; a tuple is the cheapest record to make)."""

    pk: int
    value: Decimal
    start: dt.date
    end: dt.date
    include_downline: bool


@dataclass(slots=True)
class AttainmentRow:
    key: int
    label: str
    target: Decimal
    actual: Decimal
    attainment: Decimal | None
    targets: list[TargetPart] = field(default_factory=list, repr=False)


def _labeller(group_by: str) -> Callable[[tuple], str]:
    """The row label from a target's label columns (_LABEL_COLUMNS, in that order): for members,
    User.get_display_name() from the columns (display name, full name, username); else the
    region's, product's or customer's name."""
    if group_by == "member":

        def member_label(columns: tuple) -> str:
            display_name, first_name, last_name, username = columns
            return display_name or f"{first_name} {last_name}".strip() or username

        return member_label
    return lambda columns: columns[0]


def _grouped_live_actuals(
    *,
    organization: Organization,
    metric: Metric,
    group_by: str,
    rows: dict[int, AttainmentRow],
    start: dt.date,
    end: dt.date,
) -> dict[int, Decimal]:
    """{key: actual} for every row, in one metric query (two when member rows mix targets with
    and without the downline), whatever the number of rows."""
    if end < start or not rows:
        return {}
    common = {"organization": organization, "metric": metric.key, "start": start, "end": end}
    if group_by == "member":
        with_downline = [
            key
            for key, row in rows.items()
            if any(target.include_downline for target in row.targets)
        ]
        values: dict[int, Decimal] = {}
        if with_downline:
            values.update(metric_actuals(**common, group_by="subtree", roots=with_downline))
        if len(with_downline) < len(rows):
            own = metric_actuals(**common, group_by="member")
            downline = set(with_downline)
            values.update({key: own.get(key, 0) for key in rows if key not in downline})
        return values
    values = metric_actuals(**common, group_by=group_by)
    if group_by == "region" and metric.additive:
        # Facts sit in leaf regions; a region's actual includes its sub-regions.
        paths = dict(
            Region.objects.filter(organization=organization).values_list("id", "path").order_by()
        )
        rolled = defaultdict(Decimal)
        for key in rows:
            prefix = paths.get(key)
            for region_id, value in values.items():
                if prefix and paths.get(region_id, "").startswith(prefix):
                    rolled[key] += Decimal(value)
        return dict(rolled)
    return values


def attainment_rows(
    *,
    organization: Organization,
    targets: QuerySet[Target],
    plan: SalesPlan,
    metric_key: str,
    group_by: str,
    tier: str,
    as_of: dt.date | None = None,
) -> list[AttainmentRow]:
    """Target against actual per member, region, product or customer for one plan and metric.

    `targets` is what the caller may see. A key's target is the sum of its *top-most* targets
    (those whose parent is not already a target of the same key: a member's monthly pieces of
    their yearly target are not counted twice); levels (averages, ratios) take their mean.
    Actuals run from the earliest start of those targets to `as_of` (default today, capped at
    the latest end), from one metric query for all rows; a closed plan adds up its targets'
    frozen actuals instead. A constant number of queries whatever the number of rows, and no
    model instances: the targets are read as plain values (one row per target, with its
    parent's scope and the label's columns), which is what keeps a whole organization fast."""
    metric = METRICS[metric_key]
    as_of = resolve_as_of(organization=organization, plan=plan, as_of=as_of)
    empty = {f"{part}__isnull": True for part in _MUST_BE_EMPTY[group_by]}
    key_column = f"{group_by}_id"
    label_columns = _LABEL_COLUMNS[group_by]
    parent_empty_columns = tuple(f"parent__{part}_id" for part in _MUST_BE_EMPTY[group_by])
    # Tuples, not dicts: a whole organization is thousands of rows. The positions below follow
    # this list.
    columns = (
        "id",
        "value",
        "start",
        "end",
        "include_downline",
        key_column,
        "parent_id",
        f"parent__{key_column}",
        *parent_empty_columns,
        *label_columns,
    )
    selected = (
        targets.filter(plan=plan, metric=metric_key, tier=tier, **{f"{group_by}__isnull": False})
        .filter(**empty)
        .order_by("start", "id")
        .values_list(*columns)
    )
    first_empty, first_label = 8, 8 + len(parent_empty_columns)
    label_of = _labeller(group_by)
    rows: dict[int, AttainmentRow] = {}
    for values in selected:
        key, parent_id = values[5], values[6]
        if (
            parent_id is not None
            and values[7] == key
            and not any(values[first_empty:first_label])  # ids: None or a positive integer
        ):
            continue  # the parent is a target of the same key: it counts, this piece does not
        row = rows.get(key)
        if row is None:
            row = rows[key] = AttainmentRow(
                key=key,
                label=label_of(values[first_label:]),
                target=ZERO,
                actual=ZERO,
                attainment=None,
            )
        row.targets.append(TargetPart(*values[:5]))
    if not rows:
        return []

    if is_frozen(plan):
        actuals = {}
        for key, row in rows.items():
            parts = [
                _frozen_actuals(plan=plan, target=target, metric=metric, as_of=as_of)[0]
                for target in row.targets
            ]
            actuals[key] = sum(parts, ZERO) if metric.additive else sum(parts, ZERO) / len(parts)
    else:
        parts = [target for row in rows.values() for target in row.targets]
        start = min(target.start for target in parts)
        end = min(as_of, max(target.end for target in parts))
        actuals = _grouped_live_actuals(
            organization=organization,
            metric=metric,
            group_by=group_by,
            rows=rows,
            start=start,
            end=end,
        )

    for key, row in rows.items():
        parts_of_row = row.targets
        if len(parts_of_row) == 1:  # the usual case: one target per key
            row.target = parts_of_row[0].value
        else:
            total = sum((target.value for target in parts_of_row), ZERO)
            row.target = total if metric.additive else total / len(parts_of_row)
        row.actual = Decimal(actuals.get(key, 0))
        row.attainment = attainment_ratio(row.actual, row.target)
    return sorted(rows.values(), key=lambda row: (row.label, row.key))
