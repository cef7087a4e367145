"""Breaking a target down into children along one dimension: members, regions, products,
customers, or the period (months, weeks or working days).

Methods: `manual` (the caller gives each child's value), `even`, `weights` (the caller gives
each child's weight) and `history` (each child's share of the same metric over the previous
period of the same length: the same number of months before a plan that runs in whole months,
else the same number of days; a child without history gets an even share, 1/n, and the children
with history split the rest by their share, so that newcomers are not given zero).

Children inherit the parent's metric, tier, period and the scope they do not narrow. For additive
metrics the non-manual methods split what is still unallocated (or `total`, if given) exactly, to
the cent or the unit, and children of one parent never sum above it; for averages and ratios each
child is given the parent's level. A parent is broken down along one dimension only (its
children may come in several rounds, for keys not yet taken).
"""

import datetime as dt
from calendar import monthrange
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agents.calendar import iter_dates
from agents.models import Membership, Organization, Region, Role
from agents.products import inactive_product_message
from reports.metrics import METRICS, Metric, MetricScope, metric_actuals

from .allocation import split_by_weights
from .decomposition import WorkingCalendar
from .models import BreakdownMethod, Dimension, PeriodUnit, Target
from .rules import can_break_down
from .services import (
    check_inside_parent,
    check_target_value,
    ensure_plan_open,
    lock_target,
    narrowed_dimension,
    target_breakdown_audit,
)
from .vocabulary import target_quantum

ZERO = Decimal("0")
KEYED = (Dimension.MEMBER, Dimension.REGION, Dimension.PRODUCT, Dimension.CUSTOMER)


@dataclass
class Allocation:
    """One line of a breakdown request, as validated by the API."""

    key: object | None = None  # a Membership, Region, Product or Customer; None for periods
    start: dt.date | None = None  # for periods: the first day of the period it names
    value: Decimal | None = None
    weight: Decimal | None = None
    include_downline: bool | None = None


@dataclass
class BreakdownResult:
    parent: Target
    children: list[Target]  # every child of the parent, the new ones included
    created: list[Target]
    unallocated: Decimal | None  # None for averages and ratios, which are not split


def _error(message: str, *, field: str = "allocations") -> ValidationError:
    return ValidationError({field: [message]})


# --- Periods --------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def sub_periods(
    *, start: dt.date, end: dt.date, unit: str, calendar: WorkingCalendar
) -> list[tuple[dt.date, dt.date]]:
    """Months and ISO weeks (Monday to Sunday) cut to [start, end]; days are the working days
    (all days when there is not a single working day)."""
    periods = []
    if unit == PeriodUnit.DAY:
        days = calendar.working_days(start, end) or list(iter_dates(start, end))
        return [(day, day) for day in days]
    cursor = start
    while cursor <= end:
        if unit == PeriodUnit.MONTH:
            last = dt.date(cursor.year, cursor.month, monthrange(cursor.year, cursor.month)[1])
        else:
            last = cursor + dt.timedelta(days=7 - cursor.isoweekday())
        periods.append((cursor, min(last, end)))
        cursor = min(last, end) + dt.timedelta(days=1)
    return periods


def _whole_months(start: dt.date, end: dt.date) -> int:
    """How many whole calendar months [start, end] spans; 0 when it does not span whole ones."""
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1:
        return 0
    return (end.year - start.year) * 12 + end.month - start.month + 1


def previous_range(*, parent: Target, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end] moved back by the length of the parent's period."""
    months = _whole_months(parent.start, parent.end)
    if months:
        return add_months(start, -months), add_months(end + dt.timedelta(days=1), -months) - (
            dt.timedelta(days=1)
        )
    days = dt.timedelta(days=(parent.end - parent.start).days + 1)
    return start - days, end - days


# --- History ----------------------------------------------------------------------------------


