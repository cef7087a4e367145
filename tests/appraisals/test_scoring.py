"""The arithmetic, against values computed by hand."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from appraisals import scoring
from appraisals.scoring import Band, PastResult


def test_ratio_to_target_is_actual_over_target_capped():
    assert scoring.score_ratio_to_target(D("8000"), D("10000"), cap=120) == D("80.00")
    assert scoring.score_ratio_to_target(D("13000"), D("10000"), cap=120) == D("120.00")
    assert scoring.score_ratio_to_target(D("13000"), D("10000"), cap=100) == D("100.00")
    # 2/3 = 66.666..% rounds half up
    assert scoring.score_ratio_to_target(D("2"), D("3"), cap=120) == D("66.67")


def test_ratio_to_target_without_a_target_scores_zero():
    assert scoring.score_ratio_to_target(D("5000"), None, cap=120) == D("0.00")
    assert scoring.score_ratio_to_target(D("5000"), D("0"), cap=120) == D("0.00")


def test_bands_take_the_highest_threshold_reached():
    bands = [[0, 0], [3, 60], [5, 80], [8, 100]]
    assert scoring.score_bands(D("2.9"), bands=bands) == D("0.00")
    assert scoring.score_bands(D("3"), bands=bands) == D("60.00")
    assert scoring.score_bands(D("7.99"), bands=bands) == D("80.00")
    assert scoring.score_bands(D("12"), bands=bands) == D("100.00")
    assert scoring.score_bands(D("-1"), bands=[[0, 50]]) == D("0.00")
    # order of the pairs does not matter
    assert scoring.score_bands(D("6"), bands=[[8, 100], [3, 60], [5, 80]]) == D("80.00")


def test_linear_runs_from_floor_to_ceiling_clamped():
    assert scoring.score_linear(D("10"), floor=20, ceiling=120) == D("0.00")
    assert scoring.score_linear(D("45"), floor=20, ceiling=120) == D("25.00")
    assert scoring.score_linear(D("200"), floor=20, ceiling=120) == D("100.00")
    assert scoring.score_linear(D("1"), floor=0, ceiling=3) == D("33.33")


def test_lower_is_better_runs_from_worst_to_best():
    assert scoring.score_lower_is_better(D("0"), best=0, worst=5) == D("100.00")
    assert scoring.score_lower_is_better(D("2"), best=0, worst=5) == D("60.00")
    assert scoring.score_lower_is_better(D("5"), best=0, worst=5) == D("0.00")
    assert scoring.score_lower_is_better(D("9"), best=0, worst=5) == D("0.00")
    assert scoring.score_lower_is_better(D("3"), best=1, worst=4) == D("33.33")


def test_scale_and_weighting():
    assert scoring.score_scale(4, levels=5) == D("80.00")
    assert scoring.score_scale(2, levels=3) == D("66.67")
    assert scoring.weighted(D("80.00"), D("20")) == D("16.00")
    assert scoring.weighted(D("66.67"), D("15")) == D("10.00")  # 10.0005 -> 10.00
    assert scoring.weighted(D("33.33"), D("15")) == D("5.00")  # 4.9995 -> 5.00 (half up)


def test_score_quantitative_dispatches_on_the_method():
    assert scoring.score_quantitative("ratio_to_target", {"cap": 120}, D(9), D(10)) == D("90.00")
    assert scoring.score_quantitative("linear", {"floor": 0, "ceiling": 10}, D(4)) == D("40.00")
    assert scoring.score_quantitative("bands", {"bands": [[1, 70]]}, D(1)) == D("70.00")
    assert scoring.score_quantitative("lower_is_better", {"best": 0, "worst": 4}, D(1)) == D(
        "75.00"
    )


BANDS = [
    Band("A", D(90), "reward"),
    Band("B", D(75), "retain"),
    Band("C", D(60), "warn"),
    Band("D", D(0), "eliminate"),
]


@pytest.mark.parametrize(
    ("total", "grade"),
    [("100", "A"), ("90.00", "A"), ("89.99", "B"), ("75", "B"), ("60", "C"), ("59.99", "D")],
)
def test_grade_is_the_highest_band_at_or_below_the_total(total, grade):
    assert scoring.grade_for(D(total), BANDS).grade == grade


def test_a_total_below_every_band_gets_the_lowest():
    assert (
        scoring.grade_for(D("10"), [Band("P", D(50), "retain"), Band("F", D(20), "warn")]).grade
        == "F"
    )
    assert scoring.grade_for(D("10"), []) is None


def test_ranks_with_ties_share_a_rank_and_skip():
    totals = {"a": D("88"), "b": D("75.5"), "c": D("75.50"), "d": D("60"), "e": D("90")}
    assert scoring.competition_ranks(totals) == {"e": 1, "a": 2, "b": 3, "c": 3, "d": 5}
    assert scoring.competition_ranks({"x": D(1), "y": D(1), "z": D(1)}) == {"x": 1, "y": 1, "z": 1}
    assert scoring.competition_ranks({}) == {}


def test_weighted_attainment():
    assert scoring.weighted_attainment([(D(80), D(20)), (D(110), D(10))]) == D("90.00")
    assert scoring.weighted_attainment([(D(10) ** 12, D(1))]) == scoring.MAX_ATTAINMENT
    assert scoring.weighted_attainment([]) is None


# --- Rules across cycles ---------------------------------------------------------------------

D_TWICE = {"if": {"grade": "D", "consecutive": 2}, "then": "eliminate"}
A_PROMOTES = {"if": {"grade": "A", "min_attainment": 100}, "then": "promote", "cooldown_cycles": 2}


def recommend(grade, *, history=(), attainment=None, rules=(D_TWICE, A_PROMOTES), total=None):
    band = next(b for b in BANDS if b.grade == grade)
    total = D(total) if total is not None else band.min_score
    return scoring.recommend(
        band=band, total=total, attainment=attainment, rules=list(rules), history=list(history)
    )


def test_without_a_matching_rule_the_grade_band_recommends():
    assert recommend("D") == ("eliminate", {"source": "grade", "grade": "D"})
    assert recommend("A", attainment=D(99)) == ("reward", {"source": "grade", "grade": "A"})


def test_consecutive_grades_trigger_a_rule():
    rules = [{"if": {"grade": "C", "consecutive": 2}, "then": "demote"}]
    assert recommend("C", rules=rules, history=[PastResult("C", "warn")])[0] == "demote"
    assert recommend("C", rules=rules, history=[PastResult("B", "retain")])[0] == "warn"
    # a first appraisal has no streak
    assert recommend("C", rules=rules)[0] == "warn"
    # a cycle the member was not appraised in breaks the streak
    assert recommend("C", rules=rules, history=[PastResult(None, None)])[0] == "warn"
    three = [{"if": {"grade": ["C", "D"], "consecutive": 3}, "then": "eliminate"}]
    history = [PastResult("D", "warn"), PastResult("C", "warn")]
    assert recommend("C", rules=three, history=history)[0] == "eliminate"
    assert recommend("C", rules=three, history=history[:1])[0] == "warn"


def test_attainment_condition_and_cooldown():
    outcome, basis = recommend("A", attainment=D(100))
    assert outcome == "promote" and basis == {"source": "rule", "rule": 1, "grade": "A"}
    assert recommend("A", attainment=None)[0] == "reward"
    # promoted one cycle ago, or two: cooling down; three cycles ago: may promote again
    promoted = PastResult("A", "promote")
    rewarded = PastResult("A", "reward")
    assert recommend("A", attainment=D(120), history=[promoted])[0] == "reward"
    assert recommend("A", attainment=D(120), history=[rewarded, promoted])[0] == "reward"
    assert recommend("A", attainment=D(120), history=[rewarded, rewarded, promoted])[0] == (
        "promote"
    )


def test_first_matching_rule_wins_and_totals_can_be_conditions():
    rules = [
        {"if": {"max_total": 30}, "then": "eliminate"},
        {"if": {"grade": "D"}, "then": "warn"},
    ]
    assert recommend("D", rules=rules, total="20")[0] == "eliminate"
    assert recommend("D", rules=rules, total="45")[0] == "warn"


def test_lookback_covers_streaks_and_cooldowns():
    assert scoring.rules_lookback([D_TWICE, A_PROMOTES]) == 2
    assert scoring.rules_lookback([]) == 0


# --- Validation ------------------------------------------------------------------------------


def test_params_are_validated_per_method_and_normalized():
    assert scoring.validate_params("ratio_to_target", {}) == {"cap": 120}
    assert scoring.validate_params("bands", {"bands": [[5, 80], [0, 0]]}) == {
        "bands": [[0, 0], [5, 80]]
    }
    assert scoring.validate_params("scale", {"levels": 5})["levels"] == 5
    bad = [
        ("ratio_to_target", {"cap": 0}),
        ("ratio_to_target", {"cap": 1001}),
        ("bands", {"bands": [[1, 5000]]}),
        ("ratio_to_target", {"cap": "x"}),
        ("ratio_to_target", {"limit": 3}),
        ("bands", {"bands": []}),
        ("bands", {"bands": [[1, 2, 3]]}),
        ("bands", {"bands": [[1, 20], [1, 30]]}),
        ("bands", {"bands": [[1, -5]]}),
        ("linear", {"floor": 10, "ceiling": 10}),
        ("linear", {"floor": 0}),
        ("lower_is_better", {"best": 5, "worst": 1}),
        ("scale", {"levels": 1}),
        ("scale", {"levels": True}),
        ("scale", {"levels": 5, "descriptions": {"6": "too high"}}),
        ("scale", {"levels": 5, "descriptions": {"1": 3}}),
        ("linear", ["not", "an", "object"]),
        ("linear", {"floor": "NaN", "ceiling": 1}),
    ]
    for method, params in bad:
        with pytest.raises(ValidationError):
            scoring.validate_params(method, params)


def test_weights_must_sum_to_exactly_100():
    assert scoring.weights_error([D(60), D(40)]) is None
    assert scoring.weights_error([D("33.33"), D("33.33"), D("33.34")]) is None
    assert "99.99" in scoring.weights_error([D("33.33"), D("33.33"), D("33.33")])
    assert "110" in scoring.weights_error([D(60), D(50)])


def test_rules_are_validated():
    grades = {"A", "B", "C", "D"}
    assert scoring.validate_rules([D_TWICE, A_PROMOTES], grades=grades)
    bad = [
        [{"if": {"grade": "E"}, "then": "warn"}],
        [{"if": {"grade": "A"}, "then": "fire"}],
        [{"if": {}, "then": "warn"}],
        [{"if": {"colour": "red"}, "then": "warn"}],
        [{"if": {"consecutive": 2}, "then": "warn"}],
        [{"if": {"grade": "A", "consecutive": 0}, "then": "warn"}],
        [{"if": {"grade": "A"}, "then": "warn", "cooldown_cycles": -1}],
        [{"if": {"grade": "A"}, "then": "warn", "otherwise": "retain"}],
        [{"if": {"min_attainment": "lots"}, "then": "warn"}],
        "not a list",
    ]
    for rules in bad:
        with pytest.raises(ValidationError):
            scoring.validate_rules(rules, grades=grades)
