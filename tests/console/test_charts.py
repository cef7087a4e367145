"""The SVG builders: numbers in data-value and <title>, geometry that follows the numbers,
escaped text, axis labels."""

import datetime as dt
from decimal import Decimal as D

from console import charts
from console.formatting import money, percent
from tests.console.page import elements


def fmt(value):
    return money(value, "CNY")


def test_nice_ticks_start_at_zero_and_cover_the_maximum():
    assert charts.nice_ticks(31000) == [0, 10000, 20000, 30000, 40000]
    assert charts.nice_ticks(4) == [0, 1, 2, 3, 4]
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(0.5)[-1] >= 0.5


def test_bar_chart_carries_each_number_and_draws_bars_in_proportion():
    svg = charts.bar_chart(
        [
            charts.Bar(label="East", value=D("7450.50"), target=D("18000.00"), note="41.4%"),
            charts.Bar(label="West", value=D("1200.00"), target=D("12000.00"), note="10.0%"),
            charts.Bar(label="Cups", value=D("1450.50"), target=D("1000.00"), note="145.0%"),
        ],
        label="By region",
        fmt=fmt,
        target_label="Target",
    )
    bars = elements(svg, "bar")
    assert [(bar["data-label"], bar["data-value"], bar["data-target"]) for bar in bars] == [
        ("East", "7450.50", "18000.00"),
        ("West", "1200.00", "12000.00"),
        ("Cups", "1450.50", "1000.00"),
    ]
    widths = [float(bar["width"]) for bar in bars]
    assert abs(widths[0] / widths[1] - 7450.50 / 1200) < 0.01
    assert "<title>East: ¥7,450.50</title>" in svg
    # Reached targets are green, the others blue.
    assert [bar["fill"] for bar in bars] == [charts.ACTUAL, charts.ACTUAL, charts.GOOD]
    markers = elements(svg, "target-marker")
    assert [marker["data-value"] for marker in markers] == ["18000.00", "12000.00", "1000.00"]
    # The 18000 marker sits right of the 12000 one, both on the same scale as the bars.
    assert float(markers[0]["x1"]) > float(markers[1]["x1"]) > float(markers[2]["x1"])
    axis = [label for label in elements(svg, "axis-label")]
    assert len(axis) == len(charts.nice_ticks(18000))
    assert "¥20,000.00" in svg and "41.4%" in svg
    assert svg.startswith("<svg") and 'aria-label="By region"' in svg


def test_text_is_escaped():
    svg = charts.bar_chart(
        [charts.Bar(label='<script>alert("x")</script>', value=D(1), target=None)],
        label="<b>",
        fmt=fmt,
        target_label="Target",
    )
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
    assert elements(svg, "target-marker") == []


def test_line_chart_draws_both_series_and_skips_the_unknown_future():
    days = [dt.date(2026, 10, day) for day in range(1, 5)]
    points = [
        charts.LinePoint(date=days[0], target=D("100.00"), actual=D("0.00")),
        charts.LinePoint(date=days[1], target=D("200.00"), actual=D("250.00")),
        charts.LinePoint(date=days[2], target=D("300.00"), actual=None),
        charts.LinePoint(date=days[3], target=D("400.00"), actual=None),
    ]
    svg = charts.line_chart(
        points,
        label="Cumulative",
        fmt=fmt,
        target_label="Target",
        actual_label="Actual",
        today=days[1],
        today_label="Today",
    )
    actual = elements(svg, "point-actual")
    target = elements(svg, "point-target")
    assert [(p["data-date"], p["data-value"]) for p in actual] == [
        ("2026-10-01", "0.00"),
        ("2026-10-02", "250.00"),
    ]
    assert [p["data-value"] for p in target] == ["100.00", "200.00", "300.00", "400.00"]
    # Higher values are drawn higher (smaller y).
    assert float(actual[1]["cy"]) < float(target[0]["cy"]) < float(actual[0]["cy"])
    assert len(elements(svg, "series")) == 2
    assert "10-01" in svg and "¥400" in svg
    assert len(elements(svg, "today")) == 2  # the line and its label


def test_histogram_counts():
    svg = charts.histogram([("A", 2), ("B", 1), ("C", 0)], label="Grades")
    bins = elements(svg, "bin")
    assert [(b["data-label"], b["data-value"]) for b in bins] == [
        ("A", "2"),
        ("B", "1"),
        ("C", "0"),
    ]
    assert float(bins[0]["height"]) == 2 * float(bins[1]["height"])
    assert float(bins[2]["height"]) == 0
    assert "<title>A: 2</title>" in svg


def test_money_and_percentages():
    assert money(D("1234567.5"), "CNY") == "¥1,234,567.50"
    assert money(D("-5"), "USD") == "-$5.00"
    assert money(D("12"), "CHF") == "12.00 CHF"
    assert money(D("12000"), "CNY", places=0) == "¥12,000"
    assert percent(D("0.4139")) == "41.4%"
    assert percent(None) == "–"


def test_a_bar_with_a_link_is_clickable_with_its_label():
    svg = charts.bar_chart(
        [
            charts.Bar(label="East", value=D("10"), target=D("20"), href="/admin/x/?a=1&b=<2>"),
            charts.Bar(label="West", value=D("5"), target=None),
        ],
        label="By region",
        fmt=fmt,
        target_label="Target",
    )
    links = elements(svg, "bar-link")
    assert [link["href"] for link in links] == ["/admin/x/?a=1&b=<2>"]  # parsed back, escaped
    assert 'href="/admin/x/?a=1&amp;b=&lt;2&gt;"' in svg
    start = svg.index('class="bar-link"')
    assert svg.index('data-label="East"', start) < svg.index("</a>", start)
    assert 'data-label="West"' not in svg[start : svg.index("</a>", start)]
