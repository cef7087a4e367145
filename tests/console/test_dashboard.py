"""The admin dashboard through the Django test client: who may open it, that its numbers are
the API's, the plan and metric switches, bad query parameters, empty states and a constant
number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Role
from plans.models import PeriodKind
from tests.agents.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.console.conftest import DASHBOARD, OCTOBER, october_sales
from tests.console.page import elements
from tests.plans.factories import SalesPlanFactory, TargetFactory
from tests.reports.factories import SalesEntryFactory

P = "/api/v1/orgs/acme/"
CHOOSE = "/admin/dashboard/"


def staff(member):
    member.user.is_staff = True
    member.user.save(update_fields=["is_staff"])
    return member.user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def values(html, css_class, within=None):
    """(label or date, Decimal value) of each drawn element of the class."""
    return [
        (
            element.attrs.get("data-label") or element.attrs.get("data-date"),
            Decimal(element["data-value"]),
        )
        for element in elements(html, css_class, within=within)
    ]


def numbers(pairs):
    return [(key, Decimal(str(value))) for key, value in pairs]


# --- Access -----------------------------------------------------------------------------------


def test_an_admin_of_the_organization_opens_its_dashboard_and_no_other(world, scene, client):
    client.force_login(staff(world.admin))
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert b"Attainment by region" in response.content
    assert client.get("/admin/dashboard/rival/").status_code == 404
    assert client.get("/admin/dashboard/no-such-org/").status_code == 404
    # One organization: the chooser goes straight to it.
    response = client.get(CHOOSE)
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    # The admin index leads there.
    index = client.get("/admin/")
    assert index.status_code == 200 and CHOOSE.encode() in index.content


def test_the_owner_of_another_organization_gets_404(world, scene, client):
    client.force_login(staff(world.outsider))
    assert client.get(DASHBOARD).status_code == 404
    assert client.get("/admin/dashboard/rival/").status_code == 200


def test_a_superuser_sees_every_organization_and_chooses(world, scene, client, superuser):
    client.force_login(superuser)
    response = client.get(CHOOSE)
    assert response.status_code == 200
    assert b"/admin/dashboard/acme/" in response.content
    assert b"/admin/dashboard/rival/" in response.content
    assert client.get(DASHBOARD).status_code == 200
    assert client.get("/admin/dashboard/rival/").status_code == 200


@pytest.mark.parametrize("persona", ["agent", "sub_agent"])
def test_members_who_do_not_administer_it_are_refused(world, scene, client, persona):
    member = world.member(persona)
    client.force_login(member.user)
    # Not staff: the admin's login page, as for any admin page.
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # Staff, but an agent there, not an owner, admin or leader: the organization is not theirs
    # (leaders: tests/console/test_leader_dashboard.py).
    client.force_login(staff(member))
    assert client.get(DASHBOARD).status_code == 404
    response = client.get(CHOOSE)
    assert response.status_code == 200
    assert b"You do not administer any organization." in response.content


def test_anonymous_users_are_sent_to_the_login(world, scene, client):
    for url in (CHOOSE, DASHBOARD):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={url}"


# --- Numbers ------------------------------------------------------------------------------------


def test_the_charts_show_the_numbers_of_the_api(world, scene, client, client_for):
    client.force_login(staff(world.admin))
    html = client.get(DASHBOARD).content
    api = client_for(world.admin)

    for group_by, panel in (("region", "chart-regions"), ("product", "chart-products")):
        rows = api.get(
            f"{P}attainment/",
            {"plan": scene.plan.pk, "metric": "sales_amount", "group_by": group_by},
        ).data
        bars = elements(html, "bar", within=panel)
        assert [
            (bar["data-label"], Decimal(bar["data-value"]), Decimal(bar["data-target"]))
            for bar in bars
        ] == [(row["label"], Decimal(row["actual"]), Decimal(row["target"])) for row in rows]
    assert values(html, "bar", "chart-regions") == numbers([("East", "7450.50"), ("West", "1200")])
    assert values(html, "bar", "chart-products") == numbers(
        [("Cups", "1450.50"), ("Green tea", "7200")]
    )
    assert b"41.4%" in html and b"145.0%" in html  # attainment beside the bars

    progress = api.get(f"{P}targets/{scene.root.pk}/progress/").data
    assert values(html, "point-actual", "chart-progress") == numbers(
        (day["date"], day["cumulative_actual"])
        for day in progress["daily"]
        if day["cumulative_actual"] is not None
    )
    assert values(html, "point-target", "chart-progress") == numbers(
        (day["date"], day["cumulative_target"]) for day in progress["daily"]
    )
    assert values(html, "point-actual", "chart-progress")[-1] == ("2026-10-16", Decimal("8650.50"))

    today = api.get(f"{P}dashboard/today/").data
    # The pace cards: the shown plan's top-level targets of the morning view.
    shown = [row for row in today["targets"] if row["plan"] == scene.plan.pk]
    assert len(shown) == 2
    cards = elements(html, "pace-card", within="pace-cards")
    assert [card["data-pace"] for card in cards] == [row["pace"] for row in shown]
    page = html.decode()
    for row in shown:
        if row["metric"] == "sales_amount":
            assert f"¥{Decimal(row['month_to_date_actual']):,.2f}" in page
    assert [int(li["data-member"]) for li in elements(html, "missing-member")] == [
        item["member"] for item in today["missing_reports"]
    ]
    assert [int(li["data-feedback"]) for li in elements(html, "feedback-item")] == [
        item["id"] for item in today["urgent_feedback"]
    ]
    assert [item["id"] for item in today["urgent_feedback"]] == [scene.urgent.pk]

    # The latest cycle's grades, as the appraisals API lists them.
    appraisals = api.get(f"{P}appraisals/", {"cycle": scene.cycle.pk, "page_size": 200}).data
    counts = {}
    for appraisal in appraisals["results"]:
        counts[appraisal["grade"]] = counts.get(appraisal["grade"], 0) + 1
    assert values(html, "bin", "chart-grades") == [
        (grade, counts.get(grade, 0)) for grade in ("A", "B", "C", "D")
    ]
    assert counts == {"A": 2, "B": 1, "C": 1, "D": 1}


def test_plan_and_metric_can_be_switched(world, scene, client, client_for, plan_2026):
    client.force_login(staff(world.admin))
    html = client.get(DASHBOARD, {"plan": scene.plan.pk, "metric": "quantity"}).content
    # Quantity has only the organization's target: no bars, an explanation; the line follows it.
    assert elements(html, "bar") == []
    assert b"This plan has no region targets for this metric." in html
    quantity = scene.plan.targets.get(metric="quantity")
    progress = client_for(world.admin).get(f"{P}targets/{quantity.pk}/progress/").data
    assert progress["daily"][15]["date"] == "2026-10-16"
    assert values(html, "point-actual", "chart-progress")[-1] == (
        "2026-10-16",
        Decimal(progress["daily"][15]["cumulative_actual"]),
    )
    assert Decimal(progress["daily"][15]["cumulative_actual"]) == 4
    assert b'<option value="quantity" selected>' in html

    # The yearly plan: no organization-wide target there, only members' March targets.
    html = client.get(DASHBOARD, {"plan": plan_2026.pk}).content
    assert f'<option value="{plan_2026.pk}" selected>'.encode() in html
    assert b"This plan has no organization-wide target for this metric." in html
    assert elements(html, "point-actual") == []
    # ... unless one of them is chosen for the line.
    march = plan_2026.targets.get(member=world.agent)
    html = client.get(DASHBOARD, {"plan": plan_2026.pk, "target": march.pk}).content
    progress = client_for(world.admin).get(f"{P}targets/{march.pk}/progress/").data
    assert values(html, "point-actual", "chart-progress") == numbers(
        (day["date"], day["cumulative_actual"]) for day in progress["daily"]
    )
    assert values(html, "point-actual", "chart-progress")[-1] == ("2026-03-31", 10000)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"plan": "abc"}, "plan"),
        ({"plan": "999999"}, "plan"),
        ({"metric": "nonsense"}, "metric"),
        ({"metric": "<script>"}, "metric"),
        ({"target": "-1"}, "target"),
        ({"target": "999999"}, "target"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_field(world, scene, client, query, field):
    client.force_login(staff(world.admin))
    response = client.get(DASHBOARD, query)
    assert response.status_code == 400
    errors = elements(response.content, "errorlist", within="query-errors")
    assert [error["data-field"] for error in errors] == [field]
    assert b"<script>" not in response.content


def test_another_organizations_plan_or_target_is_a_400(world, scene, client):
    theirs = SalesPlanFactory(organization=world.rival, name="Theirs")
    their_target = TargetFactory(plan=theirs)
    client.force_login(staff(world.admin))
    response = client.get(DASHBOARD, {"plan": theirs.pk})
    assert response.status_code == 400
    assert b"Theirs" not in response.content
    response = client.get(DASHBOARD, {"target": their_target.pk})
    assert response.status_code == 400
    assert [e["data-field"] for e in elements(response.content, "errorlist")] == ["target"]


# --- Empty states ---------------------------------------------------------------------------------


def test_an_organization_without_plan_or_cycle_gets_clear_messages(db, client, clock):
    clock.set("2026-10-16 09:30")
    org = OrganizationFactory(slug="fresh", name="Fresh")
    owner = MembershipFactory(organization=org, role=Role.OWNER)
    client.force_login(staff(owner))
    response = client.get("/admin/dashboard/fresh/")
    assert response.status_code == 200
    assert b'id="empty-plan"' in response.content
    assert b"No active sales plan." in response.content
    assert b"No appraisal cycle has been opened yet." in response.content
    assert b"No open urgent feedback." in response.content
    assert elements(response.content, "chart") == []


def test_a_plan_without_actuals_draws_zeros(world, client, clock, calendar_2026):
    clock.set("2026-10-16 09:30")
    plan = SalesPlanFactory(
        organization=world.org, period_kind=PeriodKind.MONTH, start=OCTOBER[0], end=OCTOBER[1]
    )
    root = TargetFactory(plan=plan, value=Decimal("31000.00"))
    TargetFactory(plan=plan, parent=root, region=world.leader.region, value=Decimal("100.00"))
    client.force_login(staff(world.admin))
    html = client.get(DASHBOARD).content
    assert values(html, "bar", "chart-regions") == [("East", 0)]
    assert b"This plan has no product targets for this metric." in html
    assert {value for _, value in values(html, "point-actual", "chart-progress")} == {0}


# --- Queries --------------------------------------------------------------------------------------


def test_a_constant_number_of_queries_whatever_the_number_of_members(world, scene, client):
    client.force_login(staff(world.admin))
    client.get(DASHBOARD)  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(DASHBOARD).status_code == 200
        return len(context.captured_queries)

    small = count()
    for _ in range(12):
        member = MembershipFactory(
            organization=world.org, upline=world.leader, region=world.leader.region
        )
        SalesEntryFactory(
            organization=world.org, member=member, product=scene.tea, date=dt.date(2026, 10, 14)
        )
    october_sales(world, scene.tea, scene.cups)
    large = count()
    assert large == small
    assert small < 40


def test_the_site_has_a_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"


def test_the_month_plan_is_shown_first_and_a_closed_plan_from_its_frozen_figures(
    world, scene, client, client_for, plan_2026
):
    client.force_login(staff(world.admin))
    # Both plans are active and cover today: the month's plan answers "this month" best.
    html = client.get(DASHBOARD).content
    assert f'<option value="{scene.plan.pk}" selected>'.encode() in html

    api = client_for(world.admin)
    assert api.post(f"{P}plans/{scene.plan.pk}/close/").status_code == 200
    # A sale recorded after closing changes nothing in the closed plan's figures.
    SalesEntryFactory(
        organization=world.org, member=world.agent, product=scene.tea, date=dt.date(2026, 10, 16)
    )
    html = client.get(DASHBOARD, {"plan": scene.plan.pk}).content
    rows = api.get(
        f"{P}attainment/", {"plan": scene.plan.pk, "metric": "sales_amount", "group_by": "region"}
    ).data
    assert values(html, "bar", "chart-regions") == numbers(
        (row["label"], row["actual"]) for row in rows
    )
    assert values(html, "bar", "chart-regions")[0] == ("East", Decimal("7450.50"))
    # A closed plan has no pace of the day; the card shows the plan's figures instead.
    cards = elements(html, "pace-card", within="pace-cards")
    progress = api.get(f"{P}targets/{scene.root.pk}/progress/").data
    assert [card["data-pace"] for card in cards] == [progress["pace"]]
    # Without a choice, the dashboard falls back to the remaining active plan.
    html = client.get(DASHBOARD).content
    assert f'<option value="{plan_2026.pk}" selected>'.encode() in html


def test_the_two_ratios_say_what_they_are_measured_against(world, scene, client, client_for):
    """The pace card's ratio is month to date against the part of the month expected by today
    (`dashboard/today/`'s attainment); the line's is actual against the target's whole value
    (`targets/{id}/progress/`'s attainment). Each says so."""
    client.force_login(staff(world.admin))
    html = client.get(DASHBOARD).content
    api = client_for(world.admin)
    today = api.get(f"{P}dashboard/today/").data
    sales = next(
        row
        for row in today["targets"]
        if row["plan"] == scene.plan.pk and row["metric"] == "sales_amount"
    )
    to_date = Decimal(sales["attainment"])
    assert to_date == (
        Decimal(sales["month_to_date_actual"]) / Decimal(sales["month_to_date_target"])
    ).quantize(to_date)
    cards = elements(html, "attainment", within="pace-cards")
    expected_card = f"{to_date * 100:.1f}%"
    assert expected_card in [card["data-value"] for card in cards]
    assert f"<strong>{expected_card} of expected to date</strong>".encode() in html

    progress = api.get(f"{P}targets/{scene.root.pk}/progress/").data
    whole = f"{Decimal(progress['attainment']) * 100:.1f}%"
    assert whole == "27.9%"  # 8650.50 of 31000
    assert f"({whole} of the whole target)".encode() in html
    assert b"Attainment</" not in html  # no bare "Attainment" left to guess at


def test_a_chinese_browser_gets_the_dashboard_in_chinese(world, scene, client):
    client.force_login(staff(world.admin))
    response = client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans"' in page
    for label in ("各大区达成情况", "各产品达成情况", "今日未交日报", "最近一期考核等级分布"):
        assert label in page
    assert "Attainment by region" not in page