def _history_weights(
    *, organization: Organization, parent: Target, dimension: str, children: list[Target]
) -> list[Decimal]:
    """Each child's actual over the previous period (one metric query; two when member children
    mix with and without the downline), blended with an even share for those without history."""
    prev_start, prev_end = previous_range(parent=parent, start=parent.start, end=parent.end)
    scope = MetricScope(
        member=parent.member,
        include_downline=parent.include_downline,
        region=parent.region,
        product=parent.product,
        customer=parent.customer,
    )
    common = {
        "organization": organization,
        "metric": parent.metric,
        "start": prev_start,
        "end": prev_end,
        "scope": scope,
    }
    if dimension == Dimension.PERIOD:
        by_day = metric_actuals(**common, group_by="day")
        history = []
        for child in children:
            first, last = previous_range(parent=parent, start=child.start, end=child.end)
            history.append(
                sum((Decimal(v) for day, v in by_day.items() if first <= day <= last), ZERO)
            )
    elif dimension == Dimension.MEMBER:
        with_downline = [child.member for child in children if child.include_downline]
        found: dict = {}
        if with_downline:
            subtree = metric_actuals(**common, group_by="subtree", roots=with_downline)
            found.update({("dl", key): value for key, value in subtree.items()})
        if len(with_downline) < len(children):
            own = metric_actuals(**common, group_by="member")
            found.update({("own", key): value for key, value in own.items()})
        history = [
            Decimal(found.get(("dl" if child.include_downline else "own", child.member_id), 0))
            for child in children
        ]
    elif dimension == Dimension.REGION:
        by_region = metric_actuals(**common, group_by="region")
        paths = dict(
            Region.objects.filter(organization=organization).values_list("id", "path").order_by()
        )
        history = [
            sum(
                (
                    Decimal(value)
                    for region_id, value in by_region.items()
                    if paths.get(region_id, "").startswith(child.region.path)
                ),
                ZERO,
            )
            for child in children
        ]
    else:
        grouped = metric_actuals(**common, group_by=dimension)
        history = [Decimal(grouped.get(getattr(child, f"{dimension}_id"), 0)) for child in children]

    history = [max(value, ZERO) for value in history]
    with_history = sum(history)
    without = sum(1 for value in history if value == 0)
    if with_history == 0 or without == 0:
        return history  # all zero splits evenly
    newcomer = with_history / (len(history) - without)
    return [value if value > 0 else newcomer for value in history]


# --- The breakdown ------------------------------------------------------------------------------


