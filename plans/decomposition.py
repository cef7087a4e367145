"""Daily decomposition: a target spread over the organization's working days.

Working days are the organization's working weekdays minus its holidays plus its make-up working
days (agents.calendar). The split is even, or follows the organization's weekday weight profile
(policy `weekday_weights`, ISO weekday -> weight, e.g. {"6": 1.5}: Saturdays count one and a half
days; weekdays not named weigh 1). Additive metrics split exactly (the days sum to the target);
levels (averages, ratios) are the same on every working day.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from agents.calendar import calendar_exceptions, iter_dates
from agents.models import Organization
from reports.metrics import Metric

from .allocation import split_by_weights
from .vocabulary import target_quantum


def weekday_weights(organization: Organization) -> dict[int, Decimal]:
    """The organization's weekday weight profile; malformed entries are ignored (weight 1)."""
    profile = (organization.policies or {}).get("weekday_weights") or {}
    weights: dict[int, Decimal] = {}
    if not isinstance(profile, dict):
        return weights
    for key, raw in profile.items():
        try:
            weekday = int(key)
            weight = Decimal(str(raw))
        except (TypeError, ValueError, InvalidOperation):
            continue
        if 1 <= weekday <= 7 and weight.is_finite() and weight >= 0:
            weights[weekday] = weight
    return weights


@dataclass
class WorkingCalendar:
    """The organization's working days over a range, read with one query and then asked for any
    sub-range without touching the database again."""

    organization: Organization
    start: dt.date
    end: dt.date
    exceptions: dict[dt.date, bool]

    @classmethod
    def load(cls, *, organization: Organization, start: dt.date, end: dt.date):
        exceptions = calendar_exceptions(organization=organization, start=start, end=end)
        return cls(organization=organization, start=start, end=end, exceptions=exceptions)

    def working_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        if start < self.start or end > self.end:
            raise ValueError("outside the loaded range")
        weekdays = set(self.organization.workdays)
        return [
            day
            for day in iter_dates(start, end)
            if self.exceptions.get(day, day.isoweekday() in weekdays)
        ]


def daily_targets(
    *,
    calendar: WorkingCalendar,
    value: Decimal,
    start: dt.date,
    end: dt.date,
    metric: Metric,
    weights: dict[int, Decimal] | None = None,
) -> dict[dt.date, Decimal]:
    """date -> the day's target for every date from start to end (days off are zero). A period
    without a single working day (a holiday week) is spread over all its days instead."""
    days = calendar.working_days(start, end) or list(iter_dates(start, end))
    result = dict.fromkeys(iter_dates(start, end), Decimal("0"))
    if not metric.additive:
        for day in days:
            result[day] = value
        return result
    weights = weights or {}
    day_weights = [weights.get(day.isoweekday(), Decimal(1)) for day in days]
    parts = split_by_weights(value, day_weights, target_quantum(metric))
    for day, part in zip(days, parts, strict=True):
        result[day] = part
    return result


def expected_to_date(
    *, daily: dict[dt.date, Decimal], metric: Metric, value: Decimal, today: dt.date
) -> Decimal:
    """What should have been reached by the end of `today`: the sum of the daily targets up to
    today for additive metrics; the level itself for averages and ratios once the period began."""
    if not daily or today < min(daily):
        return Decimal("0")
    if not metric.additive:
        return value
    return sum((part for day, part in daily.items() if day <= today), Decimal("0"))
