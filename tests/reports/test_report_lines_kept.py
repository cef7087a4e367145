"""Filing a daily report again keeps its sales lines (migration 0004, services._report_lines_keep):
the n-th line sent updates the n-th stored line, which keeps its id and created_at; extra lines
are added after them, missing ones deleted. The same through every path that files a report:
the fast path and the view's filing function (PostgreSQL, on time), and the portable path (late,
or SQLite)."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import filing
from reports.models import SalesEntry

pytestmark = pytest.mark.django_db

ME = "/api/v1/orgs/acme/me/daily-reports/{}/"
DAY = dt.date(2026, 3, 10)
ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]
needs_postgresql = pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's filing function")


@pytest.fixture(
    params=[
        pytest.param("fast", marks=needs_postgresql),
        pytest.param("view", marks=needs_postgresql),
        "portable",
        "late",
    ]
)
def path(request, settings, monkeypatch, clock):
    """How the PUTs are filed: the fast path, the DRF view's call of the filing function, the
    portable path on time (as on SQLite), the portable path after the cut-off (audited)."""
    if request.param == "view":
        settings.REPORTS_FAST_PUT = False
    if request.param == "portable":
        monkeypatch.setattr(filing, "supported", lambda: False)
    clock.set("2026-03-10 23:30" if request.param == "late" else "2026-03-10 10:00")
    return request.param


def _line(product, amount, quantity=1, customer=None):
    line = {"product": product.pk, "quantity": quantity, "amount": amount}
    if customer is not None:
        line["customer"] = customer
    return line


def _stored(member) -> list[tuple]:
    return list(
        SalesEntry.objects.filter(member=member)
        .order_by("id")
        .values_list("id", "product_id", "quantity", "amount", "created_at")
    )


def test_a_line_keeps_its_id_through_edits(client_for, world, goods, path, clock):
    serum, cream = goods
    client = client_for(world.agent)
    first = client.put(
        ME.format(DAY),
        {"lines": [_line(serum, "10"), _line(cream, "20"), _line(serum, "30")]},
        format="json",
    )
    assert first.status_code == 201, first.data
    ids = [line["id"] for line in first.json()["lines"]]
    assert ids == sorted(ids)
    created = {row[0]: row[4] for row in _stored(world.agent)}

    # The second line changed, the others sent again as they were: same ids, one new amount.
    if path != "late":
        clock.set("2026-03-10 11:00")
    edited = client.put(
        ME.format(DAY),
        {"lines": [_line(serum, "10"), _line(cream, "25", quantity=2), _line(serum, "30")]},
        format="json",
    )
    assert edited.status_code == 200, edited.data
    assert [line["id"] for line in edited.json()["lines"]] == ids
    assert [(line["quantity"], line["amount"]) for line in edited.json()["lines"]] == [
        (1, "10.00"),
        (2, "25.00"),
        (1, "30.00"),
    ]
    stored = _stored(world.agent)
    assert [(row[0], row[2], str(row[3])) for row in stored] == [
        (ids[0], 1, "10.00"),
        (ids[1], 2, "25.00"),
        (ids[2], 1, "30.00"),
    ]
    assert {row[0]: row[4] for row in stored} == created  # still their first filing's

    # Fewer lines: the last one is deleted; the product of a kept line may change.
    fewer = client.put(
        ME.format(DAY), {"lines": [_line(cream, "5"), _line(cream, "6")]}, format="json"
    )
    assert fewer.status_code == 200, fewer.data
    assert [line["id"] for line in fewer.json()["lines"]] == ids[:2]
    assert [row[1] for row in _stored(world.agent)] == [cream.pk, cream.pk]

    # More lines: the new ones come after the kept ones, in the order sent, as a GET lists them.
    more = client.put(
        ME.format(DAY),
        {"lines": [_line(cream, "5"), _line(cream, "6"), _line(serum, "7"), _line(serum, "8")]},
        format="json",
    )
    assert more.status_code == 200, more.data
    answered = [line["id"] for line in more.json()["lines"]]
    assert answered[:2] == ids[:2] and ids[2] not in answered
    assert answered == sorted(answered) and len(set(answered)) == 4
    assert client.get(ME.format(DAY)).json()["lines"] == more.json()["lines"]
    assert [row[0] for row in _stored(world.agent)] == answered
    sales = client.get("/api/v1/orgs/acme/sales/", {"member": world.agent.pk})
    assert sorted(row["id"] for row in sales.json()["results"]) == answered

    # No lines: none left.
    empty = client.put(ME.format(DAY), {"lines": []}, format="json")
    assert (empty.status_code, empty.json()["lines"]) == (200, [])
    assert _stored(world.agent) == []


def test_a_line_sent_again_unchanged_is_not_written(client_for, world, goods, path):
    """Nothing to update: the row is left as it is. On PostgreSQL it is the same row version at
    the same place; on SQLite, the only update of a line names the changed one."""
    serum, cream = goods
    client = client_for(world.agent)
    body = {"lines": [_line(serum, "10"), _line(cream, "20")]}
    assert client.put(ME.format(DAY), body, format="json").status_code == 201
    versions = _row_versions(world.agent)
    body["lines"][1]["amount"] = "21"
    with CaptureQueriesContext(connection) as queries:
        assert client.put(ME.format(DAY), body, format="json").status_code == 200
    after = _row_versions(world.agent)
    if ON_POSTGRESQL:
        assert after[0] == versions[0] and after[1] != versions[1]
    else:
        kept, changed = versions
        updated = [
            set(re.findall(r"\d+", match))
            for query in queries.captured_queries
            if query["sql"].startswith('UPDATE "reports_salesentry"')
            for match in re.findall(r'WHERE "reports_salesentry"."id" IN \(([^)]*)\)', query["sql"])
        ]
        assert updated == [{str(changed)}], queries.captured_queries
        assert after == versions


def _row_versions(member) -> list:
    ids = list(SalesEntry.objects.filter(member=member).order_by("id").values_list("id", flat=True))
    if not ON_POSTGRESQL:
        return ids
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ctid::text FROM reports_salesentry WHERE id = ANY(%s) ORDER BY id", [ids]
        )
        return [row[0] for row in cursor.fetchall()]
