"""The roll-up's single pass (issue 7) answers exactly what the general paths answer: scores
read once and kept in memory, qualitative scores summed by the database, per-criterion scorers,
the totals gathered while scoring."""

import datetime as dt
from decimal import Decimal as D

import pytest

from appraisals import evaluation, scoring, services
from appraisals.models import Appraisal, ScoringMethod
from tests.appraisals.test_cycles import _team
from tests.reports.factories import SalesEntryFactory

pytestmark = pytest.mark.django_db

METHODS = [
    (ScoringMethod.RATIO_TO_TARGET, {"cap": 120}),
    (ScoringMethod.RATIO_TO_TARGET, {}),
    (ScoringMethod.BANDS, {"bands": [[8, 100], [0, 0], [3, "60"], [5, 80.5]]}),
    (ScoringMethod.LINEAR, {"floor": 0, "ceiling": 88}),
    (ScoringMethod.LOWER_IS_BETTER, {"best": "1", "worst": 10}),
]
VALUES = [D(0), D("0.5"), D(3), D("4.99"), 5, D("7.999"), D(8), D(88), D("1234.56"), D(-2)]
TARGETS = [None, D(0), D(-5), D("1000.00"), D("33.33")]


@pytest.mark.parametrize(("method", "params"), METHODS)
def test_a_criterions_scorer_scores_like_score_quantitative(method, params):
    score_of = scoring.scorer(method, params)
    for actual in VALUES:
        for target in TARGETS:
            expected = scoring.score_quantitative(method, params, actual, target)
            assert score_of(actual, target) == expected, (actual, target)


def test_the_grade_finder_grades_like_grade_for():
    bands = [
        scoring.Band(grade="B", min_score=D(75), outcome="retain"),
        scoring.Band(grade="A", min_score=D(90), outcome="reward"),
        scoring.Band(grade="D", min_score=D(0), outcome="eliminate"),
        scoring.Band(grade="C", min_score=D(60), outcome="warn"),
    ]
    grade_of = scoring.grade_finder(bands)
    for total in (D(-1), D(0), D("59.99"), D(60), D("74.99"), D(75), D(90), D(120)):
        assert grade_of(total) == scoring.grade_for(total, bands), total
    assert scoring.grade_finder([])(D(50)) is None


def test_the_general_paths_find_nothing_left_after_the_single_pass():
    cycle = _team(6)
    services.appraisal_cycle_score(cycle=cycle)
    criteria = list(cycle.template.criteria.all())
    appraisals = list(
        Appraisal.objects.filter(cycle=cycle).order_by("id").values_list("id", "member_id")
    )
    # Scores read from the database row by row, results from those rows: nothing differs.
    assert evaluation.score_quantitative(cycle, criteria, appraisals) == 0
    assert evaluation.cycle_results(cycle, criteria) == 0


def test_new_facts_change_the_totals_the_general_path_would_compute():
    cycle = _team(4)
    services.appraisal_cycle_score(cycle=cycle)
    member = Appraisal.objects.filter(cycle=cycle, member__role="agent").first().member
    SalesEntryFactory(
        organization=cycle.organization,
        member=member,
        date=dt.date(2026, 3, 9),
        amount=D("12345.67"),
    )
    before = dict(Appraisal.objects.filter(cycle=cycle).values_list("member_id", "total_score"))
    result = services.appraisal_cycle_score(cycle=cycle)
    assert result["scores_changed"] >= 1 and result["appraisals_changed"] >= 1
    after = dict(Appraisal.objects.filter(cycle=cycle).values_list("member_id", "total_score"))
    assert after[member.pk] > before[member.pk]
    criteria = list(cycle.template.criteria.all())
    assert evaluation.cycle_results(cycle, criteria) == 0  # the single pass got it right
