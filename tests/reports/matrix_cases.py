"""Permission matrix of the reports endpoints. Objects belong to branch A and are the agent's:
agents write only their own, leaders their subtree, the other branch sees nothing (404)."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.agents.factories import ProductFactory
from tests.matrix import Case, everyone, roles
from tests.reports.factories import (
    ActivityFactory,
    DailyReportFactory,
    MarketFeedbackFactory,
    SalesEntryFactory,
)

BRANCH_READ = roles(200, other_agent=404, other_leader=404)
BRANCH_WRITE = roles(201, other_agent=404, other_leader=404)
# Handled by the assignee (the leader), those above, and owners/admins; not by the author.
HANDLERS = roles(200, agent=403, other_agent=404, other_leader=404)


def today(world) -> str:
    return world.org.local_today().isoformat()


def agents_report_today(world) -> dict:
    DailyReportFactory(organization=world.org, member=world.agent)
    return {"date": today(world)}


def report(world) -> dict:
    return {"pk": DailyReportFactory(organization=world.org, member=world.agent).pk}


def with_a_report(world) -> dict:
    """No URL arguments; the agent's report gives the export a row to write."""
    report(world)
    return {}


def locked_report(world) -> dict:
    long_ago = timezone.now() - dt.timedelta(days=5)
    locked = DailyReportFactory(
        organization=world.org,
        member=world.agent,
        date=world.org.local_today() - dt.timedelta(days=5),
        submitted_at=long_ago,
        updated_at=long_ago,
    )
    return {"pk": locked.pk}


def report_body(world) -> dict:
    product = ProductFactory(organization=world.org)
    return {
        "followups": 4,
        "communication_minutes": 60,
        "orders": 1,
        "summary": "Two visits.",
        "lines": [{"product": product.pk, "quantity": 2, "amount": "200.00"}],
    }


def activity(world) -> dict:
    return {"pk": ActivityFactory(organization=world.org, member=world.agent).pk}


def activity_body(world) -> dict:
    occurred = timezone.now() - dt.timedelta(hours=2)
    return {"kind": "call", "occurred_at": occurred.isoformat(), "duration_minutes": 10}


def sale(world) -> dict:
    return {"pk": SalesEntryFactory(organization=world.org, member=world.agent).pk}


def sale_body(world) -> dict:
    product = ProductFactory(organization=world.org)
    return {"date": today(world), "product": product.pk, "quantity": 1, "amount": "99.00"}


def import_body(world) -> dict:
    ProductFactory(organization=world.org, sku="IMP-1")
    content = f"date,member,product,quantity,amount\n{today(world)},A-001,IMP-1,2,198.00\n"
    return {"file": SimpleUploadedFile("sales.csv", content.encode(), "text/csv")}


def feedback(world) -> dict:
    item = MarketFeedbackFactory(organization=world.org, author=world.agent)
    return {"pk": item.pk}


CASES = [
    # the caller's own daily report
    Case("me-daily-report", "get", roles(404, agent=200), args=agents_report_today),
    Case(
        "me-daily-report",
        "put",
        everyone(201),
        args=lambda w: {"date": today(w)},
        body=report_body,
    ),
    # reports in scope
    Case("daily-reports-list", "get", everyone(200)),
    Case("daily-reports-detail", "get", BRANCH_READ, args=report),
    Case("daily-reports-missing", "get", everyone(200)),
    Case("daily-reports-export", "get", everyone(200), args=with_a_report),
    Case(
        "daily-reports-unlock",
        "post",
        roles(200, agent=403, other_agent=404, other_leader=404),
        args=locked_report,
    ),
    # activities: agents write their own, leaders their subtree
    Case("activities-list", "get", everyone(200)),
    Case("activities-list", "post", everyone(201), body=activity_body),
    Case("activities-detail", "get", BRANCH_READ, args=activity),
    Case(
        "activities-detail",
        "patch",
        roles(200, other_agent=404, other_leader=404),
        args=activity,
        body=lambda w: {"outcome": "Ordered"},
    ),
    Case(
        "activities-detail", "delete", roles(204, other_agent=404, other_leader=404), args=activity
    ),
    # sales
    Case("sales-list", "get", everyone(200)),
    Case("sales-list", "post", everyone(201), body=sale_body),
    Case("sales-detail", "get", BRANCH_READ, args=sale),
    # The file names the agent: out of the other leader's scope, so a row error for them.
    Case(
        "sales-import",
        "post",
        roles(201, agent=403, other_agent=403, other_leader=400),
        body=import_body,
        fmt="multipart",
    ),
    # market feedback
    Case("feedback-list", "get", everyone(200)),
    Case(
        "feedback-list",
        "post",
        everyone(201),
        body=lambda w: {"category": "competitor", "title": "Price cut", "urgency": "high"},
    ),
    Case("feedback-detail", "get", BRANCH_READ, args=feedback),
    Case(
        "feedback-detail",
        "patch",
        roles(403, agent=200, other_agent=404, other_leader=404),
        args=feedback,
        body=lambda w: {"urgency": "critical"},
    ),
    Case("feedback-acknowledge", "post", HANDLERS, args=feedback),
    Case(
        "feedback-resolve",
        "post",
        HANDLERS,
        args=feedback,
        body=lambda w: {"resolution": "Matched the price."},
    ),
    Case("feedback-comments", "get", BRANCH_READ, args=feedback),
    Case("feedback-comments", "post", BRANCH_WRITE, args=feedback, body=lambda w: {"body": "+1"}),
]
