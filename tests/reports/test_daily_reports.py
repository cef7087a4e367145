import datetime as dt
import json
import threading
from decimal import Decimal

import pytest

from agents.models import CalendarDay, MemberStatus
from reports import services
from reports.models import DailyReport, SalesEntry, SalesSource
from tests.agents.factories import CustomerFactory, MembershipFactory, ProductFactory
from tests.reports.factories import DailyReportFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/orgs/acme/me/daily-reports/{}/"
REPORTS = "/api/v1/orgs/acme/daily-reports/"
DAY = dt.date(2026, 3, 10)  # a Tuesday


@pytest.fixture
def product(world):
    return ProductFactory(organization=world.org, sku="SERUM", cost=Decimal("40.00"))


def body(product, **overrides):
    payload = {
        "followups": 5,
        "communication_minutes": 90,
        "new_customers": 1,
        "lost_customers": 0,
        "orders": 2,
        "summary": "Visited two shops.",
        "plan_tomorrow": "Call back Ms Li.",
        "problems": "",
        "lines": [
            {"product": product.pk, "quantity": 2, "amount": "300.00", "collected": "100.00"},
            {"product": product.pk, "quantity": 1, "amount": "150.00"},
        ],
    }
    payload.update(overrides)
    return payload


def put(client, day, payload):
    return client.put(ME.format(day.isoformat()), payload, format="json")


# --- Filing and replacing -------------------------------------------------------------------


