"""Daily jobs in each organization's own timezone: one dispatcher per job, JobRuns, catch-up, and
the sweeper for runs whose task was lost."""

import datetime as dt
import zoneinfo
from unittest import mock

import pytest

from notifications import conf, scheduling
from notifications.models import JobRun, JobRunStatus, Notification
from notifications.scheduling import due_local_date
from reports.tasks import daily_report_reminders_task
from tests.agents.factories import MembershipFactory, OrganizationFactory
from tests.notifications.conftest import utc

pytestmark = pytest.mark.django_db

JOB = "daily_report_reminder"
WINDOW = dt.timedelta(hours=3)


def org_in(timezone: str, **fields):
    organization = OrganizationFactory(timezone=timezone, reminder_time=dt.time(20, 0), **fields)
    MembershipFactory(organization=organization, user__username=f"agent-{organization.slug}")
    return organization


@pytest.fixture
def new_york_and_shanghai():
    # Etc/GMT+5 is UTC-5 all year (POSIX signs are inverted), so the test needs no DST table.
    return org_in("Etc/GMT+5", slug="new-york"), org_in("Asia/Shanghai", slug="shanghai")


def run_tick(now, committed, job=JOB):
    with committed():
        return scheduling.scheduled_jobs_dispatch(job_name=job, now=now)


def reminded_dates(organization) -> set[str]:
    keys = Notification.objects.filter(organization=organization).values_list(
        "dedupe_key", flat=True
    )
    return {key.split(":")[1] for key in keys}


def test_utc_minus_5_and_utc_plus_8_on_the_same_beat_ticks(new_york_and_shanghai, eager, committed):
    new_york, shanghai = new_york_and_shanghai

    # 01:00 UTC on Tuesday 3 March: 20:00 on Monday in New York, 09:00 on Tuesday in Shanghai.
    started = run_tick(utc("2026-03-03T01:00:30"), committed)
    assert JobRun.objects.get(pk__in=started).organization == new_york
    assert reminded_dates(new_york) == {"2026-03-02"}
    assert reminded_dates(shanghai) == set()

    # 12:00 UTC: 20:00 on Tuesday in Shanghai; 07:00 in New York.
    started = run_tick(utc("2026-03-03T12:00:30"), committed)
    assert JobRun.objects.get(pk__in=started).organization == shanghai
    assert reminded_dates(shanghai) == {"2026-03-03"}
    assert reminded_dates(new_york) == {"2026-03-02"}
    runs = JobRun.objects.values_list("organization__slug", "local_date", "status")
    assert set(runs) == {
        ("new-york", dt.date(2026, 3, 2), JobRunStatus.DONE),
        ("shanghai", dt.date(2026, 3, 3), JobRunStatus.DONE),
    }


def test_the_next_ticks_start_nothing_again(new_york_and_shanghai, eager, committed):
    run_tick(utc("2026-03-03T01:00:30"), committed)
    for minute in range(1, 4):
        assert run_tick(utc(f"2026-03-03T01:0{minute}:30"), committed) == []
    assert JobRun.objects.count() == 1
    assert Notification.objects.count() == 1


def test_two_beat_processes_on_one_tick_start_one_run(new_york_and_shanghai, committed):
    tick = utc("2026-03-03T01:00:30")
    task = daily_report_reminders_task._get_current_object()
    with mock.patch.object(task, "apply_async") as enqueue:
        first = run_tick(tick, committed)
        # The second process looked before the first committed: it saw no run, so it inserts
        # too; the unique constraint turns that into nothing, and it enqueues nothing.
        with mock.patch.object(scheduling, "job_runs_existing", return_value=set()):
            second = run_tick(tick, committed)
    assert len(first) == 1
    assert second == []
    assert JobRun.objects.count() == 1
    assert enqueue.call_count == 1


def test_a_settings_change_takes_effect_at_the_next_tick(new_york_and_shanghai, eager, committed):
    _, shanghai = new_york_and_shanghai
    shanghai.reminder_time = dt.time(21, 0)
    shanghai.save()
    assert run_tick(utc("2026-03-03T12:00:30"), committed) == []  # 20:00 local: not yet
    assert len(run_tick(utc("2026-03-03T13:00:30"), committed)) == 1  # 21:00 local
    assert reminded_dates(shanghai) == {"2026-03-03"}


