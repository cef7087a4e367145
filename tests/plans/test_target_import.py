"""Targets from a breakdown grid: POST P/targets/import/ and manage.py import_targets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Role
from plans.models import PlanStatus, Target
from tests.agents.factories import MembershipFactory, RegionFactory
from tests.agents.upload_files import csv_file, xlsx_file
from tests.plans.factories import SalesPlanFactory, TargetFactory

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/orgs/acme/targets/import/"


def post(client, file, **form):
    return client.post(IMPORT, {"file": file, **form}, format="multipart")


@pytest.fixture
def coded(world):
    """Agent codes for the members a grid names."""
    for persona, code in (("sub_agent", "S-1"), ("other_agent", "B-1"), ("leader", "L-1")):
        member = getattr(world, persona)
        member.code = code
        member.save()
    return world


def test_member_grid_creates_monthly_targets(client_for, coded, plan_2026):
    world = coded
    text = "Member,Name,2026-11,2026-12\nA-001,agent,5000,6000\nS-1,sub,,1200.50\n"
    response = post(
        client_for(world.admin), csv_file(text), plan=plan_2026.pk, metric="sales_amount"
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 3, "updated": 0}
    nov = Target.objects.get(plan=plan_2026, member=world.agent, start=dt.date(2026, 11, 1))
    assert (nov.end, nov.value, nov.metric, nov.tier) == (
        dt.date(2026, 11, 30),
        Decimal("5000.00"),
        "sales_amount",
        "base",
    )
    assert Target.objects.get(member=world.sub_agent).value == Decimal("1200.50")
    # The targets are visible through the API like any other.
    listed = client_for(world.agent).get(f"/api/v1/orgs/acme/targets/?plan={plan_2026.pk}").json()
    assert len(listed["results"]) == 3


def test_xlsx_region_grid_with_chinese_months_and_update(client_for, world, plan_2026):
    RegionFactory(organization=world.org, name="Shanghai", parent=world.leader.region)
    existing = TargetFactory(
        plan=plan_2026,
        region=world.leader.region,
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 30),
        value=Decimal("1.00"),
    )
    rows = [["区域", "2026年11月", "2026年12月"], ["East", 800, 900], ["East/Shanghai", 100, None]]
    client = client_for(world.owner)
    preview = post(client, xlsx_file(rows), plan=plan_2026.pk, metric="orders", dry_run="true")
    # another metric: nothing to update
    assert preview.json()["created"] == 3 and preview.json()["updated"] == 0
    response = post(client, xlsx_file(rows), plan=plan_2026.pk, metric="sales_amount")
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2, "updated": 1}
    existing.refresh_from_db()
    assert existing.value == Decimal("800.00")


def test_dry_run_writes_nothing(client_for, coded, plan_2026):
    text = "agent code,2026-11\nA-001,10\n"
    response = post(
        client_for(coded.admin), csv_file(text), plan=plan_2026.pk, metric="orders", dry_run="1"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True and body["created"] == 1
    assert body["rows"] == [
        {"row": 2, "action": "create", "key": "A-001", "values": {"2026-11": "10.00"}}
    ]
    assert not Target.objects.exists()


def test_bad_cells_write_nothing_and_are_all_listed(client_for, coded, plan_2026):
    text = "member,2026-11,2026-12\nA-001,100,\nNOPE,1,2\nS-1,-5,1.5\nA-001,1,1\n"
    response = post(client_for(coded.admin), csv_file(text), plan=plan_2026.pk, metric="orders")
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
        (3, "member"),
        (4, "2026-11"),  # negative
        (4, "2026-12"),  # orders are whole numbers
        (5, "member"),  # twice
    }
    assert not Target.objects.exists()


def test_header_errors(client_for, coded, plan_2026):
    client = client_for(coded.admin)
    text = "who,2026-11,Nov,2025-12\nA-001,1,2,3\n"
    response = post(client, csv_file(text), plan=plan_2026.pk, metric="orders")
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
        (1, "file"),
        (1, "Nov"),
        (1, "2025-12"),  # outside the plan
    }


def test_leader_imports_only_for_their_subtree(client_for, coded, plan_2026):
    world = coded
    text = "member,2026-11\nA-001,10\nS-1,5\nB-1,7\nL-1,3\n"
    response = post(client_for(world.leader), csv_file(text), plan=plan_2026.pk, metric="orders")
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
        (4, "member"),  # another branch: unknown
        (5, "member"),  # nobody sets their own target
    }
    text = "member,2026-11\nA-001,10\nS-1,5\n"
    response = post(client_for(world.leader), csv_file(text), plan=plan_2026.pk, metric="orders")
    assert response.status_code == 201
    # agents set no top-level targets
    response = post(client_for(world.agent), csv_file(text), plan=plan_2026.pk, metric="orders")
    assert response.status_code == 400


def test_breakdown_of_a_parent_never_sums_above_it(client_for, coded, plan_2026):
    world = coded
    parent = TargetFactory(plan=plan_2026, member=world.leader, value=Decimal("1000.00"))
    client = client_for(world.leader)
    form = {"plan": plan_2026.pk, "metric": "sales_amount", "parent": parent.pk}
    response = post(client, csv_file("member,2026-11,2026-12\nA-001,600,500\n"), **form)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "2026-12"
    response = post(client, csv_file("member,2026-11,2026-12\nA-001,600,400\n"), **form)
    assert response.status_code == 201, response.json()
    children = Target.objects.filter(parent=parent)
    assert children.count() == 2
    assert {child.breakdown_dimension for child in children} == {"member"}
    # a parent of another branch is unknown (400 naming the field)
    foreign = TargetFactory(plan=plan_2026, member=world.other_leader)
    response = post(client, csv_file("member,2026-11\nA-001,1\n"), **{**form, "parent": foreign.pk})
    assert response.status_code == 400 and "parent" in response.json()


def test_form_errors_and_closed_plan(client_for, coded, plan_2026):
    client = client_for(coded.admin)
    file = csv_file("member,2026-11\nA-001,1\n")
    response = post(client, file, plan=plan_2026.pk, metric="happiness")
    assert response.status_code == 400 and "metric" in response.json()
    rival_plan = SalesPlanFactory(organization=coded.rival)
    response = post(
        client, csv_file("member,2026-11\nA-001,1\n"), plan=rival_plan.pk, metric="orders"
    )
    assert response.status_code == 400 and "plan" in response.json()
    closed = SalesPlanFactory(organization=coded.org, status=PlanStatus.CLOSED)
    response = post(client, csv_file("member,2026-11\nA-001,1\n"), plan=closed.pk, metric="orders")
    assert response.status_code == 409
    assert not Target.objects.exists()


def test_query_count_does_not_grow_with_rows(client_for, world, plan_2026):
    leader = world.leader
    members = [
        MembershipFactory(organization=world.org, upline=leader, code=f"M-{n}", role=Role.AGENT)
        for n in range(40)
    ]
    months = [f"2026-{month:02d}" for month in range(1, 13)]

    def grid(rows):
        lines = ["member," + ",".join(months)]
        lines += [f"{m.code}," + ",".join(["10"] * 12) for m in rows]
        return csv_file("\n".join(lines))

    client = client_for(world.admin)
    with CaptureQueriesContext(connection) as small:
        post(client, grid(members[:2]), plan=plan_2026.pk, metric="orders")
    with CaptureQueriesContext(connection) as large:
        post(client, grid(members[2:]), plan=plan_2026.pk, metric="orders")
    assert Target.objects.count() == 40 * 12

    def statements(context):
        # SQLite splits a bulk INSERT into batches by its variable limit: count the others.
        return [
            q["sql"][:30] for q in context.captured_queries if not q["sql"].startswith("INSERT")
        ]

    assert len(statements(large)) == len(statements(small)), statements(large)
    assert len(large) <= len(small) + 20


def test_management_command(coded, plan_2026, tmp_path, capsys):
    path = tmp_path / "grid.csv"
    path.write_text("member,2026-11\nA-001,10\n", encoding="utf-8")
    args = ["--org", "acme", "--file", str(path), "--plan", str(plan_2026.pk), "--metric", "orders"]
    call_command("import_targets", *args, "--dry-run")
    assert not Target.objects.exists()
    assert "1 to create, 0 to update" in capsys.readouterr().out
    call_command("import_targets", *args)
    assert Target.objects.get().value == Decimal("10.00")
    assert "1 created, 0 updated" in capsys.readouterr().out
    path.write_text("member,2026-11\nNOPE,10\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 errors"):
        call_command("import_targets", *args)


def test_admin_upload_preview_confirm(world, coded, plan_2026):
    from django.test import Client
    from django.urls import reverse

    user = world.owner.user
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    changelist = client.get(reverse("admin:plans_salesplan_changelist")).content.decode()
    url = reverse("admin:plans_salesplan_import")
    assert url in changelist
    assert (
        reverse("admin:plans_target_import")
        in client.get(reverse("admin:plans_target_changelist")).content.decode()
    )
    form = {
        "organization": world.org.pk,
        "plan": plan_2026.pk,
        "metric": "orders",
        "tier": "",
        "parent": "",
        "file": csv_file("成员,2026年11月,2026年12月\nA-001,10,12\n"),
    }
    preview = client.post(url, form)
    assert preview.status_code == 200, preview.content.decode()[:2000]
    assert "2026-11" in preview.content.decode() and not Target.objects.exists()
    done = client.post(url, {"token": preview.context["token"]})
    assert done.status_code == 302
    assert sorted(Target.objects.values_list("value", flat=True)) == [10, 12]
    # a closed plan: the form says why, nothing is written
    plan_2026.status = PlanStatus.CLOSED
    plan_2026.save()
    form["file"] = csv_file("member,2026-10\nA-001,10\n")
    page = client.post(url, form)
    assert "closed" in page.content.decode()
    assert Target.objects.count() == 2


def test_other_organizations_codes_and_regions_are_unknown(client_for, coded, plan_2026):
    MembershipFactory(organization=coded.rival, code="R-1")
    RegionFactory(organization=coded.rival, name="North")
    client = client_for(coded.owner)
    response = post(client, csv_file("member,2026-11\nR-1,5\n"), plan=plan_2026.pk, metric="orders")
    assert response.json()["errors"] == [
        {"row": 2, "field": "member", "message": "Unknown agent code."}
    ]
    response = post(
        client, csv_file("region,2026-11\nNorth,5\n"), plan=plan_2026.pk, metric="orders"
    )
    assert response.json()["errors"] == [
        {"row": 2, "field": "region", "message": "Unknown region."}
    ]
    assert not Target.objects.exists()