def test_put_creates_then_replaces_with_the_same_result(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    first = put(client, DAY, body(product))
    assert first.status_code == 201, first.data
    again = put(client, DAY, body(product))
    assert again.status_code == 200
    assert again.data["id"] == first.data["id"]
    assert DailyReport.objects.count() == 1
    assert SalesEntry.objects.count() == 2
    data = again.data
    assert data["member"] == world.agent.pk
    assert data["date"] == "2026-03-10"
    assert (data["followups"], data["communication_minutes"], data["orders"]) == (5, 90, 2)
    assert data["totals"] == {
        "quantity": 3,
        "sales_amount": "450.00",
        "collected_amount": "100.00",
        "profit": "330.00",  # 450 - 3 x 40
    }
    assert [line["amount"] for line in data["lines"]] == ["300.00", "150.00"]
    assert data["is_late"] is False
    assert data["is_locked"] is False


def test_replacing_replaces_the_sales_lines(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    put(client, DAY, body(product))
    response = put(
        client, DAY, body(product, lines=[{"product": product.pk, "quantity": 1, "amount": "9"}])
    )
    assert response.status_code == 200
    entries = SalesEntry.objects.filter(member=world.agent)
    assert [(e.quantity, e.amount, e.source) for e in entries] == [
        (1, Decimal("9.00"), SalesSource.REPORT)
    ]
    assert entries[0].region_id == world.agent.region_id
    assert response.data["totals"]["sales_amount"] == "9.00"


def test_left_out_fields_are_emptied_by_a_put(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    put(client, DAY, body(product))
    response = put(client, DAY, {"followups": 1})
    assert response.status_code == 200
    assert response.data["summary"] == ""
    assert response.data["lines"] == []
    assert SalesEntry.objects.count() == 0


def test_get_my_report(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    put(client_for(world.agent), DAY, body(product))
    assert client_for(world.agent).get(ME.format("2026-03-10")).status_code == 200
    assert client_for(world.agent).get(ME.format("2026-03-09")).status_code == 404
    # The leader has no report of their own that day: the agent's is not "theirs".
    assert client_for(world.leader).get(ME.format("2026-03-10")).status_code == 404


def test_a_customer_of_the_member_may_be_named(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    mine = CustomerFactory(organization=world.org, owner=world.agent)
    downline = CustomerFactory(organization=world.org, owner=world.sub_agent)
    lines = [
        {"product": product.pk, "customer": mine.pk, "quantity": 1, "amount": "1"},
        {"product": product.pk, "customer": downline.pk, "quantity": 1, "amount": "1"},
    ]
    response = put(client_for(world.agent), DAY, body(product, lines=lines))
    assert response.status_code == 201, response.data
    assert {line["customer"] for line in response.data["lines"]} == {mine.pk, downline.pk}


# --- Bad input: 400 (or 413), nothing written -----------------------------------------------


def _foreign_product(world):
    return ProductFactory(organization=world.rival).pk


def _other_branch_customer(world):
    return CustomerFactory(organization=world.org, owner=world.other_agent).pk


def _line(**overrides):
    return lambda world, product: {
        "lines": [{"product": product.pk, "quantity": 1, "amount": "10.00", **overrides}]
    }


BAD_BODIES = [
    ("followups", lambda w, p: {"followups": -1}),
    ("orders", lambda w, p: {"orders": "many"}),
    ("new_customers", lambda w, p: {"new_customers": 1.5}),
    ("communication_minutes", lambda w, p: {"communication_minutes": 1441}),
    ("followups", lambda w, p: {"followups": None}),
    ("summary", lambda w, p: {"summary": "x" * 10_001}),
    ("lines", _line(quantity=-1)),
    ("lines", _line(amount="-5.00")),
    ("lines", _line(collected="-0.01")),
    ("lines", _line(amount="12.345")),
    ("lines", _line(amount="NaN")),
    ("lines", _line(amount="1" * 13)),
    ("lines", _line(quantity="two")),
    ("lines", _line(quantity=0, amount="0.00")),
    ("lines", _line(product=10**9)),
    ("lines", _line(product="abc")),
    (
        "lines",
        lambda w, p: {"lines": [{"product": _foreign_product(w), "quantity": 1, "amount": 1}]},
    ),
    ("lines", _line(customer=10**9)),
    ("lines", lambda w, p: _line(customer=_other_branch_customer(w))(w, p)),
    ("lines", lambda w, p: {"lines": "not a list"}),
    ("lines", lambda w, p: {"lines": [{"quantity": 1, "amount": "1"}]}),
]


@pytest.mark.parametrize("field,make", BAD_BODIES)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    client_for, world, product, clock, field, make
):
    clock.set("2026-03-10 20:00")
    response = put(client_for(world.agent), DAY, make(world, product))
    assert response.status_code == 400, response.data
    assert field in response.data
    assert DailyReport.objects.count() == 0
    assert SalesEntry.objects.count() == 0


def test_bad_lines_are_reported_in_place(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    lines = [
        {"product": product.pk, "quantity": 1, "amount": "1"},
        {"product": _foreign_product(world), "quantity": 1, "amount": "1"},
    ]
    response = put(client_for(world.agent), DAY, body(product, lines=lines))
    assert response.status_code == 400
    assert response.data["lines"][0] == {}
    assert "product" in response.data["lines"][1]


def test_a_replacement_with_bad_input_keeps_the_old_report(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    put(client, DAY, body(product))
    assert put(client, DAY, body(product, orders=-3)).status_code == 400
    report = DailyReport.objects.get()
    assert report.orders == 2
    assert SalesEntry.objects.count() == 2


def test_a_future_date_is_400(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    response = put(client_for(world.agent), dt.date(2026, 3, 11), body(product))
    assert response.status_code == 400
    assert "date" in response.data
    assert DailyReport.objects.count() == 0


def test_a_malformed_date_is_400(client_for, world, product):
    response = client_for(world.agent).put(ME.format("2026-02-30"), body(product), format="json")
    assert response.status_code == 400
    assert "date" in response.data


def test_a_3_mb_body_is_413_and_writes_nothing(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    payload = json.dumps(body(product, summary="x" * (3 * 1024 * 1024)))
    response = client_for(world.agent).put(
        ME.format("2026-03-10"), payload, content_type="application/json"
    )
    assert response.status_code == 413
    assert "detail" in response.json()
    assert DailyReport.objects.count() == 0


def test_a_suspended_member_cannot_file(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    world.agent.status = MemberStatus.SUSPENDED
    world.agent.save()
    assert put(client_for(world.agent), DAY, body(product)).status_code == 403


# --- Late, locked, unlocked -----------------------------------------------------------------


def test_filed_before_the_cut_off_is_on_time_after_it_late(client_for, world, product, clock):
    clock.set("2026-03-10 22:59")
    assert put(client_for(world.agent), DAY, body(product)).data["is_late"] is False
    clock.set("2026-03-10 23:01")
    assert put(client_for(world.leader), DAY, body(product)).data["is_late"] is True
    # Editing later does not make an on-time report late.
    clock.set("2026-03-11 09:00")
    assert put(client_for(world.agent), DAY, body(product)).data["is_late"] is False


def test_the_window_closes_at_the_cut_off_the_next_day(client_for, world, product, clock):
    client = client_for(world.agent)
    clock.set("2026-03-10 20:00")
    put(client, DAY, body(product))
    clock.set("2026-03-11 22:59")
    assert put(client, DAY, body(product, orders=3)).status_code == 200
    clock.set("2026-03-11 23:01")
    response = put(client, DAY, body(product, orders=9))
    assert response.status_code == 409
    assert DailyReport.objects.get().orders == 3
    assert client.get(ME.format("2026-03-10")).data["is_locked"] is True


def test_no_report_can_be_started_after_the_window(client_for, world, product, clock):
    clock.set("2026-03-12 08:00")
    assert put(client_for(world.agent), DAY, body(product)).status_code == 409
    assert DailyReport.objects.count() == 0


def test_the_cut_off_follows_the_organization_setting(client_for, world, product, clock):
    world.org.report_cutoff = dt.time(18, 0)
    world.org.save()
    clock.set("2026-03-10 18:30")
    assert put(client_for(world.agent), DAY, body(product)).data["is_late"] is True


def test_a_leader_above_unlocks_a_locked_report(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    put(client_for(world.agent), DAY, body(product))
    report = DailyReport.objects.get()
    url = f"{REPORTS}{report.pk}/unlock/"
    clock.set("2026-03-13 10:00")
    assert client_for(world.agent).post(url).status_code == 403
    assert client_for(world.other_leader).post(url).status_code == 404
    response = client_for(world.leader).post(url)
    assert response.status_code == 200, response.data
    assert response.data["is_locked"] is False
    assert response.data["unlocked_by"] == world.leader.pk
    assert client_for(world.leader).post(url).status_code == 200  # a retry changes nothing
    assert put(client_for(world.agent), DAY, body(product, orders=7)).status_code == 200
    # The unlock lasts 24 hours (policy report_unlock_hours).
    clock.set("2026-03-14 10:01")
    assert put(client_for(world.agent), DAY, body(product, orders=8)).status_code == 409
    assert DailyReport.objects.get().orders == 7


def test_an_agent_above_cannot_unlock_but_an_admin_can(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    put(client_for(world.sub_agent), DAY, body(product))
    url = f"{REPORTS}{DailyReport.objects.get().pk}/unlock/"
    clock.set("2026-03-13 10:00")
    assert client_for(world.agent).post(url).status_code == 403  # the agent's role cannot
    assert client_for(world.admin).post(url).status_code == 200


def test_a_leader_cannot_unlock_their_own_report(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    put(client_for(world.leader), DAY, body(product))
    clock.set("2026-03-13 10:00")
    url = f"{REPORTS}{DailyReport.objects.get().pk}/unlock/"
    assert client_for(world.leader).post(url).status_code == 403


def test_unlocking_an_open_report_is_409(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    put(client_for(world.agent), DAY, body(product))
    url = f"{REPORTS}{DailyReport.objects.get().pk}/unlock/"
    assert client_for(world.leader).post(url).status_code == 409


# --- Concurrency ----------------------------------------------------------------------------


def test_a_lost_race_on_the_first_filing_becomes_a_replacement(
    world, product, monkeypatch, portable_filing
):
    """Two first filings on the portable path: the second's lookup ran before the first
    committed (simulated by a lookup that misses once), so its insert hits the unique
    constraint; it retries and replaces the row instead of failing or duplicating it. (The
    PostgreSQL path's upsert settles the race in the database: tests/reports/test_filing.py.)"""
    today = world.org.local_today()
    DailyReportFactory(organization=world.org, member=world.agent, date=today, orders=1)
    real_lookup = services._locked_report
    calls = []

    def racing_lookup(**kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(services, "_locked_report", racing_lookup)
    report, created = services.daily_report_upsert(
        organization=world.org,
        member=world.agent,
        day=today,
        data={"orders": 5},
        lines=[services.SalesLine(product=product, quantity=1, amount=Decimal("10.00"))],
    )
    assert (created, len(calls)) == (False, 2)
    assert DailyReport.objects.get().orders == 5
    assert SalesEntry.objects.count() == 1


# --- Lists ----------------------------------------------------------------------------------


def _ids(response):
    return {row["id"] for row in response.data["results"]}


@pytest.fixture
def reports(world):
    day = dt.date(2026, 3, 9)
    return {
        name: DailyReportFactory(
            organization=world.org, member=getattr(world, name), date=day, is_late=name == "agent"
        )
        for name in ("leader", "agent", "sub_agent", "other_agent")
    }


def test_scope_of_the_report_list(client_for, world, reports):
    assert _ids(client_for(world.leader).get(REPORTS)) == {
        reports[name].pk for name in ("leader", "agent", "sub_agent")
    }
    assert _ids(client_for(world.agent).get(REPORTS)) == {
        reports["agent"].pk,
        reports["sub_agent"].pk,
    }
    assert _ids(client_for(world.admin).get(REPORTS)) == {r.pk for r in reports.values()}
    outsider = client_for(world.other_leader).get(f"{REPORTS}{reports['agent'].pk}/")
    assert outsider.status_code == 404


@pytest.mark.parametrize(
    "query,expected",
    [
        ("member={agent}", {"agent"}),
        ("subtree_of={agent}", {"agent", "sub_agent"}),
        ("is_late=true", {"agent"}),
        ("date_after=2026-03-09&date_before=2026-03-09", {"leader", "agent", "sub_agent"}),
        ("date_after=2026-03-10", set()),
        ("region={east}", {"leader", "agent", "sub_agent"}),
        ("search=nothing-like-this", set()),
    ],
)
def test_report_filters(client_for, world, reports, query, expected):
    query = query.format(agent=world.agent.pk, east=world.agent.region_id)
    response = client_for(world.leader).get(f"{REPORTS}?{query}")
    assert response.status_code == 200, response.data
    assert _ids(response) == {reports[name].pk for name in expected}


def test_report_list_query_count_is_constant(client_for, world, product, query_counts):
    start = dt.date(2025, 10, 1)
    for offset in range(100):
        report = DailyReportFactory(
            organization=world.org, member=world.agent, date=start + dt.timedelta(days=offset)
        )
        SalesEntry.objects.create(
            organization=world.org,
            date=report.date,
            member=world.agent,
            product=product,
            quantity=1,
            amount=Decimal("5.00"),
            source=SalesSource.REPORT,
            daily_report=report,
        )
    counts = query_counts(client_for(world.leader), REPORTS)
    assert counts[0] == counts[1]


# --- Who is missing -------------------------------------------------------------------------

MISSING = f"{REPORTS}missing/"


def _missing(client, day):
    response = client.get(f"{MISSING}?date={day}")
    assert response.status_code == 200, response.data
    return {row["member"] for row in response.data["results"]}


def test_missing_lists_due_members_without_a_report(client_for, world, clock):
    clock.set("2026-03-10 20:00")
    DailyReportFactory(organization=world.org, member=world.agent, date=DAY)
    assert _missing(client_for(world.admin), DAY) == {
        world.leader.pk,
        world.sub_agent.pk,
        world.other_leader.pk,
        world.other_agent.pk,
    }  # owners and admins are not due
    assert _missing(client_for(world.leader), DAY) == {world.leader.pk, world.sub_agent.pk}
    row = client_for(world.leader).get(f"{MISSING}?date={DAY}").data["results"][-1]
    assert row == {
        "member": world.sub_agent.pk,
        "display_name": world.sub_agent.display_name,
        "upline": world.agent.pk,
        "region": world.sub_agent.region_id,
    }


def test_suspended_left_and_not_yet_joined_members_are_not_missing(client_for, world, clock):
    clock.set("2026-03-10 20:00")
    world.sub_agent.status = MemberStatus.SUSPENDED
    world.sub_agent.save()
    MembershipFactory(organization=world.org, upline=world.leader, status=MemberStatus.LEFT)
    MembershipFactory(organization=world.org, upline=world.leader, joined_on=dt.date(2026, 3, 11))
    assert _missing(client_for(world.leader), DAY) == {world.leader.pk, world.agent.pk}


def test_nobody_is_missing_on_holidays_and_weekends(client_for, world, clock):
    clock.set("2026-03-10 20:00")
    CalendarDay.objects.create(organization=world.org, date=DAY, is_workday=False, name="Fest")
    assert _missing(client_for(world.admin), DAY) == set()
    assert _missing(client_for(world.admin), dt.date(2026, 3, 8)) == set()  # a Sunday
    CalendarDay.objects.create(
        organization=world.org, date=dt.date(2026, 3, 7), is_workday=True, name="Make-up day"
    )
    assert len(_missing(client_for(world.admin), dt.date(2026, 3, 7))) == 5


def test_missing_defaults_to_today_and_refuses_the_future(client_for, world, clock):
    clock.set("2026-03-10 20:00")
    assert client_for(world.admin).get(MISSING).data["count"] == 5
    assert client_for(world.admin).get(f"{MISSING}?date=2026-03-11").status_code == 400
    assert client_for(world.admin).get(f"{MISSING}?date=yesterday").status_code == 400


def test_missing_query_count_is_constant(client_for, world, clock, query_counts):
    clock.set("2026-03-10 20:00")
    for _ in range(100):
        MembershipFactory(organization=world.org, upline=world.leader)
    counts = query_counts(client_for(world.admin), f"{MISSING}?date={DAY}")
    assert counts[0] == counts[1]


# --- Input fields reused per thread (reports.api.serializers.ThreadFieldsMixin) ---------------


def test_reused_input_fields_answer_each_request_in_its_language(client_for, world, product, clock):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    bad = body(product, followups=-1, lines=[{"product": product.pk, "quantity": "many"}])
    answers = {
        language: put_in(client, language, bad).json() for language in ("zh-hans", "en", "zh-hans")
    }
    assert answers["en"]["followups"] == ["Ensure this value is greater than or equal to 0."]
    assert answers["en"]["lines"]["0"] == {
        "quantity": ["A valid integer is required."],
        "amount": ["This field is required."],
    }
    assert answers["zh-hans"]["followups"] != answers["en"]["followups"]
    assert answers["zh-hans"]["lines"]["0"]["amount"] != answers["en"]["lines"]["0"]["amount"]
    assert not DailyReport.objects.exists()
    # Good input after bad, from the same thread's fields: nothing of the last request stays.
    assert put_in(client, "en", body(product)).status_code == 201


def test_input_fields_are_built_once_per_thread():
    from reports.api.serializers import DailyReportInputSerializer

    first = DailyReportInputSerializer(data={}).fields
    assert DailyReportInputSerializer(data={}).fields is first
    other = []
    thread = threading.Thread(target=lambda: other.append(DailyReportInputSerializer().fields))
    thread.start()
    thread.join()
    assert other[0] is not first
    assert list(other[0]) == list(first)


def put_in(client, language, payload):
    return client.put(
        ME.format(DAY.isoformat()), payload, format="json", HTTP_ACCEPT_LANGUAGE=language
    )
