"""The PostgreSQL path of an on-time daily-report PUT (reports/filing.py) stores and answers what
the portable path does. Two agents file the same sequence of reports, one through each path,
and everything but the ids and the member must be equal. Concurrent PUTs of one report:
tests/reports/test_concurrency.py."""

import datetime as dt

import pytest
from django.conf import settings

from agents.models import AuditEntry
from reports import filing
from reports.models import DailyReport, SalesEntry
from tests.agents.factories import CustomerFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the path is PostgreSQL's (DATABASE_URL); SQLite always takes the portable one",
    ),
]

ME = "/api/v1/orgs/acme/me/daily-reports/{}/"
DAY = dt.date(2026, 3, 10)


def _sequence(serum, cream, customer_of):
    """PUT bodies for one agent, `customer_of` giving that agent's own customer."""
    return [
        {
            "followups": 5,
            "communication_minutes": 90,
            "orders": 2,
            "summary": "Visited two shops.",
            "lines": [
                {"product": serum.pk, "quantity": 2, "amount": "300.00", "collected": "100"},
                {"product": cream.pk, "customer": customer_of, "quantity": 1, "amount": "19.9"},
                {"product": serum.pk, "quantity": 0, "amount": "0", "collected": "50.00"},
            ],
        },
        {"followups": 1, "lines": [{"product": cream.pk, "quantity": 4, "amount": "80.00"}]},
        {"summary": "Nothing sold.", "lines": []},
        {
            "new_customers": 2,
            "lost_customers": 1,
            "plan_tomorrow": "Call back.",
            "problems": "Stock-outs.",
            "lines": [
                {"product": cream.pk, "customer": customer_of, "quantity": 3, "amount": "60"},
                {"product": serum.pk, "quantity": 1, "amount": "150.00"},
            ],
        },
    ]


def _comparable(answer: dict, own_customer: int) -> dict:
    """The answer without what differs between the two agents: ids, the member, and which
    customer is the agent's own."""
    unlike = {"id", "member"}
    return {
        **{key: value for key, value in answer.items() if key not in unlike},
        "lines": [
            {
                **{key: value for key, value in line.items() if key != "id"},
                "customer": "own" if line["customer"] == own_customer else line["customer"],
            }
            for line in answer["lines"]
        ],
    }


def _stored(member) -> list[tuple]:
    """The member's sales lines, the recorder told as "the member"."""
    rows = (
        SalesEntry.objects.filter(member=member)
        .order_by("id")
        .values_list(
            "date",
            "product_id",
            "customer__name",
            "region_id",
            "quantity",
            "amount",
            "collected",
            "profit",
            "source",
            "recorded_by_id",
            "created_at",
        )
    )
    return [(*row[:9], row[9] == member.pk, row[10]) for row in rows]


def test_both_paths_store_and_answer_the_same(client_for, world, goods, clock, monkeypatch):
    # Same region, so that the lines' region snapshot compares equal.
    world.other_agent.region = world.agent.region
    world.other_agent.save(update_fields=["region"])
    serum, cream = goods
    customers = {
        member.pk: CustomerFactory(organization=world.org, owner=member, name="Ms Li").pk
        for member in (world.agent, world.other_agent)
    }
    calls = []
    for name in ("report_file_on_time", "report_file_checked"):  # the view's, the fast path's
        real = getattr(filing, name)
        monkeypatch.setattr(
            filing, name, lambda real=real, **kwargs: calls.append(1) or real(**kwargs)
        )
    fast_client, portable_client = client_for(world.agent), client_for(world.other_agent)
    for step, hour in enumerate(("09:00", "10:30", "12:00", "22:59")):
        clock.set(f"2026-03-10 {hour}")
        fast_body, portable_body = (
            _sequence(serum, cream, customers[member.pk])[step]
            for member in (world.agent, world.other_agent)
        )
        fast = fast_client.put(ME.format(DAY), fast_body, format="json")
        with monkeypatch.context() as portable_only:
            portable_only.setattr(filing, "supported", lambda: False)
            portable = portable_client.put(ME.format(DAY), portable_body, format="json")
        assert (fast.status_code, portable.status_code) == ((201, 201) if step == 0 else (200, 200))
        assert _comparable(fast.json(), customers[world.agent.pk]) == _comparable(
            portable.json(), customers[world.other_agent.pk]
        )
        # The answer, built from what the filing function returned, is what a GET reads back.
        assert fast.json() == fast_client.get(ME.format(DAY)).json()
        assert _stored(world.agent) == _stored(world.other_agent)
    assert len(calls) == 4  # every PUT of the first agent took the PostgreSQL path
    fast_report, portable_report = (
        DailyReport.objects.get(member=member) for member in (world.agent, world.other_agent)
    )
    assert fast_report.submitted_at == portable_report.submitted_at == clock.set("2026-03-10 09:00")
    assert fast_report.is_late is portable_report.is_late is False


def test_the_first_filing_time_is_kept_and_the_update_time_moves(client_for, world, goods, clock):
    serum, _ = goods
    client = client_for(world.agent)
    first_at = clock.set("2026-03-10 08:00")
    line = {"product": serum.pk, "quantity": 1, "amount": "10"}
    first = client.put(ME.format(DAY), {"lines": [line]}, format="json")
    assert first.status_code == 201
    later = clock.set("2026-03-10 21:15")
    answer = client.put(ME.format(DAY), {"orders": 3, "lines": [line, line]}, format="json")
    assert answer.status_code == 200
    report = DailyReport.objects.get(member=world.agent)
    assert (report.submitted_at, report.updated_at, report.orders) == (first_at, later, 3)
    assert answer.json()["submitted_at"] == first.json()["submitted_at"]
    assert answer.json()["updated_at"] != first.json()["updated_at"]
    # The line filed first keeps its creation time (and id); the one added is new.
    stored = SalesEntry.objects.filter(member=world.agent).order_by("id")
    assert [(entry.pk, entry.created_at) for entry in stored] == [
        (first.json()["lines"][0]["id"], first_at),
        (answer.json()["lines"][1]["id"], later),
    ]


def test_after_the_cut_off_the_portable_path_files_late_and_audits(
    client_for, world, goods, clock, monkeypatch
):
    serum, _ = goods
    monkeypatch.setattr(filing, "report_file_on_time", None)  # would fail if it were called
    clock.set("2026-03-10 23:30")
    answer = client_for(world.agent).put(
        ME.format(DAY),
        {"lines": [{"product": serum.pk, "quantity": 1, "amount": "10"}]},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["is_late"] is True
    entry = AuditEntry.objects.get(action="daily_report.create")
    assert (entry.actor_id, entry.object_id) == (world.agent.pk, str(answer.json()["id"]))
