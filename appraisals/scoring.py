"""The arithmetic of appraisals, as pure functions (no database): how a raw value becomes a score,
a score a weighted score, totals a grade and a rank, and a member's history a recommended outcome.
Also the validation of what a template may say (method parameters, weights, grades, rules).

Scores are Decimals rounded half up to two places; weighted scores are rounded the same way and
totals are sums of the rounded weighted scores, so the numbers an appraisal shows add up.

- ratio_to_target: min(actual / target x 100, cap); no target (or a target <= 0) scores 0.
- bands: the score of the highest threshold <= actual; below every threshold, 0.
- linear: floor -> 0, ceiling -> 100, straight line between, clamped to 0..100.
- lower_is_better: actual <= best -> 100, actual >= worst -> 0, straight line between.
- scale (qualitative): s on a scale of n -> s / n x 100.
- weighted = score x weight / 100.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import CriterionKind, Outcome, ScoringMethod

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
DEFAULT_CAP = Decimal(120)
MAX_SCALE_LEVELS = 10
# Bounds that keep every stored score within its column (scores up to 1000 allow caps above 100).
MAX_SCORE = Decimal(1000)
MAX_ATTAINMENT = Decimal("9999999.99")
MAX_RULE_LOOKBACK = 24


def quantize(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


# --- Methods -------------------------------------------------------------------------------------


def ratio_to_target_ratio(actual: Decimal, target: Decimal | None) -> Decimal | None:
    """Attainment in percent, uncapped; None without a usable target."""
    if target is None or target <= 0:
        return None
    return to_decimal(actual) / to_decimal(target) * HUNDRED


def score_ratio_to_target(actual: Decimal, target: Decimal | None, *, cap) -> Decimal:
    ratio = ratio_to_target_ratio(actual, target)
    if ratio is None:
        return ZERO
    return quantize(max(min(ratio, to_decimal(cap)), Decimal(0)))


def score_bands(actual: Decimal, *, bands: Sequence[Sequence]) -> Decimal:
    actual = to_decimal(actual)
    score = ZERO
    for threshold, band_score in sorted(bands, key=lambda band: to_decimal(band[0])):
        if actual >= to_decimal(threshold):
            score = to_decimal(band_score)
    return quantize(score)


def score_linear(actual: Decimal, *, floor, ceiling) -> Decimal:
    actual, floor, ceiling = to_decimal(actual), to_decimal(floor), to_decimal(ceiling)
    if actual <= floor:
        return ZERO
    if actual >= ceiling:
        return quantize(HUNDRED)
    return quantize((actual - floor) / (ceiling - floor) * HUNDRED)


def score_lower_is_better(actual: Decimal, *, best, worst) -> Decimal:
    actual, best, worst = to_decimal(actual), to_decimal(best), to_decimal(worst)
    if actual <= best:
        return quantize(HUNDRED)
    if actual >= worst:
        return ZERO
    return quantize((worst - actual) / (worst - best) * HUNDRED)


def score_scale(value: int, *, levels: int) -> Decimal:
    return quantize(Decimal(value) / Decimal(levels) * HUNDRED)


def score_quantitative(
    method: str, params: Mapping, actual: Decimal, target: Decimal | None = None
) -> Decimal:
    """The score of a quantitative criterion, by its method."""
    if method == ScoringMethod.RATIO_TO_TARGET:
        return score_ratio_to_target(actual, target, cap=params.get("cap", DEFAULT_CAP))
    if method == ScoringMethod.BANDS:
        return score_bands(actual, bands=params["bands"])
    if method == ScoringMethod.LINEAR:
        return score_linear(actual, floor=params["floor"], ceiling=params["ceiling"])
    if method == ScoringMethod.LOWER_IS_BETTER:
        return score_lower_is_better(actual, best=params["best"], worst=params["worst"])
    raise ValueError(f"not a quantitative method: {method}")


def scorer(method: str, params: Mapping) -> Callable[[Decimal, Decimal | None], Decimal]:
    """`score_quantitative` for one criterion, with its parameters converted (and bands sorted)
    once: a cycle scores the same criterion for every member. Same arithmetic, same results."""
    if method == ScoringMethod.RATIO_TO_TARGET:
        cap = to_decimal(params.get("cap", DEFAULT_CAP))

        def ratio_score(actual, target):
            if target is None or target <= 0:
                return ZERO
            ratio = to_decimal(actual) / to_decimal(target) * HUNDRED
            return quantize(max(min(ratio, cap), Decimal(0)))

        return ratio_score
    if method == ScoringMethod.BANDS:
        ordered = [
            (to_decimal(threshold), to_decimal(band_score))
            for threshold, band_score in sorted(params["bands"], key=lambda b: to_decimal(b[0]))
        ]

        def bands_score(actual, target):
            actual, score = to_decimal(actual), ZERO
            for threshold, band_score in ordered:
                if actual >= threshold:
                    score = band_score
            return quantize(score)

        return bands_score
    if method == ScoringMethod.LINEAR:
        floor, ceiling = to_decimal(params["floor"]), to_decimal(params["ceiling"])
        return lambda actual, target: score_linear(actual, floor=floor, ceiling=ceiling)
    if method == ScoringMethod.LOWER_IS_BETTER:
        best, worst = to_decimal(params["best"]), to_decimal(params["worst"])
        return lambda actual, target: score_lower_is_better(actual, best=best, worst=worst)
    raise ValueError(f"not a quantitative method: {method}")


def weighted(score: Decimal, weight: Decimal) -> Decimal:
    return quantize(to_decimal(score) * to_decimal(weight) / HUNDRED)


# --- Totals, grades, ranks -----------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    grade: str
    min_score: Decimal
    outcome: str


def grade_for(total: Decimal, bands: Iterable[Band]) -> Band | None:
    """The band with the highest minimum at or below the total. A total below every band's
    minimum falls in the lowest band (every appraisal gets a grade)."""
    ordered = sorted(bands, key=lambda band: band.min_score, reverse=True)
    if not ordered:
        return None
    for band in ordered:
        if total >= band.min_score:
            return band
    return ordered[-1]


def grade_finder(bands: Iterable[Band]) -> Callable[[Decimal], Band | None]:
    """`grade_for` with the bands sorted once, for grading a whole cycle."""
    ordered = sorted(bands, key=lambda band: band.min_score, reverse=True)

    def grade_of(total: Decimal) -> Band | None:
        for band in ordered:
            if total >= band.min_score:
                return band
        return ordered[-1] if ordered else None

    return grade_of


def competition_ranks(totals: Mapping) -> dict:
    """key -> rank by total, highest first; equal totals share a rank and the next rank skips
    (1, 2, 2, 4)."""
    ordered = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    ranks = {}
    previous = None
    rank = 0
    for position, (key, total) in enumerate(ordered, start=1):
        if total != previous:
            rank = position
            previous = total
        ranks[key] = rank
    return ranks


def weighted_attainment(parts: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """The weight-averaged attainment over (ratio in percent, weight) pairs; None without any."""
    parts = list(parts)
    total_weight = sum((weight for _, weight in parts), Decimal(0))
    if not parts or total_weight <= 0:
        return None
    average = sum((ratio * weight for ratio, weight in parts), Decimal(0)) / total_weight
    return quantize(min(average, MAX_ATTAINMENT))


# --- Rules across cycles -------------------------------------------------------------------------


@dataclass(frozen=True)
class PastResult:
    """The member's appraisal in one earlier finalized cycle of the same template; None fields
    when the member had no appraisal in that cycle."""

    grade: str | None
    outcome: str | None


def _grades(condition: Mapping) -> set[str] | None:
    grade = condition.get("grade")
    if grade is None:
        return None
    return {grade} if isinstance(grade, str) else set(grade)


def rule_matches(
    rule: Mapping,
    *,
    grade: str | None,
    total: Decimal,
    attainment: Decimal | None,
    history: Sequence[PastResult],
) -> bool:
    """Whether a rule applies. `history` is the member's results in the template's previous
    finalized cycles, most recent first (one entry per cycle, so a cycle the member was not
    appraised in breaks a streak)."""
    condition = rule.get("if", {})
    grades = _grades(condition)
    if grades is not None:
        consecutive = int(condition.get("consecutive", 1))
        if grade not in grades:
            return False
        streak = history[: consecutive - 1]
        if len(streak) < consecutive - 1 or any(past.grade not in grades for past in streak):
            return False
    bounds = (
        ("min_attainment", attainment, lambda value, limit: value >= limit),
        ("max_attainment", attainment, lambda value, limit: value <= limit),
        ("min_total", total, lambda value, limit: value >= limit),
        ("max_total", total, lambda value, limit: value <= limit),
    )
    for key, value, holds in bounds:
        if key in condition and (value is None or not holds(value, to_decimal(condition[key]))):
            return False
    cooldown = int(rule.get("cooldown_cycles", 0))
    return not any(past.outcome == rule["then"] for past in history[:cooldown])


def recommend(
    *,
    band: Band | None,
    total: Decimal,
    attainment: Decimal | None,
    rules: Sequence[Mapping],
    history: Sequence[PastResult],
) -> tuple[str | None, dict]:
    """(recommended outcome, basis). The first matching rule wins; otherwise the grade band's
    outcome. The basis says which, so the recommendation can be explained."""
    grade = band.grade if band else None
    for index, rule in enumerate(rules):
        if rule_matches(rule, grade=grade, total=total, attainment=attainment, history=history):
            return rule["then"], {"source": "rule", "rule": index, "grade": grade}
    if band is None:
        return None, {}
    return band.outcome, {"source": "grade", "grade": grade}


def rules_lookback(rules: Sequence[Mapping]) -> int:
    """How many earlier cycles the rules need to see."""
    needed = 0
    for rule in rules:
        needed = max(
            needed,
            int(rule.get("if", {}).get("consecutive", 1)) - 1,
            int(rule.get("cooldown_cycles", 0)),
        )
    return needed


# --- Validation of templates ---------------------------------------------------------------------


def _number(params: Mapping, key: str, errors: list) -> Decimal | None:
    value = params.get(key)
    if value is None:
        errors.append(_("“%(key)s” is required.") % {"key": key})
        return None
    try:
        number = to_decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors.append(_("“%(key)s” must be a number.") % {"key": key})
        return None
    if not number.is_finite():
        errors.append(_("“%(key)s” must be a number.") % {"key": key})
        return None
    return number


def _unknown_keys(params: Mapping, allowed: set[str], errors: list) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        errors.append(_("Unknown parameters: %(keys)s.") % {"keys": ", ".join(unknown)})


def validate_params(method: str, params) -> dict:
    """Check a criterion's parameters for its method and return them normalized (numbers as
    JSON numbers or strings as given, defaults filled in). Raises ValidationError."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationError(_("Parameters must be an object."))
    errors: list = []
    normalized = dict(params)
    if method == ScoringMethod.RATIO_TO_TARGET:
        _unknown_keys(params, {"cap"}, errors)
        if "cap" not in params:
            normalized["cap"] = int(DEFAULT_CAP)
        else:
            cap = _number(params, "cap", errors)
            if cap is not None and not 0 < cap <= MAX_SCORE:
                errors.append(_("The cap must be above 0 and at most 1000."))
    elif method == ScoringMethod.BANDS:
        _unknown_keys(params, {"bands"}, errors)
        bands = params.get("bands")
        if not isinstance(bands, list) or not bands:
            errors.append(_("“bands” must be a non-empty list of [threshold, score] pairs."))
        else:
            thresholds = []
            for band in bands:
                if not isinstance(band, list | tuple) or len(band) != 2:
                    errors.append(_("Each band is a [threshold, score] pair."))
                    break
                pair_errors: list = []
                threshold = _number({"threshold": band[0]}, "threshold", pair_errors)
                score = _number({"score": band[1]}, "score", pair_errors)
                if pair_errors:
                    errors.extend(pair_errors)
                    break
                if not 0 <= score <= MAX_SCORE:
                    errors.append(_("Band scores are from 0 to 1000."))
                    break
                thresholds.append(threshold)
            if not errors and len(set(thresholds)) != len(thresholds):
                errors.append(_("Band thresholds must be distinct."))
            if not errors:
                normalized["bands"] = sorted(
                    (list(band) for band in bands), key=lambda band: to_decimal(band[0])
                )
    elif method == ScoringMethod.LINEAR:
        _unknown_keys(params, {"floor", "ceiling"}, errors)
        floor = _number(params, "floor", errors)
        ceiling = _number(params, "ceiling", errors)
        if floor is not None and ceiling is not None and ceiling <= floor:
            errors.append(_("The ceiling must be above the floor."))
    elif method == ScoringMethod.LOWER_IS_BETTER:
        _unknown_keys(params, {"best", "worst"}, errors)
        best = _number(params, "best", errors)
        worst = _number(params, "worst", errors)
        if best is not None and worst is not None and worst <= best:
            errors.append(_("“worst” must be above “best”."))
    elif method == ScoringMethod.SCALE:
        _unknown_keys(params, {"levels", "descriptions"}, errors)
        levels = params.get("levels", 5)
        if (
            isinstance(levels, bool)
            or not isinstance(levels, int)
            or not (2 <= levels <= MAX_SCALE_LEVELS)
        ):
            errors.append(
                _("“levels” must be a whole number from 2 to %(max)d.") % {"max": MAX_SCALE_LEVELS}
            )
        else:
            normalized["levels"] = levels
            descriptions = params.get("descriptions", {})
            if not isinstance(descriptions, dict) or not all(
                isinstance(text, str) for text in descriptions.values()
            ):
                errors.append(_("“descriptions” maps a level to its text."))
            else:
                allowed = {str(level) for level in range(1, levels + 1)}
                if set(map(str, descriptions)) - allowed:
                    errors.append(
                        _("Descriptions are keyed by the levels 1 to %(levels)d.")
                        % {"levels": levels}
                    )
                normalized["descriptions"] = {str(key): text for key, text in descriptions.items()}
    else:
        errors.append(_("Unknown scoring method."))
    if errors:
        raise ValidationError(errors)
    return normalized