def test_an_inactive_organization_is_skipped(new_york_and_shanghai, committed):
    new_york, _ = new_york_and_shanghai
    new_york.is_active = False
    new_york.save()
    assert run_tick(utc("2026-03-03T01:00:30"), committed) == []


@pytest.mark.parametrize(
    ("local_now", "at", "expected"),
    [
        ("2026-03-02T19:59:59", "20:00", None),  # not yet
        ("2026-03-02T20:00:00", "20:00", "2026-03-02"),  # on the dot
        ("2026-03-02T22:59:00", "20:00", "2026-03-02"),  # beat was down: caught up
        ("2026-03-02T23:00:00", "20:00", None),  # too late: skipped, not sent at midnight
        ("2026-03-03T00:10:00", "23:30", "2026-03-02"),  # yesterday's run, after midnight
        ("2026-03-03T00:10:00", "00:05", "2026-03-03"),  # today's
    ],
)
def test_due_local_date(local_now, at, expected):
    organization = OrganizationFactory.build(timezone="Asia/Shanghai")
    now = dt.datetime.fromisoformat(local_now).replace(tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    day = due_local_date(
        organization=organization, at=dt.time.fromisoformat(at), now=now, window=WINDOW
    )
    assert (day.isoformat() if day else None) == expected


def test_a_job_time_in_a_dst_gap_still_runs_once_that_day(committed, eager):
    organization = OrganizationFactory(timezone="America/New_York", reminder_time=dt.time(2, 30))
    MembershipFactory(organization=organization)
    # 8 March 2026: clocks jump from 02:00 to 03:00 in New York; 02:30 does not exist.
    started = []
    for hour in range(6, 11):  # 01:00 to 05:00 local, every hour
        started += run_tick(utc(f"2026-03-08T{hour:02d}:00:30"), committed)
    assert len(started) == 1
    assert JobRun.objects.get().local_date == dt.date(2026, 3, 8)


def test_a_run_whose_task_was_lost_is_re_enqueued_by_the_sweeper(
    new_york_and_shanghai, committed, eager, clock
):
    new_york, _ = new_york_and_shanghai
    tick = clock.set(utc("2026-03-03T01:00:30"))
    task = daily_report_reminders_task._get_current_object()
    with mock.patch.object(task, "apply_async", side_effect=ConnectionError("broker down")):
        run_tick(tick, committed)
    run = JobRun.objects.get()
    assert run.status == JobRunStatus.PENDING
    assert scheduling.job_runs_sweep() == 0  # within the grace period

    clock.advance(seconds=conf.get("NOTIFICATIONS_JOB_GRACE") + 1)
    assert scheduling.job_runs_sweep() == 1
    run.refresh_from_db()
    assert (run.status, run.attempts) == (JobRunStatus.DONE, 1)
    assert reminded_dates(new_york) == {"2026-03-02"}
    clock.advance(hours=1)
    assert scheduling.job_runs_sweep() == 0


def test_a_failing_run_is_retried_by_the_sweeper_then_given_up(
    new_york_and_shanghai, committed, clock, settings
):
    settings.NOTIFICATIONS_JOB_MAX_ATTEMPTS = 2
    clock.set(utc("2026-03-03T01:00:30"))
    with mock.patch.object(daily_report_reminders_task._get_current_object(), "apply_async"):
        run_tick(clock.now, committed)
    run = JobRun.objects.get()

    def boom(**kwargs):
        raise RuntimeError("the database went away")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            scheduling.job_run_execute(job_run_id=run.pk, handler=boom)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (JobRunStatus.PENDING, 2)
    assert "database went away" in run.last_error
    clock.advance(hours=2)
    scheduling.job_runs_sweep()
    run.refresh_from_db()
    assert run.status == JobRunStatus.FAILED


def test_a_done_or_missing_run_is_skipped_quietly(new_york_and_shanghai, committed, eager):
    run_tick(utc("2026-03-03T01:00:30"), committed)
    run = JobRun.objects.get()
    handler = mock.Mock()
    assert scheduling.job_run_execute(job_run_id=run.pk, handler=handler) is False
    assert scheduling.job_run_execute(job_run_id=987654, handler=handler) is False
    handler.assert_not_called()


def test_an_unknown_job_starts_nothing():
    assert scheduling.scheduled_jobs_dispatch(job_name="no_such_job") == []


def test_every_daily_job_of_the_beat_schedule_is_registered(settings):
    registered = scheduling.jobs_registered()
    for job in settings.NOTIFICATIONS_DAILY_JOBS:
        assert job in registered
