"""The metric vocabulary as plans uses it.

The vocabulary lives in reports/metrics.py (METRICS: key -> Metric with its label, unit,
direction, whether it is additive, and its precision); plans validates target metrics against it
and computes every actual through it. Additive metrics split into parts that sum up to the whole
(by members, regions, products, customers and days); the others (averages and ratios) are levels
that every part must reach, so their targets are copied rather than split.
"""

from decimal import Decimal

from reports.metrics import METRICS, Metric

CENT = Decimal("0.01")
UNIT = Decimal("1")


def metric_for(key: str) -> Metric:
    return METRICS[key]


def target_quantum(metric: Metric) -> Decimal:
    """The smallest step of a target value: whole numbers for counts and minutes, cents for
    money, hundredths for averages and ratios (target values carry two decimal places)."""
    if metric.quantum is None:
        return UNIT
    return max(metric.quantum, CENT)