def validate_criterion(*, kind: str, method: str, metric: str, metric_keys) -> dict:
    """Cross-field rules of one criterion: field -> [messages]."""
    errors: dict[str, list] = {}
    if kind == CriterionKind.QUALITATIVE:
        if method != ScoringMethod.SCALE:
            errors["method"] = [_("Qualitative criteria are scored on a scale (“scale”).")]
        if metric:
            errors["metric"] = [_("Qualitative criteria are scored by the reviewer, not a metric.")]
    else:
        if method == ScoringMethod.SCALE:
            errors["method"] = [_("The scale is for qualitative criteria.")]
        if not metric:
            errors["metric"] = [_("Quantitative criteria name a metric.")]
        elif metric not in metric_keys:
            errors["metric"] = [_("Unknown metric: %(metric)s.") % {"metric": metric}]
    return errors


def weights_error(weights: Iterable[Decimal]) -> str | None:
    total = sum((to_decimal(weight) for weight in weights), Decimal(0))
    if total != HUNDRED:
        return _("The weights of the criteria must sum to exactly 100 (they sum to %(total)s).") % {
            "total": format(total.normalize(), "f")
        }
    return None


RULE_CONDITIONS = {
    "grade",
    "consecutive",
    "min_attainment",
    "max_attainment",
    "min_total",
    "max_total",
}


