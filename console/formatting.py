"""Numbers as leaders read them: money with the organization's currency, counts with thousands
separators, ratios as percentages."""

from collections.abc import Callable
from decimal import Decimal

from reports.metrics import Metric

CURRENCY_SYMBOLS = {
    "CNY": "¥",
    "JPY": "¥",
    "USD": "$",
    "HKD": "HK$",
    "TWD": "NT$",
    "EUR": "€",
    "GBP": "£",
}


def money(value, currency: str, *, places: int = 2) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    number = f"{Decimal(value):,.{places}f}"
    if number.startswith("-"):
        return f"-{symbol or ''}{number[1:]}" + ("" if symbol else f" {currency}")
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def percent(ratio) -> str:
    if ratio is None:
        return "–"
    return f"{Decimal(ratio) * 100:.1f}%"


def value_formatter(metric: Metric, currency: str, *, axis: bool = False) -> Callable:
    """fmt(value) for a metric's values; `axis`: without cents, for tick labels."""
    if metric.is_money:
        return lambda value: money(value, currency, places=0 if axis else 2)
    if metric.unit == "ratio":
        return percent
    if metric.quantum is not None and not axis:
        return lambda value: f"{Decimal(value):,.2f}"
    return lambda value: f"{Decimal(value):,.0f}"
