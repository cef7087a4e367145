"""Server-side SVG charts for the admin dashboard: no JavaScript, no external files, so the page
draws the same with no internet.

Every bar and point carries its number twice, for people and for tests: a `<title>` (the tooltip)
and `data-value` (the exact decimal). Geometry is computed with floats; the numbers shown and put
in `data-*` attributes are the callers' Decimals, never the floats. Text is escaped here, so the
result can be marked safe.
"""

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

Number = Decimal | int
Formatter = Callable[[Number], str]

FONT = "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Noto Sans CJK SC', sans-serif"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
ACTUAL, TARGET, GOOD = "#2563eb", "#111827", "#16a34a"
# Histogram bins, best first: green, blue, amber, red, then neutral tones.
PALETTE = ("#16a34a", "#2563eb", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#6b7280")


@dataclass(frozen=True)
class Bar:
    label: str
    value: Number
    target: Number | None = None
    note: str = ""  # shown after the value, e.g. the attainment "82.0%"
    href: str = ""  # where a click on the bar or its label leads (none when empty)


@dataclass(frozen=True)
class LinePoint:
    date: dt.date
    target: Number | None
    actual: Number | None


def _attr(value) -> str:
    return escape(str(value), quote=True)


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and round steps (1, 2, 2.5, 5 x 10^n) up to at least `maximum`."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, tick = [0.0], 0.0
    while tick < maximum - 1e-9:
        tick += step
        ticks.append(round(tick, 10))
    return ticks


def _svg(width: int, height: int, label: str, body: list[str], kind: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'font-family="{_attr(FONT)}" aria-label="{_attr(label)}" data-chart="{kind}">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def text_width(text: str, size: float) -> float:
    """A rough width of `text` in pixels: wide (CJK) characters take a full em, others about
    0.6 em. Enough to lay out columns without a font metrics table."""
    return sum(size if ord(char) > 0x2E80 else size * 0.6 for char in str(text))


def _clip(text: str, size: float, room: float) -> str:
    """`text`, cut with an ellipsis to fit `room` pixels (the full text stays in the tooltip)."""
    text = str(text)
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def _text(x, y, content, *, size=12, anchor="start", fill=INK, weight="normal", cls="") -> str:
    cls_attr = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}"{cls_attr}>{escape(str(content))}</text>'
    )


def bar_chart(
    bars: Sequence[Bar],
    *,
    label: str,
    fmt: Formatter,
    target_label: str,
    axis_fmt: Formatter | None = None,
    width: int = 600,
) -> str:
    """Horizontal bars of actuals with a marker at each bar's target, a value axis at the bottom.
    A bar at or above its target is green."""
    row_h, top, axis_h = 44, 8, 30
    details = [
        fmt(bar.value) + (f" / {fmt(bar.target)}" if bar.target is not None else "") for bar in bars
    ]
    # Columns sized to their texts, within limits that leave the bars room.
    label_w = min(max([text_width(bar.label, 13) + 16 for bar in bars] + [60]), width * 0.3)
    value_w = min(max([text_width(detail, 10.5) + 20 for detail in details] + [110]), width * 0.35)
    plot_x, plot_w = label_w, width - label_w - value_w
    height = top + row_h * max(len(bars), 1) + axis_h
    maximum = max(
        [float(bar.value) for bar in bars] + [float(bar.target or 0) for bar in bars] + [0.0]
    )
    ticks = nice_ticks(maximum)
    scale = plot_w / ticks[-1]
    body = []
    bottom = top + row_h * len(bars)
    for tick in ticks:
        x = plot_x + tick * scale
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>')
        body.append(
            _text(
                x,
                bottom + 16,
                (axis_fmt or fmt)(Decimal(str(tick))),
                size=11,
                anchor="middle",
                fill=MUTED,
                cls="axis-label",
            )
        )
    for index, bar in enumerate(bars):
        y = top + index * row_h
        reached = bar.target is not None and bar.value >= bar.target and bar.target > 0
        fill = GOOD if reached else ACTUAL
        bar_w = max(float(bar.value) * scale, 0.0)
        if bar.href:
            body.append(f'<a class="bar-link" href="{_attr(bar.href)}">')
        body.append(
            _text(
                plot_x - 8,
                y + row_h / 2 + 5,
                _clip(bar.label, 13, label_w - 12),
                size=13,
                anchor="end",
                cls="bar-label",
            )
        )
        body.append(
            f'<rect class="bar" x="{plot_x}" y="{y + 8}" width="{bar_w:.1f}" height="{row_h - 16}" '
            f'rx="3" fill="{fill}" data-label="{_attr(bar.label)}" data-value="{_attr(bar.value)}"'
            f' data-target="{_attr("" if bar.target is None else bar.target)}">'
            f"<title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>"
        )
        if bar.href:
            body.append("</a>")
        if bar.target is not None:
            x = plot_x + float(bar.target) * scale
            body.append(
                f'<line class="target-marker" x1="{x:.1f}" y1="{y + 3}" x2="{x:.1f}" '
                f'y2="{y + row_h - 3}" stroke="{TARGET}" stroke-width="3" '
                f'data-label="{_attr(bar.label)}" data-value="{_attr(bar.target)}">'
                f"<title>{escape(bar.label)} · {escape(target_label)}: "
                f"{escape(fmt(bar.target))}</title></line>"
            )
        # Right of the plot: the attainment, large, and actual / target under it.
        body.append(
            _text(
                plot_x + plot_w + 12,
                y + row_h / 2 - 2,
                bar.note or fmt(bar.value),
                size=15,
                weight="700",
                fill=GOOD if reached else INK,
                cls="bar-summary",
            )
        )
        detail = details[index]
        body.append(
            _text(
                plot_x + plot_w + 12,
                y + row_h / 2 + 13,
                detail,
                size=10.5,
                fill=MUTED,
                cls="bar-detail",
            )
        )
    return _svg(width, height, label, body, "bar")