def _build_children(
    *,
    parent: Target,
    dimension: str,
    period_unit: str | None,
    allocations: list[Allocation],
    existing: list[Target],
    method: str,
    calendar: WorkingCalendar | None,
) -> list[tuple[Target, Allocation]]:
    def child_of(**narrowed) -> Target:
        child = Target(
            organization_id=parent.organization_id,
            plan=parent.plan,
            parent=parent,
            metric=parent.metric,
            tier=parent.tier,
            member=parent.member,
            include_downline=parent.include_downline,
            region=parent.region,
            product=parent.product,
            customer=parent.customer,
            start=parent.start,
            end=parent.end,
            value=ZERO,
            breakdown_dimension=dimension,
            breakdown_method=method,
        )
        for name, value in narrowed.items():
            setattr(child, name, value)
        return child

    built: list[tuple[Target, Allocation]] = []
    if dimension == Dimension.PERIOD:
        if not period_unit:
            raise _error(_("Say which periods: month, week or day."), field="period_unit")
        periods = sub_periods(
            start=parent.start, end=parent.end, unit=period_unit, calendar=calendar
        )
        by_start = {first: (first, last) for first, last in periods}
        if allocations:
            for allocation in allocations:
                if allocation.start not in by_start:
                    raise _error(
                        _("%(start)s does not start a %(unit)s of the target's period.")
                        % {"start": allocation.start, "unit": period_unit}
                    )
                first, last = by_start[allocation.start]
                built.append((child_of(start=first, end=last), allocation))
        elif method in (BreakdownMethod.MANUAL, BreakdownMethod.WEIGHTS):
            raise _error(_("List the periods with their values or weights."))
        else:
            built = [(child_of(start=first, end=last), Allocation()) for first, last in periods]
        starts = [child.start for child, _allocation in built]
        if len(set(starts)) != len(starts):
            raise _error(_("A period is listed twice."))
        for child, _allocation in built:
            for other in existing:
                if other.start <= child.end and child.start <= other.end:
                    raise _error(
                        _("The period from %(start)s is already broken down.")
                        % {"start": child.start}
                    )
        return built

    if not allocations:
        raise _error(
            _("List the %(dimension)s to break the target down to.")
            % {"dimension": Dimension(dimension).label}
        )
    keys = []
    for index, allocation in enumerate(allocations, start=1):
        if allocation.key is None:
            raise _error(
                _("Allocation %(index)s names no %(dimension)s.")
                % {"index": index, "dimension": Dimension(dimension).label}
            )
        keys.append(allocation.key.pk)
        if dimension == Dimension.PRODUCT and not allocation.key.is_active:
            raise _error(
                _("Allocation %(index)s: %(message)s")
                % {"index": index, "message": inactive_product_message()}
            )
        narrowed = {dimension: allocation.key}
        if dimension == Dimension.MEMBER:
            if allocation.include_downline is not None:
                narrowed["include_downline"] = allocation.include_downline
            else:
                # The parent's own member stands for their personal share; the others for
                # their teams.
                narrowed["include_downline"] = allocation.key.pk != parent.member_id
        child = child_of(**narrowed)
        try:
            check_inside_parent(child=child, parent=parent)
        except ValidationError as error:
            messages = [message for messages in error.message_dict.values() for message in messages]
            raise _error(
                _("Allocation %(index)s: %(message)s")
                % {"index": index, "message": " ".join(messages)}
            ) from error
        built.append((child, allocation))
    if len(set(keys)) != len(keys):
        raise _error(
            _("A %(dimension)s is listed twice.") % {"dimension": Dimension(dimension).label}
        )
    taken = {getattr(other, f"{dimension}_id") for other in existing}
    for child, _allocation in built:
        if getattr(child, f"{dimension}_id") in taken:
            raise _error(
                _("%(name)s already has a share of this target.")
                % {"name": str(getattr(child, dimension))}
            )
    return built


def _values(
    *,
    organization: Organization,
    parent: Target,
    metric: Metric,
    dimension: str,
    method: str,
    built: list[tuple[Target, Allocation]],
    free: Decimal,
    total: Decimal | None,
) -> list[Decimal]:
    children = [child for child, _allocation in built]
    if method == BreakdownMethod.MANUAL:
        values = []
        for index, (_child, allocation) in enumerate(built, start=1):
            if allocation.value is None:
                raise _error(_("Allocation %(index)s has no value.") % {"index": index})
            try:
                check_target_value(metric_key=metric.key, value=allocation.value)
            except ValidationError as error:
                raise _error(
                    _("Allocation %(index)s: %(message)s")
                    % {"index": index, "message": " ".join(error.message_dict["value"])}
                ) from error
            values.append(allocation.value)
        if metric.additive and sum(values, ZERO) > free:
            raise _error(
                _(
                    "The allocations sum to %(sum)s, more than the %(free)s of the target that "
                    "is still unallocated."
                )
                % {"sum": sum(values, ZERO), "free": free}
            )
        return values
    if not metric.additive:
        return [parent.value] * len(children)
    if total is not None:
        try:
            check_target_value(metric_key=metric.key, value=total, field="total")
        except ValidationError as error:
            raise _error(" ".join(error.message_dict["total"]), field="total") from error
        if total > free:
            raise _error(
                _("Only %(free)s of the target is still unallocated.") % {"free": free},
                field="total",
            )
    amount = free if total is None else total
    if method == BreakdownMethod.WEIGHTS:
        weights = []
        for index, (_child, allocation) in enumerate(built, start=1):
            if allocation.weight is None:
                raise _error(_("Allocation %(index)s has no weight.") % {"index": index})
            weights.append(allocation.weight)
        if not any(weights):
            raise _error(_("At least one weight must be above zero."))
    elif method == BreakdownMethod.HISTORY:
        weights = _history_weights(
            organization=organization, parent=parent, dimension=dimension, children=children
        )
    else:
        weights = [Decimal(1)] * len(children)
    return split_by_weights(amount, weights, target_quantum(metric))


