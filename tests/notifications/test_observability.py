"""What an operator sees: task failures and messages given up logged at ERROR with the
organization and the ids; the outbox backlog in /readyz (information, never a 503)."""

import datetime as dt
import json
import logging

import pytest
from django.utils import timezone

from config.log_format import JsonFormatter
from notifications import scheduling, services
from notifications.models import Channel, DeliveryStatus, JobRunStatus
from reports import tasks as report_tasks
from tests.notifications.factories import DeliveryFactory, JobRunFactory

pytestmark = pytest.mark.django_db


def errors(caplog, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno == logging.ERROR]


# --- /readyz ----------------------------------------------------------------------------------


def test_readyz_reports_the_outbox_backlog_without_failing_for_it(client, world):
    now = timezone.now()
    DeliveryFactory(
        organization=world.org,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now - dt.timedelta(hours=5),
    )
    DeliveryFactory(
        organization=world.rival,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now - dt.timedelta(minutes=1),
    )
    # Waiting for a later retry, or done: not backlog.
    DeliveryFactory(
        organization=world.org,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now + dt.timedelta(hours=1),
    )
    DeliveryFactory(organization=world.org, status=DeliveryStatus.SENT)

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["outbox"]["pending"] == 2
    assert 5 * 3600 <= body["outbox"]["oldest_pending_age_seconds"] < 5 * 3600 + 60


def test_readyz_with_an_empty_outbox(client, db):
    body = client.get("/readyz").json()
    assert body["outbox"] == {"pending": 0, "oldest_pending_age_seconds": 0.0}


# --- Outbound failures --------------------------------------------------------------------------


def test_a_delivery_given_up_is_logged_at_error_with_its_organization(world, caplog, settings):
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    world.org.webhook_url = "http://127.0.0.1:9/robot"  # refused for good: not public
    world.org.save()
    delivery = DeliveryFactory(
        organization=world.org, channel=Channel.WEBHOOK, status=DeliveryStatus.PENDING
    )

    with caplog.at_level(logging.INFO):
        result = services.deliveries_send(delivery_ids=[delivery.pk])

    assert result.failed == [delivery.pk]
    [record] = errors(caplog, "notifications.services")
    assert record.organization == "acme"
    assert record.delivery_id == delivery.pk
    assert record.dedupe_key == delivery.dedupe_key
    assert "acme" in record.getMessage() and str(delivery.pk) in record.getMessage()


def test_a_retried_failure_is_not_an_error(world, caplog, settings, monkeypatch):
    world.org.webhook_url = "https://robot.example.com/send"
    world.org.save()
    delivery = DeliveryFactory(organization=world.org, status=DeliveryStatus.PENDING)

    def unreachable(**kwargs):
        raise services.DeliveryError("connection refused")

    monkeypatch.setattr(services, "webhook_post", unreachable)
    with caplog.at_level(logging.INFO):
        result = services.deliveries_send(delivery_ids=[delivery.pk])

    assert list(result.retry) == [delivery.pk]
    assert errors(caplog, "notifications.services") == []


def test_deliveries_whose_worker_was_lost_for_good_are_logged_at_error(world, caplog, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    lost = DeliveryFactory(
        organization=world.rival,
        status=DeliveryStatus.SENDING,
        attempts=3,
        next_attempt_at=timezone.now() - dt.timedelta(minutes=1),
    )

    with caplog.at_level(logging.INFO):
        services.deliveries_sweep()

    lost.refresh_from_db()
    assert lost.status == DeliveryStatus.FAILED
    [record] = errors(caplog, "notifications.services")
    assert record.organization == "rival" and record.delivery_ids == [lost.pk]


def test_job_runs_given_up_by_the_sweeper_are_logged_at_error(world, caplog, settings):
    settings.NOTIFICATIONS_JOB_MAX_ATTEMPTS = 2
    run = JobRunFactory(
        organization=world.org,
        status=JobRunStatus.PENDING,
        attempts=2,
        enqueued_at=timezone.now() - dt.timedelta(hours=2),
        last_error="RuntimeError('boom')",
    )

    with caplog.at_level(logging.INFO):
        scheduling.job_runs_sweep()

    run.refresh_from_db()
    assert run.status == JobRunStatus.FAILED
    [record] = errors(caplog, "notifications.scheduling")
    assert record.organization == "acme" and record.job_run_id == run.pk
    assert "boom" in record.getMessage()


# --- Celery task failures -----------------------------------------------------------------------


def test_a_failing_job_task_is_logged_with_its_organization_and_run(world, caplog, monkeypatch):
    run = JobRunFactory(organization=world.org, status=JobRunStatus.PENDING)

    def broken(**kwargs):
        raise RuntimeError("the handler broke")

    monkeypatch.setattr(report_tasks, "daily_report_reminders_send", broken)
    with caplog.at_level(logging.INFO):
        outcome = report_tasks.daily_report_reminders_task.apply(args=(run.pk,))

    assert outcome.failed()
    [record] = errors(caplog, "notifications.tasks.failures")
    assert record.organization == "acme"
    assert record.task == "reports.tasks.daily_report_reminders_task"
    assert record.task_args == [run.pk]
    assert "the handler broke" in record.getMessage()
    run.refresh_from_db()
    assert run.status == JobRunStatus.PENDING and "the handler broke" in run.last_error


def test_a_failing_organization_task_is_logged_with_the_organization(world, caplog, monkeypatch):
    def broken(**kwargs):
        raise ValueError("bad data")

    monkeypatch.setattr(report_tasks, "market_feedback_escalate_due", broken)
    with caplog.at_level(logging.INFO):
        report_tasks.market_feedback_escalate_organization_task.apply(args=(world.rival.pk,))

    [record] = errors(caplog, "notifications.tasks.failures")
    assert record.organization == "rival"
    assert "rival" in record.getMessage() and "ValueError" in record.getMessage()


def test_json_log_lines_carry_the_extra_fields():
    record = logging.getLogger("x").makeRecord(
        "x",
        logging.ERROR,
        __file__,
        1,
        "delivery %s failed",
        (7,),
        None,
        extra={"organization": "acme", "delivery_id": 7},
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["message"] == "delivery 7 failed"
    assert line["organization"] == "acme" and line["delivery_id"] == 7
    assert "time" in line and line["logger"] == "x"