def line_chart(
    points: Sequence[LinePoint],
    *,
    label: str,
    fmt: Formatter,
    target_label: str,
    actual_label: str,
    axis_fmt: Formatter | None = None,
    today: dt.date | None = None,
    today_label: str = "",
    width: int = 1000,
    height: int = 300,
) -> str:
    """Two lines over days: the target (dashed) and the actual (solid, up to the last known
    day), a dot with the number at every point, dates along the bottom, values on the left."""
    left, right, top, bottom = 80, 16, 34, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for p in points for v in (p.target, p.actual) if v is not None]
    ticks = nice_ticks(max(values + [0.0]))
    y_scale = plot_h / ticks[-1]
    step = plot_w / max(len(points) - 1, 1)

    def xy(index: int, value) -> tuple[float, float]:
        return left + index * step, top + plot_h - float(value) * y_scale

    body = []
    for tick in ticks:
        y = top + plot_h - tick * y_scale
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(
            _text(
                left - 6,
                y + 4,
                (axis_fmt or fmt)(Decimal(str(tick))),
                size=11,
                anchor="end",
                fill=MUTED,
                cls="axis-label",
            )
        )
    every = max(1, math.ceil(len(points) / 16))
    last = len(points) - 1
    for index, point in enumerate(points):
        # Every `every` days, and the last day unless it would overlap the label before it.
        if index % every == 0 or (index == last and index % every > every / 2):
            x = left + index * step
            body.append(
                _text(
                    x,
                    height - 12,
                    f"{point.date:%m-%d}",
                    size=11,
                    anchor="middle",
                    fill=MUTED,
                    cls="axis-label",
                )
            )
    for index, point in enumerate(points):
        if point.date == today:
            x = left + index * step
            body.append(
                f'<line class="today" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                f'stroke="{MUTED}" stroke-width="1" stroke-dasharray="2 3"/>'
            )
            body.append(_text(x + 4, top + 12, today_label, size=11, fill=MUTED, cls="today"))
    for series, colour, dash, series_label in (
        ("target", TARGET, ' stroke-dasharray="6 4"', target_label),
        ("actual", ACTUAL, "", actual_label),
    ):
        known = [
            (index, getattr(point, series), point.date)
            for index, point in enumerate(points)
            if getattr(point, series) is not None
        ]
        if not known:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v, _ in known))
        body.append(
            f'<polyline class="series series-{series}" points="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="2.5"{dash}/>'
        )
        for index, value, day in known:
            x, y = xy(index, value)
            body.append(
                f'<circle class="point point-{series}" cx="{x:.1f}" cy="{y:.1f}" '
                f'r="{3.2 if series == "actual" else 2.2}" fill="{colour}" '
                f'data-series="{series}" data-date="{day.isoformat()}" '
                f'data-value="{_attr(value)}"><title>{day.isoformat()} · '
                f"{escape(series_label)}: {escape(fmt(value))}</title></circle>"
            )
    legend_x = left
    for colour, dash, text in (
        (TARGET, ' stroke-dasharray="6 4"', target_label),
        (ACTUAL, "", actual_label),
    ):
        body.append(
            f'<line x1="{legend_x}" y1="14" x2="{legend_x + 24}" y2="14" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/>'
        )
        body.append(_text(legend_x + 30, 18, text, size=12, cls="legend"))
        legend_x += 30 + 9 * len(text) + 40
    return _svg(width, height, label, body, "line")


def histogram(
    bins: Sequence[tuple[str, int]], *, label: str, width: int = 420, height: int = 220
) -> str:
    """Vertical bars of counts, one per bin (e.g. grades), the count above each bar."""
    left, right, top, bottom = 36, 12, 24, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max([count for _, count in bins] + [0]))
    ticks = sorted({math.ceil(tick) for tick in ticks})  # counts: whole numbers only
    y_scale = plot_h / ticks[-1]
    slot = plot_w / max(len(bins), 1)
    body = []
    for tick in ticks:
        y = top + plot_h - tick * y_scale
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(
            _text(left - 6, y + 4, tick, size=11, anchor="end", fill=MUTED, cls="axis-label")
        )
    for index, (name, count) in enumerate(bins):
        bar_h = count * y_scale
        x = left + index * slot + slot * 0.18
        y = top + plot_h - bar_h
        body.append(
            f'<rect class="bin" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.64:.1f}" '
            f'height="{bar_h:.1f}" rx="3" fill="{PALETTE[index % len(PALETTE)]}" '
            f'data-label="{_attr(name)}" data-value="{count}">'
            f"<title>{escape(name)}: {count}</title></rect>"
        )
        body.append(
            _text(
                x + slot * 0.32,
                y - 6,
                count,
                size=12,
                anchor="middle",
                weight="600",
                cls="bin-count",
            )
        )
        body.append(
            _text(x + slot * 0.32, height - 10, name, size=12, anchor="middle", cls="axis-label")
        )
    return _svg(width, height, label, body, "histogram")