@transaction.atomic
def target_breakdown(
    *,
    organization: Organization,
    actor: Membership,
    target: Target,
    dimension: str,
    method: str,
    allocations: list[Allocation],
    period_unit: str | None = None,
    total: Decimal | None = None,
) -> BreakdownResult:
    """Create children of `target` along `dimension` by `method`. All of them or none: any
    invalid allocation is a 400 naming `allocations`, and nothing is written."""
    parent = lock_target(target)
    ensure_plan_open(parent.plan)
    if not can_break_down(actor, parent):
        raise PermissionDenied(_("You cannot break this target down."))
    if actor.role == Role.AGENT and dimension == Dimension.MEMBER:
        raise PermissionDenied(
            _("Agents break their own targets down by period, region, product or customer.")
        )
    metric = METRICS[parent.metric]
    if dimension in (Dimension.PRODUCT, Dimension.CUSTOMER) and not metric.supports(dimension):
        raise _error(
            _("This metric cannot be measured per %(dimension)s.")
            % {"dimension": Dimension(dimension).label},
            field="dimension",
        )
    single = (
        parent.member_id is not None and not parent.include_downline
        if dimension == Dimension.MEMBER
        else dimension in (Dimension.PRODUCT, Dimension.CUSTOMER)
        and getattr(parent, f"{dimension}_id") is not None
    )
    if single:
        raise _error(
            _("The target is already for one %(dimension)s.")
            % {"dimension": Dimension(dimension).label},
            field="dimension",
        )

    existing = list(Target.objects.filter(organization=organization, parent=parent))
    dimensions = {
        child.breakdown_dimension or narrowed_dimension(child=child, parent=parent)
        for child in existing
    }
    if dimensions - {dimension}:
        raise _error(
            _("This target is already broken down by %(dimension)s.")
            % {"dimension": ", ".join(str(Dimension(d).label) for d in sorted(dimensions))},
            field="dimension",
        )
    calendar = None
    if dimension == Dimension.PERIOD:
        calendar = WorkingCalendar.load(
            organization=organization, start=parent.start, end=parent.end
        )
    built = _build_children(
        parent=parent,
        dimension=dimension,
        period_unit=period_unit,
        allocations=allocations,
        existing=existing,
        method=method,
        calendar=calendar,
    )
    free = parent.value - sum((child.value for child in existing), ZERO)
    values = _values(
        organization=organization,
        parent=parent,
        metric=metric,
        dimension=dimension,
        method=method,
        built=built,
        free=free,
        total=total,
    )
    created = []
    for (child, _allocation), value in zip(built, values, strict=True):
        child.value = value
        child.created_by = actor if actor.pk else None
        created.append(child)
    Target.objects.bulk_create(created)
    target_breakdown_audit(
        organization=organization,
        actor=actor,
        parent=parent,
        created=created,
        context={"dimension": dimension, "method": method, "period_unit": period_unit},
    )
    children = list(
        Target.objects.filter(organization=organization, parent=parent).order_by("start", "id")
    )
    unallocated = None
    if metric.additive:
        unallocated = parent.value - sum((child.value for child in children), ZERO)
    return BreakdownResult(
        parent=parent, children=children, created=created, unallocated=unallocated
    )
