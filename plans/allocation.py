"""Exact splitting of a number into parts: the arithmetic under target breakdowns and daily
decomposition. Pure functions, no database.

Parts are whole multiples of a quantum (a cent for money, one for counts) and always sum to the
total exactly. The units left over by rounding down go by the largest-remainder method: to the
parts whose exact share lost the most, then to the larger weight, then to the earlier part, so
that the same input always gives the same answer.
"""

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal
from math import lcm


def split_by_weights(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split `total` in proportion to `weights` (non-negative; all zero means evenly)."""
    if not weights:
        return []
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    if total < 0:
        raise ValueError("total must not be negative")
    if sum(weights) == 0:
        weights = [Decimal(1)] * len(weights)
    units = int((total / quantum).to_integral_value(rounding=ROUND_FLOOR))
    # A total finer than the quantum (e.g. 10.5 for a count) keeps its fraction on the first
    # ranked part, so that the parts still sum to the total.
    residue = total - units * quantum
    # Exact shares in integers: the weights over a common denominator, each share's whole part
    # and remainder by divmod (the remainder / the weights' sum is the share's fraction).
    ratios = [Decimal(weight).as_integer_ratio() for weight in weights]
    denominator = lcm(*(den for _num, den in ratios))
    scaled = [num * (denominator // den) for num, den in ratios]
    weight_sum = sum(scaled)
    floors, remainders = zip(
        *(divmod(units * weight, weight_sum) for weight in scaled), strict=True
    )
    floors = list(floors)
    left = units - sum(floors)
    ranking = sorted(range(len(weights)), key=lambda i: (-remainders[i], -scaled[i], i))
    for i in ranking[:left]:
        floors[i] += 1
    parts = [quantum * part for part in floors]
    if residue:
        parts[ranking[0]] += residue
    return parts


def split_evenly(total: Decimal, count: int, quantum: Decimal) -> list[Decimal]:
    return split_by_weights(total, [Decimal(1)] * count, quantum)
