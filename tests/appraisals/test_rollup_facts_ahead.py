"""A roll-up called outside a transaction (the nightly job, the API) reads the members' own facts
on a second connection while it reads the stored scores and targets (appraisals.selectors.
OwnFactsAhead, issue 7), and answers exactly what the one-connection path answers."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from appraisals import services
from appraisals.models import Appraisal, CriterionScore
from tests.appraisals.test_cycles import _team
from tests.reports.factories import DailyReportFactory, SalesEntryFactory

# Committed data, as the job sees it: the facts must be visible to another connection.
pytestmark = pytest.mark.django_db(transaction=True)

RESULT_FIELDS = ("quantitative_score", "total_score", "rank", "grade", "recommended_outcome")


def _results(cycle) -> tuple[dict, dict]:
    appraisals = {
        row[0]: row[1:]
        for row in Appraisal.objects.filter(cycle=cycle).values_list("member_id", *RESULT_FIELDS)
    }
    scores = {
        (row[0], row[1]): row[2:]
        for row in CriterionScore.objects.filter(appraisal__cycle=cycle).values_list(
            "appraisal__member_id", "criterion__name", "raw_value", "score", "weighted_score"
        )
    }
    return appraisals, scores


# The members' own sales grouped by member; the leader's subtree (a target with the downline) is
# read on the roll-up's connection either way.
OWN_SALES = 'SELECT "reports_salesentry"."member_id" AS "member_id", '


def _scored(cycle) -> tuple[dict, bool]:
    """Score the cycle; whether this connection read the members' own sales itself."""
    with CaptureQueriesContext(connection) as queries:
        services.appraisal_cycle_score(cycle=cycle)
    read_here = any(query["sql"].startswith(OWN_SALES) for query in queries.captured_queries)
    return _results(cycle), read_here


def _new_facts(cycle):
    for appraisal in Appraisal.objects.filter(cycle=cycle, member__role="agent"):
        SalesEntryFactory(
            organization=cycle.organization, member=appraisal.member, date=dt.date(2026, 3, 20)
        )
        DailyReportFactory(
            organization=cycle.organization, member=appraisal.member, date=dt.date(2026, 3, 20)
        )


def test_the_facts_read_ahead_give_the_same_scores_and_results():
    if connection.vendor != "postgresql":
        pytest.skip("the second connection is used on PostgreSQL only")
    cycle = _team(5)
    # One connection: inside a transaction, rolled back, so the facts stay as they are.
    with transaction.atomic():
        expected, read_here = _scored(cycle)
        assert read_here
        transaction.set_rollback(True)
    # Outside a transaction: the facts come from the other connection.
    got, read_here = _scored(cycle)
    assert not read_here
    assert got == expected
    assert any(total for _quantitative, total, *_rest in got[0].values())

    # New facts are seen by the next run, read ahead again, and the same as one connection's.
    _new_facts(cycle)
    with transaction.atomic():
        expected, _read_here = _scored(cycle)
        transaction.set_rollback(True)
    got, read_here = _scored(cycle)
    assert not read_here and got == expected


def test_a_cycle_that_is_not_open_is_still_a_conflict_and_leaves_no_thread_behind():
    if connection.vendor != "postgresql":
        pytest.skip("the second connection is used on PostgreSQL only")
    from agents.errors import Conflict

    cycle = _team(2)
    type(cycle).objects.filter(pk=cycle.pk).update(status="draft")
    with pytest.raises(Conflict):
        services.appraisal_cycle_score(cycle=cycle)  # the instance still says open


def test_the_nightly_job_scores_each_cycle_outside_an_outer_transaction():
    """job_run_execute runs the scoring handler without wrapping it (manages_transactions): each
    cycle commits on its own, and the facts are read ahead as the API's score/ reads them."""
    from appraisals.tasks import appraisal_cycles_score_open
    from notifications.models import JobRunStatus
    from notifications.scheduling import job_run_execute
    from tests.notifications.factories import JobRunFactory

    cycle = _team(3)
    _new_facts(cycle)
    run = JobRunFactory(
        organization=cycle.organization, job="appraisal_score", status=JobRunStatus.PENDING
    )
    with CaptureQueriesContext(connection) as queries:
        assert job_run_execute(job_run_id=run.pk, handler=appraisal_cycles_score_open)
    own_sales_here = any(q["sql"].startswith(OWN_SALES) for q in queries.captured_queries)
    assert own_sales_here is (connection.vendor != "postgresql")
    run.refresh_from_db()
    assert run.status == JobRunStatus.DONE
    with transaction.atomic():  # what one connection answers over the same facts
        expected, _read_here = _scored(cycle)
        transaction.set_rollback(True)
    assert _results(cycle) == expected


def test_other_jobs_still_run_in_one_transaction_with_their_done_mark():
    from notifications.models import JobRunStatus
    from notifications.scheduling import job_run_execute
    from tests.notifications.factories import JobRunFactory

    seen = []

    def handler(**_kwargs):
        seen.append(connection.in_atomic_block)

    run = JobRunFactory(status=JobRunStatus.PENDING)
    assert job_run_execute(job_run_id=run.pk, handler=handler)
    handler.manages_transactions = True
    run = JobRunFactory(status=JobRunStatus.PENDING)
    assert job_run_execute(job_run_id=run.pk, handler=handler)
    assert seen == [True, False]


def _in_reader(function):
    from appraisals.selectors import _facts_readers

    return _facts_readers().submit(function).result()


def _reader_backend():
    from django.db import connections

    wrapper = connections["default"]
    return None if wrapper.connection is None else wrapper.connection.info.backend_pid


def _reader_close():
    from django.db import connections

    connections["default"].close()


def test_the_reader_keeps_its_connection_between_roll_ups_only_under_conn_max_age(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the second connection is used on PostgreSQL only")
    cycle = _team(2)
    # The threads' connections share the settings: production keeps connections 60 s.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    try:
        services.appraisal_cycle_score(cycle=cycle)
        first = _in_reader(_reader_backend)
        services.appraisal_cycle_score(cycle=cycle)
        assert first is not None and _in_reader(_reader_backend) == first
    finally:
        _in_reader(_reader_close)
    # The tests' (and a local run's) CONN_MAX_AGE of 0: closed after each roll-up.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    services.appraisal_cycle_score(cycle=cycle)
    assert _in_reader(_reader_backend) is None
