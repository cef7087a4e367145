"""XLSX export of a cycle's appraisal results: scope, filters, values equal to the API's."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisals.models import Appraisal
from tests.agents.factories import MembershipFactory
from tests.appraisals.factories import APRIL, cycle_open, finalize, review_all, template_create
from tests.xlsx_read import info, records, sheet_rows, workbook_of

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"
EXPORT = f"{P}appraisals/export/"
PERSONAS = ("owner", "admin", "leader", "agent", "sub_agent", "other_leader", "other_agent")


@pytest.fixture
def finalized(world, template, target_for, sale):
    """March, finalized: leader 86 B, agent 92 A, sub_agent 62 C, other_leader 92 A,
    other_agent 32 D (see tests/appraisals/test_results.py)."""
    for member, amount in (
        (world.leader, 9000),
        (world.agent, 10000),
        (world.sub_agent, 5000),
        (world.other_leader, 10000),
        (world.other_agent, 0),
    ):
        target_for(member, 10000)
        if amount:
            sale(member, amount)
    cycle = cycle_open(template)
    review_all(cycle, world.owner, score=4)
    return finalize(cycle, world.owner)


def _persona(world):
    return {getattr(world, name).display_name: name for name in PERSONAS}


def export(client, cycle, **params):
    return workbook_of(client.get(EXPORT, {"cycle": cycle.pk, **params}, HTTP_ACCEPT_LANGUAGE="en"))


def test_values_equal_the_api(world, finalized, client_for):
    client = client_for(world.admin)
    listed = {
        row["member"]: row
        for row in client.get(f"{P}appraisals/", {"cycle": finalized.pk}).data["results"]
    }
    workbook = export(client, finalized)
    headers, _rows = sheet_rows(workbook.worksheets[0])
    assert headers == [
        "Member",
        "Agent code",
        "Region",
        "Sales (60%)",
        "Cooperation (40%)",
        "Quantitative score",
        "Qualitative score",
        "Total score",
        "Rank",
        "Grade",
        "Recommended outcome",
        "Final outcome",
        "Acknowledged at",
    ]
    rows = records(workbook.worksheets[0])
    assert [row["Rank"] for row in rows] == [1, 1, 3, 4, 5]  # by rank
    by_member = {getattr(world, _persona(world)[row["Member"]]).pk: row for row in rows}
    assert set(by_member) == set(listed)
    for member_id, api in listed.items():
        row = by_member[member_id]
        for header, field in [
            ("Quantitative score", "quantitative_score"),
            ("Qualitative score", "qualitative_score"),
            ("Total score", "total_score"),
        ]:
            assert D(str(row[header])) == D(api[field]), header
        assert row["Rank"] == api["rank"]
        assert row["Grade"] == api["grade"]
        scores = {score["criterion"]: score["score"] for score in api["scores"]}
        sales, cooperation = sorted(scores)  # criteria in their order: sales, cooperation
        assert D(str(row["Sales (60%)"])) == D(scores[sales])
        assert D(str(row["Cooperation (40%)"])) == D(scores[cooperation])
    agent = by_member[world.agent.pk]
    assert (agent["Agent code"], agent["Region"], agent["Grade"]) == ("A-001", "East", "A")
    assert agent["Recommended outcome"] == "Reward"
    assert by_member[world.other_agent.pk]["Final outcome"] == "Eliminate"
    assert agent["Acknowledged at"] is None
    about = info(workbook)
    assert about["Cycle"] == str(finalized)
    assert about["Status"] == "Finalized"


def test_acknowledgement_is_a_local_datetime(world, finalized, client_for):
    appraisal = Appraisal.objects.get(cycle=finalized, member=world.agent)
    appraisal.acknowledged_at = dt.datetime(2026, 4, 2, 16, 0, tzinfo=dt.UTC)
    appraisal.save(update_fields=["acknowledged_at"])
    rows = records(export(client_for(world.agent), finalized).worksheets[0])
    assert rows[0]["Acknowledged at"] == dt.datetime(2026, 4, 3, 0, 0)  # Asia/Shanghai


@override_settings(LANGUAGE_CODE="zh-hans")
def test_headers_are_chinese_by_default(world, finalized, client_for):
    response = client_for(world.admin).get(EXPORT, {"cycle": finalized.pk})
    headers, _rows = sheet_rows(workbook_of(response).worksheets[0])
    assert headers[0] == "成员" and headers[2] == "区域"


def test_scope_follows_the_list(world, finalized, client_for):
    for persona, expected in [
        ("agent", {"agent"}),
        ("leader", {"leader", "agent", "sub_agent"}),
        ("other_leader", {"other_leader", "other_agent"}),
        ("owner", {"leader", "agent", "sub_agent", "other_leader", "other_agent"}),
    ]:
        rows = records(export(client_for(getattr(world, persona)), finalized).worksheets[0])
        assert {_persona(world)[row["Member"]] for row in rows} == expected, persona


def test_filters_and_the_cycle(world, template, finalized, client_for):
    april = cycle_open(template, APRIL)
    client = client_for(world.admin)
    rows = records(export(client, finalized, grade="A").worksheets[0])
    assert {_persona(world)[row["Member"]] for row in rows} == {"agent", "other_leader"}
    rows = records(export(client, finalized, member=world.agent.pk).worksheets[0])
    assert len(rows) == 1
    # Only the asked cycle's appraisals, even though April's exist too.
    assert len(records(export(client, april).worksheets[0])) == 4
    # An explicit ordering replaces the ranking.
    rows = records(export(client, finalized, ordering="-total_score").worksheets[0])
    assert [row["Total score"] for row in rows] == sorted(
        (row["Total score"] for row in rows), reverse=True
    )


def test_bad_input_is_400_and_other_orgs_404(world, finalized, client_for):
    client = client_for(world.admin)
    rival_cycle = cycle_open(template_create(world.rival))
    for params, field in [
        ({}, "cycle"),
        ({"cycle": "abc"}, "cycle"),
        ({"cycle": rival_cycle.pk}, "cycle"),
        ({"cycle": finalized.pk, "reviewed": "banana"}, "reviewed"),
        ({"cycle": finalized.pk, "ordering": "nope"}, "ordering"),
    ]:
        response = client.get(EXPORT, params)
        assert response.status_code == 400, params
        assert field in response.json(), params
    assert client_for(world.outsider).get(EXPORT, {"cycle": finalized.pk}).status_code == 404
    assert client_for(world.outsider).get(EXPORT, {"cycle": rival_cycle.pk}).status_code == 404


def test_formula_injection_in_names_is_neutralised(world, finalized, client_for):
    world.agent.user.display_name = "@SUM(1+1)*cmd"
    world.agent.user.save()
    sheet = export(client_for(world.agent), finalized).worksheets[0]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "@SUM(1+1)*cmd"


def test_row_cap(world, finalized, client_for):
    with override_settings(EXPORT_MAX_ROWS=4):
        response = client_for(world.admin).get(EXPORT, {"cycle": finalized.pk})
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_query_count_does_not_grow_with_rows(world, template, client_for):
    client = client_for(world.admin)
    counts = []
    for extra in (0, 25):
        for _ in range(extra):
            MembershipFactory(organization=world.org, upline=world.leader)
        cycle = cycle_open(template, APRIL) if extra else cycle_open(template)
        with CaptureQueriesContext(connection) as ctx:
            workbook = workbook_of(client.get(EXPORT, {"cycle": cycle.pk}))
        rows = sheet_rows(workbook.worksheets[0])[1]
        assert len(rows) == cycle.appraisals.count()
        counts.append((len(rows), len(ctx.captured_queries)))
    assert counts[0][0] < counts[1][0]
    assert counts[0][1] == counts[1][1]


# --- Admin ---------------------------------------------------------------------------------------


@pytest.fixture
def staff_owner(world):
    world.owner.user.is_staff = True
    world.owner.user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(world.owner.user)
    return client


def test_admin_exports_the_selected_appraisals_a_sheet_per_cycle(
    world, template, finalized, staff_owner
):
    april = cycle_open(template, APRIL)
    selected = [
        Appraisal.objects.get(cycle=finalized, member=world.agent).pk,
        Appraisal.objects.get(cycle=finalized, member=world.leader).pk,
        Appraisal.objects.get(cycle=april, member=world.agent).pk,
    ]
    response = staff_owner.post(
        reverse("admin:appraisals_appraisal_changelist"),
        {"action": "export_xlsx", "_selected_action": selected},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    workbook = workbook_of(response)
    assert len(workbook.worksheets) == 3  # March, April, and the information sheet
    march = records(workbook.worksheets[0])
    assert [(_persona(world)[row["Member"]], row["Grade"]) for row in march] == [
        ("agent", "A"),
        ("leader", "B"),
    ]
    assert len(records(workbook.worksheets[1])) == 1
