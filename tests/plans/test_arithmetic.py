"""The splitting arithmetic and the daily decomposition, without the API."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.calendar import iter_dates
from plans.allocation import split_by_weights, split_evenly
from plans.breakdown import add_months, previous_range, sub_periods
from plans.decomposition import (
    WorkingCalendar,
    daily_targets,
    expected_to_date,
    weekday_weights,
)
from plans.models import Target
from plans.policies import pace_thresholds
from plans.progress import pace_of
from reports.metrics import METRICS

CENT = Decimal("0.01")
D = Decimal


@pytest.mark.parametrize(
    "total, weights, quantum, expected",
    [
        # 100.00 / 3: the cent left over goes to the first of the equal shares.
        ("100.00", [1, 1, 1], CENT, ["33.34", "33.33", "33.33"]),
        # Two cents left over: first and second.
        ("100.01", [1, 1, 1], CENT, ["33.34", "33.34", "33.33"]),
        # Largest remainder: 1000 * 1.5/3.5 = 428.571.. (.571), 285.714.. (.714) twice.
        ("1000.00", [D("1.5"), 1, 1, 0], CENT, ["428.57", "285.72", "285.71", "0.00"]),
        # Counts are whole: 10 by 1:1:1 -> 4, 3, 3.
        ("10", [1, 1, 1], D(1), ["4", "3", "3"]),
        # Equal remainders: the larger weight wins before the earlier position.
        ("1", [1, 2, 1], D(1), ["0", "1", "0"]),
        # All weights zero: evenly.
        ("9", [0, 0, 0], D(1), ["3", "3", "3"]),
    ],
)
def test_split_by_weights(total, weights, quantum, expected):
    parts = split_by_weights(D(total), [D(w) for w in weights], quantum)
    assert parts == [D(value) for value in expected]
    assert sum(parts) == D(total)


def test_split_is_exact_for_awkward_totals():
    for count in range(1, 30):
        parts = split_evenly(D("99999.99"), count, CENT)
        assert sum(parts) == D("99999.99")
        assert max(parts) - min(parts) <= CENT
        assert all(part == part.quantize(CENT) for part in parts)


def _split_with_fractions(total, weights, quantum):
    """The largest-remainder split written with Fractions, as plainly as it is described: what
    the integer arithmetic of split_by_weights must always agree with."""
    from fractions import Fraction
    from math import floor

    if sum(weights) == 0:
        weights = [D(1)] * len(weights)
    units = int(total // quantum)
    residue = total - units * quantum
    weight_sum = sum(Fraction(weight) for weight in weights)
    shares = [Fraction(units) * Fraction(weight) / weight_sum for weight in weights]
    floors = [floor(share) for share in shares]
    ranking = sorted(range(len(weights)), key=lambda i: (-(shares[i] - floors[i]), -weights[i], i))
    for i in ranking[: units - sum(floors)]:
        floors[i] += 1
    parts = [quantum * part for part in floors]
    if residue:
        parts[ranking[0]] += residue
    return parts


@settings(max_examples=300, deadline=None)
@given(
    total=st.decimals(min_value=0, max_value=10**9, places=3),
    weights=st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=1, max_size=31),
    quantum=st.sampled_from([CENT, D(1)]),
)
def test_split_agrees_with_the_fraction_arithmetic(total, weights, quantum):
    parts = split_by_weights(total, weights, quantum)
    assert parts == _split_with_fractions(total, weights, quantum)
    assert sum(parts) == total


def test_negative_weights_are_refused():
    with pytest.raises(ValueError):
        split_by_weights(D(10), [D(1), D(-1)], D(1))


def _calendar(org, start, end):
    return WorkingCalendar.load(organization=org, start=start, end=end)


def test_decomposition_across_national_day_2026(calendar_2026):
    """Oct 2026: 1-7 are the National Day holiday; Saturday the 10th is a make-up working day.
    18 working days: 8, 9, 10, 12-16, 19-23, 26-30."""
    org = calendar_2026
    start, end = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
    daily = daily_targets(
        calendar=_calendar(org, start, end),
        value=D("18000.00"),
        start=start,
        end=end,
        metric=METRICS["sales_amount"],
    )
    working = [day for day, value in daily.items() if value]
    assert len(working) == 18
    assert working[:4] == [
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 12),
    ]
    assert all(daily[day] == D("0") for day in iter_dates(start, dt.date(2026, 10, 7)))
    assert daily[dt.date(2026, 10, 10)] == D("1000.00")  # the make-up Saturday works
    assert daily[dt.date(2026, 10, 17)] == D("0")  # an ordinary Saturday does not
    assert sum(daily.values()) == D("18000.00")


def test_decomposition_with_september_make_up_sunday(calendar_2026):
    """Sep 2026: 22 weekdays, less Friday the 25th (Mid-Autumn Festival), plus Sunday the 20th
    (a make-up working day for National Day): 22 working days."""
    org = calendar_2026
    start, end = dt.date(2026, 9, 1), dt.date(2026, 9, 30)
    daily = daily_targets(
        calendar=_calendar(org, start, end),
        value=D("1000.00"),
        start=start,
        end=end,
        metric=METRICS["sales_amount"],
    )
    assert sum(1 for value in daily.values() if value) == 22
    assert daily[dt.date(2026, 9, 20)] > 0
    assert daily[dt.date(2026, 9, 25)] == 0
    assert sum(daily.values()) == D("1000.00")
    # 1000.00 / 22 = 45.4545..: 10 cents left over go to the first ten working days.
    assert sorted(set(daily.values()) - {D(0)}) == [D("45.45"), D("45.46")]
    assert [day.day for day, value in daily.items() if value == D("45.46")] == [
        1,
        2,
        3,
        4,
        7,
        8,
        9,
        10,
        11,
        14,
    ]


def test_weekday_weight_profile_weighs_the_make_up_saturday(calendar_2026):
    org = calendar_2026
    org.policies = {"weekday_weights": {"6": 1.5, "bad": "x", "9": 2}}
    start, end = dt.date(2026, 10, 8), dt.date(2026, 10, 10)
    weights = weekday_weights(org)
    assert weights == {6: D("1.5")}
    daily = daily_targets(
        calendar=_calendar(org, start, end),
        value=D("350"),
        start=start,
        end=end,
        metric=METRICS["orders"],
        weights=weights,
    )
    # Thu 1, Fri 1, Sat 1.5 of 3.5: 100, 100, 150 orders, whole numbers.
    assert daily == {
        dt.date(2026, 10, 8): D(100),
        dt.date(2026, 10, 9): D(100),
        dt.date(2026, 10, 10): D(150),
    }


def test_counts_decompose_into_whole_numbers(calendar_2026):
    org = calendar_2026
    start, end = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
    daily = daily_targets(
        calendar=_calendar(org, start, end),
        value=D("100"),
        start=start,
        end=end,
        metric=METRICS["followups"],
    )
    assert all(value == value.to_integral_value() for value in daily.values())
    assert sum(daily.values()) == D(100)
    # 100 / 18 = 5.55..: ten days of 6, eight of 5.
    assert sorted(value for value in daily.values() if value) == [D(5)] * 8 + [D(6)] * 10


def test_a_period_without_working_days_spreads_over_all_its_days(calendar_2026):
    org = calendar_2026
    start, end = dt.date(2026, 10, 1), dt.date(2026, 10, 7)
    daily = daily_targets(
        calendar=_calendar(org, start, end),
        value=D("70.00"),
        start=start,
        end=end,
        metric=METRICS["sales_amount"],
    )
    assert list(daily.values()) == [D("10.00")] * 7


def test_levels_are_the_same_every_working_day(calendar_2026):
    org = calendar_2026
    start, end = dt.date(2026, 10, 1), dt.date(2026, 10, 12)
    metric = METRICS["report_compliance"]
    daily = daily_targets(
        calendar=_calendar(org, start, end), value=D("0.95"), start=start, end=end, metric=metric
    )
    assert {value for value in daily.values() if value} == {D("0.95")}
    assert expected_to_date(
        daily=daily, metric=metric, value=D("0.95"), today=dt.date(2026, 10, 9)
    ) == D("0.95")


def test_pace_thresholds_come_from_the_policy(world):
    org = world.org
    sales = METRICS["sales_amount"]

    def pace(actual, expected="1000", value="5000", finished=False, metric=sales):
        return pace_of(
            thresholds=pace_thresholds(org),
            metric=metric,
            value=D(value),
            actual=D(actual),
            expected=D(expected),
            finished=finished,
        )

    assert pace("5000") == "achieved"
    assert pace("1000") == "on_track"
    assert pace("900") == "at_risk"
    assert pace("899") == "behind"
    assert pace("0", expected="0") == "on_track"
    org.policies = {"pace_thresholds": {"on_track": 95, "at_risk": "0.8"}}
    assert pace("950") == "on_track"
    assert pace("800") == "at_risk"
    org.policies = {"pace_thresholds": "nonsense"}
    assert pace("950") == "at_risk"
    # Lost customers: the target is a ceiling.
    lost = METRICS["lost_customers"]
    assert pace("3", expected="5", value="10", metric=lost) == "on_track"
    assert pace("11", expected="5", value="10", metric=lost) == "behind"
    assert pace("10", expected="10", value="10", finished=True, metric=lost) == "achieved"
    assert pace("6", expected="5.5", value="10", metric=lost) == "at_risk"


def test_sub_periods(calendar_2026):
    org = calendar_2026
    cal = _calendar(org, dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    months = sub_periods(
        start=dt.date(2026, 10, 1), end=dt.date(2026, 12, 31), unit="month", calendar=cal
    )
    assert months == [
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    ]
    weeks = sub_periods(
        start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 14), unit="week", calendar=cal
    )
    assert weeks == [
        (dt.date(2026, 10, 1), dt.date(2026, 10, 4)),
        (dt.date(2026, 10, 5), dt.date(2026, 10, 11)),
        (dt.date(2026, 10, 12), dt.date(2026, 10, 14)),
    ]
    days = sub_periods(
        start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 12), unit="day", calendar=cal
    )
    assert [first for first, _last in days] == [
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 12),
    ]


def test_previous_period_of_the_same_length():
    quarter = Target(start=dt.date(2026, 4, 1), end=dt.date(2026, 6, 30))
    assert previous_range(parent=quarter, start=quarter.start, end=quarter.end) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    # A month inside the quarter maps onto the same month of the previous quarter.
    assert previous_range(parent=quarter, start=dt.date(2026, 5, 1), end=dt.date(2026, 5, 31)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    ten_days = Target(start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 14))
    assert previous_range(parent=ten_days, start=ten_days.start, end=ten_days.end) == (
        dt.date(2026, 2, 23),
        dt.date(2026, 3, 4),
    )
    assert add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
