"""Members from a spreadsheet: POST P/members/import/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Membership, Role, User
from tests.agents.factories import AgentLevelFactory, MembershipFactory, RegionFactory
from tests.agents.upload_files import csv_file, xlsx_file

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/orgs/acme/members/import/"


def upload(client, file, **form):
    return client.post(IMPORT, {"file": file, **form}, format="multipart")


def member(world, code) -> Membership:
    return Membership.objects.select_related("user", "upline").get(
        organization=world.org, code=code
    )


def assert_paths_consistent(org):
    """The materialized-path invariant: each path is the upline's path plus the member's id."""
    members = {m.pk: m for m in Membership.objects.filter(organization=org)}
    for item in members.values():
        upline = members.get(item.upline_id)
        expected = f"{upline.path if upline else '/'}{item.pk}/"
        assert item.path == expected, (item, item.path, expected)
        assert item.depth == (upline.depth + 1 if upline else 0)


def test_csv_creates_members_with_uplines_defined_later_in_the_file(client_for, world):
    RegionFactory(organization=world.org, name="Shanghai", parent=world.leader.region)
    AgentLevelFactory(organization=world.org, name="Gold")
    text = (
        "Agent code,Username,Display name,Role,Upline,Region,Level,Status,Joined on,Password\n"
        "B-002,bo,Bo Wang,agent,B-001,East/Shanghai,Gold,probation,2026-03-01,\n"
        "B-001,bai,Bai Li,leader,A-001,West,,active,2026-02-01,Long-pass-2026!\n"
        "B-003,bing,,,B-002,,,,,\n"
    )
    response = upload(client_for(world.admin), csv_file(text))
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 3, "updated": 0}
    b1, b2, b3 = member(world, "B-001"), member(world, "B-002"), member(world, "B-003")
    assert b1.upline == world.agent and b1.role == Role.LEADER
    assert b2.upline == b1 and b2.status == "probation" and b2.level.name == "Gold"
    assert b2.region.name == "Shanghai" and b2.user.display_name == "Bo Wang"
    assert b3.upline == b2 and b3.role == Role.AGENT
    assert b3.path == f"{world.leader.path}{world.agent.pk}/{b1.pk}/{b2.pk}/{b3.pk}/"
    assert b1.user.check_password("Long-pass-2026!")
    assert not b2.user.has_usable_password()
    assert_paths_consistent(world.org)
    # The leader now sees the new members in their subtree.
    listed = client_for(world.leader).get("/api/v1/orgs/acme/members/?page_size=200").json()
    assert {"B-001", "B-002", "B-003"} <= {row["code"] for row in listed["results"]}


def test_xlsx_with_chinese_headers(client_for, world):
    rows = [
        ["代理编号", "用户名", "姓名", "上级", "区域", "状态"],
        ["C-1", "chen", "陈一", "A-001", "East", "active"],
        ["C-2", "chu", "楚二", "C-1", None, None],
    ]
    response = upload(client_for(world.owner), xlsx_file(rows))
    assert response.status_code == 201, response.json()
    assert member(world, "C-2").upline == member(world, "C-1")
    assert member(world, "C-1").user.display_name == "陈一"


def test_gbk_csv(client_for, world):
    text = "代理编号,用户名,姓名\nG-1,gao,高明\n"
    response = upload(client_for(world.admin), csv_file(text, encoding="gbk"))
    assert response.status_code == 201, response.json()
    assert member(world, "G-1").user.display_name == "高明"


def test_dry_run_previews_creates_and_updates_and_writes_nothing(client_for, world):
    text = "code,username,display name,upline\nA-001,,Agent Renamed,\nN-1,newbie,New One,A-001\n"
    users_before = User.objects.count()
    response = upload(client_for(world.admin), csv_file(text), dry_run="true")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True and body["created"] == 1 and body["updated"] == 1
    actions = {row["key"]: row["action"] for row in body["rows"]}
    assert actions == {"A-001": "update", "N-1": "create"}
    preview = {row["key"]: row["values"] for row in body["rows"]}
    assert preview["N-1"]["upline"] == "A-001" and preview["N-1"]["username"] == "newbie"
    assert User.objects.count() == users_before
    world.agent.user.refresh_from_db()
    assert world.agent.user.display_name != "Agent Renamed"


def test_upsert_by_code_moves_the_subtree(client_for, world):
    # agent (A-001, with sub_agent below) moves from leader to other_leader.
    world.other_leader.code = "L-2"
    world.other_leader.save()
    text = "code,upline,status,display name\nA-001,L-2,suspended,Agent Moved\n"
    response = upload(client_for(world.admin), csv_file(text))
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 0, "updated": 1}
    world.agent.refresh_from_db()
    world.sub_agent.refresh_from_db()
    assert world.agent.upline_id == world.other_leader.pk and world.agent.status == "suspended"
    assert world.sub_agent.path.startswith(world.other_leader.path)
    assert world.agent.user.display_name == "Agent Moved"
    assert_paths_consistent(world.org)


def test_one_bad_row_writes_nothing_and_every_bad_row_is_listed(client_for, world):
    text = (
        "code,username,role,upline,region,level,status,joined on\n"
        "OK-1,okay,agent,,,,,\n"
        "BAD-1,,agent,,,,,\n"  # a new member without a username
        "BAD-2,bad2,chief,NOPE,Atlantis,Platinum,gone,yesterday\n"
        "OK-1,okay2,,,,,,\n"  # the same code twice
        "BAD-3,outsider,,,,,,\n"  # a taken username (of another organization's member)
    )
    response = upload(client_for(world.admin), csv_file(text))
    assert response.status_code == 400
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert {
        (3, "username"),
        (4, "role"),
        (4, "region"),
        (4, "level"),
        (4, "status"),
        (4, "joined_on"),
        (4, "upline"),
        (5, "code"),
        (6, "username"),
    } <= errors
    assert not Membership.objects.filter(organization=world.org, code="OK-1").exists()
    assert not User.objects.filter(username="okay").exists()


def test_cycle_is_refused(client_for, world):
    # sub_agent is below agent: making agent report to sub_agent would be a cycle.
    world.sub_agent.code = "S-1"
    world.sub_agent.save()
    response = upload(client_for(world.admin), csv_file("code,upline\nA-001,S-1\n"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "upline"
    # A cycle made only of new rows, too.
    text = "code,username,upline\nX-1,x1,X-2\nX-2,x2,X-1\n"
    response = upload(client_for(world.admin), csv_file(text))
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {
        (2, "upline"),
        (3, "upline"),
    }
    world.agent.refresh_from_db()
    assert world.agent.upline_id == world.leader.pk


def test_other_organizations_codes_are_unknown(client_for, world):
    MembershipFactory(organization=world.rival, code="R-1")
    response = upload(client_for(world.admin), csv_file("code,username,upline\nN-1,n1,R-1\n"))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 2, "field": "upline", "message": "Unknown agent code."}
    ]
    # The rival's code is free here: it creates a member of acme, not an update of the rival's.
    response = upload(client_for(world.admin), csv_file("code,username\nR-1,acme_r1\n"))
    assert response.status_code == 201
    assert response.json() == {"created": 1, "updated": 0}


def test_role_rules(client_for, world):
    text = "code,username,role\nO-1,new_owner,owner\n"
    response = upload(client_for(world.owner), csv_file(text))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "role"
    # An admin cannot create administrators; an owner can.
    text = "code,username,role\nM-1,new_admin,admin\n"
    assert upload(client_for(world.admin), csv_file(text)).status_code == 400
    assert upload(client_for(world.owner), csv_file(text)).status_code == 201
    # Leaders and agents may not import members at all.
    for persona in ("leader", "agent"):
        response = upload(client_for(getattr(world, persona)), csv_file("code\nZ-1\n"))
        assert response.status_code == 403


def test_form_errors(client_for, world):
    client = client_for(world.admin)
    assert "file" in client.post(IMPORT, {}, format="multipart").json()
    response = upload(client, SimpleUploadedFile("m.pdf", b"%PDF", "application/pdf"))
    assert response.status_code == 400 and "file" in response.json()
    response = upload(client, csv_file("username\nx\n"))
    assert response.json() == {
        "errors": [{"row": 1, "field": "code", "message": "The column is missing."}]
    }
    response = upload(client, csv_file("code\nQ-1\n"), dry_run="perhaps")
    assert response.status_code == 400 and "dry_run" in response.json()


def test_outsider_gets_404(client_for, world):
    response = upload(client_for(world.outsider), csv_file("code,username\nQ-1,q1\n"))
    assert response.status_code == 404


def _rows_csv(count: int, start: int = 0) -> str:
    lines = ["code,username,upline"]
    for n in range(start, start + count):
        upline = "A-001" if n == start else f"Q-{n - 1}"
        lines.append(f"Q-{n},quser{n},{upline}")
    return "\n".join(lines) + "\n"


def test_query_count_does_not_grow_with_rows(client_for, world):
    client = client_for(world.admin)
    with CaptureQueriesContext(connection) as small:
        assert upload(client, csv_file(_rows_csv(5))).status_code == 201
    with CaptureQueriesContext(connection) as large:
        assert upload(client, csv_file(_rows_csv(120, start=100))).status_code == 201
    # bulk statements are split into batches; SQLite splits them further by its variable cap
    assert len(large) <= len(small) + 12, [q["sql"][:80] for q in large.captured_queries]
    assert member(world, "Q-219").depth == world.agent.depth + 120
    assert_paths_consistent(world.org)


def test_a_hierarchy_deeper_than_a_path_holds_is_refused(client_for, world):
    response = upload(client_for(world.admin), csv_file(_rows_csv(200, start=1000)))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and {error["field"] for error in errors} == {"upline"}
    assert not Membership.objects.filter(code="Q-1000").exists()


def test_the_import_is_in_the_audit_trail(client_for, world):
    from agents.models import AuditEntry

    text = "code,username,upline,status\nA-001,,,suspended\nT-1,tee,A-001,\n"
    assert upload(client_for(world.admin), csv_file(text)).status_code == 201
    entries = {
        entry.action: entry
        for entry in AuditEntry.objects.filter(organization=world.org, context__import=True)
    }
    assert entries["member.update"].object_id == str(world.agent.pk)
    assert entries["member.update"].changes["status"][1] == "suspended"
    assert entries["member.create"].changes["upline"] == [None, world.agent.pk]
    assert entries["member.create"].actor == world.admin
