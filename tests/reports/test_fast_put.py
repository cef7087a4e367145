"""The daily-report PUT's fast path (reports/api/fast_put.py) answers as the DRF view does, and
hands everything but the common case to the view. The reports' tests all send bearer tokens
(tests/reports/conftest.py), so the endpoint's other tests run through it as well; these check
that it is taken, that its answers are the view's, what it hands over, and the pipelined call
of config/db/postgresql/pipeline.py in autocommit, as production runs it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from agents.api import throttling
from agents.models import AuditEntry, MemberStatus
from config.db.postgresql import pipeline
from reports import filing
from reports.api import fast_put, serializers
from reports.api.serializers import DailyReportInputSerializer
from reports.models import DailyReport, SalesEntry
from tests.agents.factories import CustomerFactory, ProductFactory
from tests.conftest import throttle_counters_forget

POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]
on_postgresql = pytest.mark.skipif(
    not POSTGRESQL, reason="the fast path is PostgreSQL's; SQLite always takes the view"
)

ME = "/api/v1/orgs/acme/me/daily-reports/{}/"
DAY = dt.date(2026, 3, 10)


@pytest.fixture
def taken(monkeypatch):
    """How many PUTs the fast path answered itself."""
    answered = []
    real = fast_put._answer

    def counting(*args, **kwargs):
        response = real(*args, **kwargs)
        if response is not None:
            answered.append(response.status_code)
        return response

    monkeypatch.setattr(fast_put, "_answer", counting)
    return answered


def body(serum, cream, customer=None, **overrides) -> dict:
    return {
        "followups": 5,
        "communication_minutes": 90,
        "orders": 2,
        "summary": "  Visited two shops.  ",
        "lines": [
            {"product": serum.pk, "quantity": 2, "amount": "300.5", "collected": "100"},
            {"product": cream.pk, "customer": customer, "quantity": 1, "amount": 20},
            {"product": serum.pk, "quantity": 0, "amount": "0", "collected": "50.00"},
        ],
        **overrides,
    }


def _without_ids(answer: dict) -> dict:
    unlike = {"id", "member"}
    return {
        **{key: value for key, value in answer.items() if key not in unlike},
        "lines": [{k: v for k, v in line.items() if k != "id"} for line in answer["lines"]],
    }


def _stored(member) -> list[tuple]:
    return list(
        SalesEntry.objects.filter(member=member)
        .order_by("id")
        .values_list("product_id", "quantity", "amount", "collected", "profit", "region_id")
    )


@on_postgresql
@pytest.mark.django_db
def test_the_fast_path_answers_and_stores_what_the_view_does(
    client_for, world, goods, clock, settings, taken
):
    world.other_agent.region = world.agent.region
    world.other_agent.save(update_fields=["region"])
    serum, cream = goods
    fast, viewed = client_for(world.agent), client_for(world.other_agent)
    bodies = [
        body(serum, cream),
        body(serum, cream, lines=[{"product": cream.pk, "quantity": 4, "amount": "80.00"}]),
        {"problems": "Stock-outs.", "lines": []},
        body(serum, cream, plan_tomorrow="Call back.", new_customers=2, lost_customers=1),
    ]
    for step, (hour, payload) in enumerate(zip(("09:00", "12:00", "18:30", "22:59"), bodies)):
        clock.set(f"2026-03-10 {hour}")
        settings.REPORTS_FAST_PUT = True
        answer = fast.put(ME.format(DAY), payload, format="json")
        settings.REPORTS_FAST_PUT = False
        expected = viewed.put(ME.format(DAY), payload, format="json")
        assert len(taken) == step + 1  # the first agent's PUTs were all answered by the fast path
        assert answer.status_code == expected.status_code == (201 if step == 0 else 200)
        assert _without_ids(answer.json()) == _without_ids(expected.json())
        for header in ("Content-Type", "Allow", "Vary", "Content-Language"):
            assert answer[header] == expected[header], header
        assert answer.json() == fast.get(ME.format(DAY)).json()
        assert _stored(world.agent) == _stored(world.other_agent)
    assert answer.json()["summary"] == "Visited two shops."  # trimmed, as the view trims it
    assert answer.json()["problems"] == ""  # left out: emptied
    report = DailyReport.objects.get(member=world.agent)
    assert report.submitted_at == clock.set("2026-03-10 09:00") and report.is_late is False


@on_postgresql
@pytest.mark.django_db
def test_a_fast_put_takes_two_queries(client_for, world, goods, clock, taken):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    client.put(ME.format(DAY), body(*goods), format="json")
    with CaptureQueriesContext(connection) as queries:
        response = client.put(ME.format(DAY), body(*goods), format="json")
    assert response.status_code == 200 and taken == [201, 200]
    assert len(queries) == 2  # the membership (with the user), the filing call
    assert "reports_daily_report_file_checked" in queries[1]["sql"]


def _other_customer(world):
    return CustomerFactory(organization=world.org, owner=world.other_agent).pk


def _inactive(world):
    return ProductFactory(organization=world.org, is_active=False).pk


def _rival_product(world):
    return ProductFactory(organization=world.rival).pk


# (what the request is, how to change it, the view's status, the field its 400 names)
HANDED_OVER = [
    ("a query string", {"path": "?format=json"}, 201, None),
    ("a form body", {"format": "multipart"}, 415, None),
    ("an HTML Accept", {"HTTP_ACCEPT": "text/html"}, 201, None),
    ("counts as strings", {"body": {"followups": "5"}}, 201, None),
    ("an unknown field", {"body": {"mood": "good"}}, 201, None),
    ("a null count", {"body": {"orders": None}}, 400, "orders"),
    (
        "a count too large",
        {"body": {"communication_minutes": 24 * 60 + 1}},
        400,
        "communication_minutes",
    ),
    ("a null character", {"body": {"summary": "a\x00b"}}, 400, "summary"),
    ("three decimal places", {"line": {"amount": "1.005"}}, 400, "lines"),
    ("an amount as a float", {"line": {"amount": 1.5}}, 201, None),
    ("a negative amount", {"line": {"amount": "-1"}}, 400, "lines"),
    ("an empty line", {"line": {"quantity": 0, "amount": "0", "collected": "0"}}, 400, "lines"),
    ("an unknown product", {"line": {"product": 2**62}}, 400, "lines"),
    ("another tenant's product", {"line": {"product": _rival_product}}, 400, "lines"),
    ("a deactivated product", {"line": {"product": _inactive}}, 400, "lines"),
    ("someone else's customer", {"line": {"customer": _other_customer}}, 400, "lines"),
    ("a future day", {"day": dt.date(2026, 3, 11)}, 400, "date"),
    ("a late first filing", {"day": dt.date(2026, 3, 9)}, 201, None),
]


@on_postgresql
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "change", "status", "field"), HANDED_OVER, ids=[case[0] for case in HANDED_OVER]
)
def test_what_is_not_the_common_case_is_answered_by_the_view(
    client_for, world, goods, clock, taken, case, change, status, field
):
    clock.set("2026-03-10 20:00")
    serum, cream = goods
    payload = body(serum, cream)
    payload.update(change.get("body", {}))
    for name, value in change.get("line", {}).items():
        payload["lines"][0][name] = value(world) if callable(value) else value
    day = change.get("day", DAY)
    client = client_for(world.agent)
    extra = {key: value for key, value in change.items() if key.startswith("HTTP_")}
    response = client.put(
        ME.format(day) + change.get("path", ""),
        payload,
        format=change.get("format", "json"),
        **extra,
    )
    assert taken == []  # the view answered
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()
    stored = DailyReport.objects.filter(member=world.agent).exists()
    assert stored is (status == 201)
    if case == "a late first filing":
        assert DailyReport.objects.get(member=world.agent).is_late is True


@on_postgresql
@pytest.mark.django_db
def test_callers_the_view_refuses_are_refused_by_it(client_for, world, goods, clock, taken):
    clock.set("2026-03-10 20:00")
    payload = body(*goods)
    assert client_for(world.outsider).put(ME.format(DAY), payload, format="json").status_code == 404
    no_token = APIClient().put(ME.format(DAY), payload, format="json")
    assert no_token.status_code == 401
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(world.agent.user)}x")
    assert forged.put(ME.format(DAY), payload, format="json").status_code == 401
    world.agent.status = MemberStatus.SUSPENDED
    world.agent.save(update_fields=["status"])
    suspended = client_for(world.agent).put(ME.format(DAY), payload, format="json")
    assert suspended.status_code == 403
    assert taken == [] and not DailyReport.objects.exists()


@on_postgresql
@pytest.mark.django_db
def test_a_late_edit_goes_through_the_view_and_is_audited(client_for, world, goods, clock, taken):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    assert client.put(ME.format(DAY), body(*goods), format="json").status_code == 201
    clock.set("2026-03-11 09:00")  # after the day's cut-off, inside the editing window
    assert client.put(ME.format(DAY), {"orders": 9}, format="json").status_code == 200
    assert taken == [201]
    assert AuditEntry.objects.filter(action="daily_report.update").count() == 1


@on_postgresql
@pytest.mark.django_db
def test_a_request_handed_over_is_throttled_once(client_for, world, goods, clock, monkeypatch):
    throttle_counters_forget()
    rates = {**throttling.UserRateThrottle.THROTTLE_RATES, "user": "3/min"}
    monkeypatch.setattr(throttling.UserRateThrottle, "THROTTLE_RATES", rates)
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    bad = body(*goods)
    bad["lines"][0]["product"] = 2**62  # passes the fast path's checks, refused by the call
    try:
        statuses = [client.put(ME.format(DAY), bad, format="json").status_code]
        statuses += [client.put(ME.format(DAY), body(*goods), format="json").status_code]
        statuses += [client.put(ME.format(DAY), body(*goods), format="json").status_code]
        statuses += [client.put(ME.format(DAY), body(*goods), format="json").status_code]
    finally:
        throttle_counters_forget()
    assert statuses == [400, 201, 200, 429]


@on_postgresql
@pytest.mark.django_db
def test_a_database_error_in_the_call_is_handed_to_the_view(
    client_for, world, goods, clock, monkeypatch, taken
):
    clock.set("2026-03-10 20:00")

    def failing(**kwargs):
        raise DatabaseError("the call failed")

    monkeypatch.setattr(filing, "report_file_checked", failing)
    response = client_for(world.agent).put(ME.format(DAY), body(*goods), format="json")
    assert response.status_code == 201 and taken == []


@on_postgresql
@pytest.mark.django_db
def test_turned_off_when_the_input_serializer_has_a_field_it_does_not_know(
    client_for, world, goods, clock, monkeypatch, taken
):
    clock.set("2026-03-10 20:00")
    fields = dict(DailyReportInputSerializer._declared_fields)
    fields["orders"] = type(fields["orders"])(min_value=1, required=False, default=1)
    monkeypatch.setattr(DailyReportInputSerializer, "_declared_fields", fields)
    thread_fields = serializers._THREAD_FIELDS.__dict__.setdefault("fields", {})
    thread_fields.pop(DailyReportInputSerializer, None)  # built again from the new declaration
    fast_put._rules.cache_clear()
    try:
        assert fast_put._rules() is None
        response = client_for(world.agent).put(ME.format(DAY), body(*goods), format="json")
    finally:
        monkeypatch.undo()
        thread_fields.pop(DailyReportInputSerializer, None)
        fast_put._rules.cache_clear()
    assert response.status_code == 201 and taken == []


# --- The body check accepts a subset of what the serializer accepts, with the same values ---

_counts = st.one_of(
    st.integers(-2, 100_002), st.text(max_size=3), st.none(), st.booleans(), st.floats()
)
_texts = st.one_of(st.text(max_size=12), st.integers(), st.none())
_money = st.one_of(
    st.decimals(min_value=-10, max_value=10**13, places=3).map(str),
    st.integers(-5, 10**13),
    st.from_regex(r"\A[0-9]{1,14}(\.[0-9]{0,3})?\Z"),
    st.floats(allow_nan=True),
    st.none(),
)
_ids = st.one_of(st.integers(-1, 2**64), st.none(), st.text(max_size=3))
_lines = st.lists(
    st.fixed_dictionaries(
        {"product": _ids, "quantity": st.integers(-1, 1_000_001), "amount": _money},
        optional={"customer": _ids, "collected": _money},
    ),
    max_size=3,
)
_bodies = st.fixed_dictionaries(
    {},
    optional={
        "followups": _counts,
        "communication_minutes": _counts,
        "orders": _counts,
        "summary": _texts,
        "problems": _texts,
        "lines": st.one_of(_lines, st.none()),
    },
)


class _Request:
    def __init__(self, payload):
        import json

        self.body = json.dumps(payload).encode()


def test_the_body_check_accepts_a_plain_report():
    """The property below holds vacuously if the check refuses everything: this one it takes."""
    payload = {
        "orders": 2,
        "summary": "  Two shops. ",
        "lines": [
            {"product": 7, "quantity": 2, "amount": "300.5", "collected": "100"},
            {"product": 8, "customer": 9, "quantity": 0, "amount": 20},
        ],
    }
    values, lines = fast_put._body(_Request(payload), fast_put._rules())
    assert values["orders"] == 2 and values["summary"] == "Two shops."
    assert values["followups"] == 0 and values["problems"] == ""
    assert lines == [
        (7, None, 2, Decimal("300.50"), Decimal("100.00")),
        (8, 9, 0, Decimal("20.00"), Decimal("0.00")),
    ]


@hypothesis_settings(max_examples=300, deadline=None)
@given(payload=_bodies)
def test_the_body_check_is_the_serializers_on_what_it_accepts(payload):
    checked = fast_put._body(_Request(payload), fast_put._rules())
    if checked is None:
        return
    values, lines = checked
    serializer = DailyReportInputSerializer(data=payload, context={})
    validated = serializer.to_internal_value(payload)  # the fields' rules, not validate()'s
    assert values == {name: validated[name] for name in values}
    assert lines == [
        (
            line["product"],
            line.get("customer"),
            line["quantity"],
            line["amount"],
            line["collected"],
        )
        for line in validated["lines"]
    ]
    for (_product, _customer, quantity, amount, collected), given_line in zip(
        lines, payload.get("lines", []), strict=True
    ):
        assert quantity or amount or collected  # the services' "a line needs ..." holds
        assert str(amount) == format(Decimal(str(given_line["amount"])).quantize(Decimal("0.01")))


# --- In autocommit, as production runs: prepared statements, durability ----------------------


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_in_autocommit_the_call_is_prepared_once_and_again_after_a_deallocation(
    client_for, world, goods, clock, taken
):
    clock.set("2026-03-10 20:00")
    client = client_for(world.agent)
    assert client.put(ME.format(DAY), body(*goods), format="json").status_code == 201
    prepared = connection.__dict__[pipeline._PREPARED]
    assert prepared[filing._CHECKED_STATEMENT] is connection.connection.pgconn
    assert client.put(ME.format(DAY), body(*goods), format="json").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as psycopg does after a rollback
    again = client.put(ME.format(DAY), {"orders": 7, "lines": []}, format="json")
    assert again.status_code == 200 and taken == [201, 200, 200]
    # Committed: another connection sees it.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT orders FROM reports_dailyreport WHERE member_id = %s", [world.agent.pk]
            )
            assert cursor.fetchall() == [(7,)]
    finally:
        other.close()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failed_call_leaves_the_connection_usable(world):
    def answer(row):
        raise AssertionError("no row was expected")

    with pytest.raises(DatabaseError):
        pipeline.call_then_commit(
            connection,
            name=b"test_failing",
            statement=b"SELECT 1 / $1::integer",
            parameters=[0],
            on_row=answer,
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)
    assert (
        pipeline.call_then_commit(
            connection,
            name=b"test_ok",
            statement=b"SELECT $1::integer + 1",
            parameters=[1],
            on_row=sum,
        )
        == 2
    )


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_what_on_row_raises_is_raised_once_the_commit_is_done(world):
    def answer(row):
        raise ValueError("the answer could not be built")

    with pytest.raises(ValueError, match="could not be built"):
        pipeline.call_then_commit(
            connection,
            name=b"test_raises",
            statement=b"UPDATE agents_organization SET name = $1::text WHERE slug = 'acme'"
            b" RETURNING name",
            parameters=["Acme Two"],
            on_row=answer,
        )
    with connection.cursor() as cursor:  # committed all the same: the statement succeeded
        cursor.execute("SELECT name FROM agents_organization WHERE slug = 'acme'")
        assert cursor.fetchone() == ("Acme Two",)


@on_postgresql
@pytest.mark.django_db
def test_inside_a_transaction_the_call_is_part_of_it(world):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        assert (
            pipeline.call_then_commit(
                connection,
                name=b"test_atomic",
                statement=b"UPDATE agents_organization SET name = $1::text WHERE slug = 'acme'"
                b" RETURNING name",
                parameters=["Rolled back"],
                on_row=lambda row: row[0],
            )
            == "Rolled back"
        )
        raise RuntimeError("roll back")
    assert world.org.__class__.objects.get(slug="acme").name == "Acme"


def test_parameters_are_sent_in_postgresql_text_format():
    moment = dt.datetime(2026, 3, 10, 12, 0, 0, 500, tzinfo=dt.UTC)
    assert [pipeline._text(value) for value in (None, True, False, 7, Decimal("1.50"))] == [
        None,
        b"t",
        b"f",
        b"7",
        b"1.50",
    ]
    assert pipeline._text("李 '\"{}") == "李 '\"{}".encode()
    assert pipeline._text(dt.date(2026, 3, 10)) == b"2026-03-10"
    assert pipeline._text(moment) == b"2026-03-10T12:00:00.000500+00:00"
    assert pipeline._text([1, None, Decimal("2.5")]) == b"{1,NULL,2.5}"
    for unsupported in (["text"], dt.datetime(2026, 3, 10), 1.5):
        with pytest.raises(TypeError):
            pipeline._text(unsupported)