def validate_rules(rules, *, grades: set[str]) -> list:
    """Check the rules across cycles; return them unchanged. Raises ValidationError."""
    if rules is None:
        return []
    if not isinstance(rules, list):
        raise ValidationError(_("Rules are a list."))
    errors = []
    for position, rule in enumerate(rules, start=1):
        prefix = _("Rule %(number)d: ") % {"number": position}
        if not isinstance(rule, dict) or set(rule) - {"if", "then", "cooldown_cycles"}:
            errors.append(prefix + _("use the keys “if”, “then” and “cooldown_cycles”."))
            continue
        condition = rule.get("if", {})
        if not isinstance(condition, dict) or not condition:
            errors.append(prefix + _("“if” must be a non-empty object."))
            continue
        unknown = sorted(set(condition) - RULE_CONDITIONS)
        if unknown:
            keys = ", ".join(unknown)
            errors.append(prefix + _("unknown conditions: %(keys)s.") % {"keys": keys})
        if rule.get("then") not in Outcome.values:
            errors.append(
                prefix
                + _("“then” must be one of %(values)s.") % {"values": ", ".join(Outcome.values)}
            )
        grade = condition.get("grade")
        if grade is not None:
            named = [grade] if isinstance(grade, str) else grade
            if not isinstance(named, list) or not all(isinstance(g, str) for g in named):
                errors.append(prefix + _("“grade” is a grade or a list of grades."))
            elif set(named) - grades:
                unknown_grades = ", ".join(sorted(set(named) - grades))
                errors.append(
                    prefix + _("unknown grades: %(grades)s.") % {"grades": unknown_grades}
                )
        elif "consecutive" in condition:
            errors.append(prefix + _("“consecutive” needs a “grade”."))
        for key, low in (("consecutive", 1), ("cooldown_cycles", 0)):
            source = condition if key == "consecutive" else rule
            if key in source:
                value = source[key]
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not (low <= value <= MAX_RULE_LOOKBACK)
                ):
                    errors.append(
                        prefix
                        + _("“%(key)s” must be a whole number from %(low)d to %(high)d.")
                        % {"key": key, "low": low, "high": MAX_RULE_LOOKBACK}
                    )
        for key in ("min_attainment", "max_attainment", "min_total", "max_total"):
            if key in condition:
                number_errors: list = []
                _number(condition, key, number_errors)
                errors.extend(prefix + str(message) for message in number_errors)
    if errors:
        raise ValidationError(errors)
    return rules
