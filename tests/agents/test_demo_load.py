"""`manage.py demo_load`: the demo organization that `make run` loads, and that loading it twice
changes nothing."""

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import CommandError, call_command
from django.utils import timezone

from agents import demo
from agents.models import (
    AgentLevel,
    Customer,
    Membership,
    Organization,
    Product,
    Region,
    Role,
    User,
)
from plans.models import Target
from reports.models import MarketFeedback, SalesEntry
from tests.plans.conftest import clock  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("demo_load", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, str]:
    """Every row of every table, serialized in primary-key order."""
    return {
        model._meta.label: serializers.serialize("json", model._default_manager.order_by("pk"))
        for model in apps.get_models()
    }


def demo_members():
    return Membership.objects.filter(organization__slug="demo").select_related("user", "upline")


def test_second_load_creates_and_changes_nothing():
    first = load()
    assert "loaded" in first
    before = snapshot()
    counts = {label: data.count('"pk":') for label, data in before.items()}

    second = load()

    assert "nothing changed" in second
    after = snapshot()
    assert {label: data.count('"pk":') for label, data in after.items()} == counts
    assert after == before


def test_demo_organization_shape():
    load()
    org = Organization.objects.get(slug="demo")
    assert org.name == "示例品牌 Demo Brand"
    members = list(demo_members())
    roles = [member.role for member in members]
    assert roles.count(Role.OWNER) == 1
    assert roles.count(Role.ADMIN) == 1
    assert 2 <= roles.count(Role.LEADER) <= 3
    agents = [member for member in members if member.role == Role.AGENT]
    assert 10 <= len(agents) <= 14
    assert all(agent.code and agent.level_id and agent.region_id for agent in agents)
    assert len({member.code for member in members if member.code}) == len(
        [member for member in members if member.code]
    )
    # Agents three levels deep below their leaders, with paths the services computed.
    assert max(agent.depth for agent in agents) == 3
    for member in members:
        parent_path = member.upline.path if member.upline else "/"
        assert member.path == f"{parent_path}{member.pk}/"
        assert member.depth == (member.upline.depth + 1 if member.upline else 0)
    for leader in (member for member in members if member.role == Role.LEADER):
        assert leader.region.parent is None
        assert Membership.objects.filter(path__startswith=leader.path).count() > 1

    roots = Region.objects.filter(organization=org, parent=None)
    assert {"华东", "华南"} <= set(roots.values_list("name", flat=True))
    east = roots.get(name="华东")
    assert set(east.children.values_list("name", flat=True)) == {"上海", "杭州"}
    assert all(child.path == f"{east.path}{child.pk}/" for child in east.children.all())

    assert AgentLevel.objects.filter(organization=org).count() == 3
    products = Product.objects.filter(organization=org)
    assert 6 <= products.count() <= 10
    assert 1 <= products.filter(is_hero=True).count() <= 2
    assert all(product.price > product.cost > 0 for product in products)

    customers = Customer.objects.filter(organization=org).select_related("owner")
    assert 12 <= customers.count() <= 18
    for customer in customers:
        assert customer.owner.organization_id == org.pk
        assert customer.owner.role == Role.AGENT
        assert customer.region_id == customer.owner.region_id


def test_demo_logins_work_and_owner_is_staff_not_superuser():
    load()
    superuser = User.objects.get(username="admin")
    assert superuser.is_superuser and superuser.is_staff
    owner = User.objects.get(username=demo.OWNER_USERNAME)
    assert owner.is_staff and not owner.is_superuser
    assert Membership.objects.get(user=owner, organization__slug="demo").role == Role.OWNER
    for login in demo.DEMO_LOGINS:
        assert User.objects.get(username=login.username).check_password(login.password), login


def test_load_is_one_transaction(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(demo, "_products", fail)
    with pytest.raises(RuntimeError):
        load()
    assert not Organization.objects.filter(slug="demo").exists()
    assert not User.objects.exists()


def test_missing_rows_are_restored_and_existing_ones_kept():
    load()
    # Facts refer to products (PROTECT): a product goes only once nothing refers to it.
    SalesEntry.objects.filter(product__sku="DB-TEA-01").delete()
    MarketFeedback.objects.filter(product__sku="DB-TEA-01").delete()
    Target.objects.filter(product__sku="DB-TEA-01").delete()
    Product.objects.get(sku="DB-TEA-01").delete()
    Product.objects.filter(sku="DB-TEA-02").update(name="edited by a user")

    assert "product 1" in load()

    assert Product.objects.filter(sku="DB-TEA-01").exists()
    assert Product.objects.get(sku="DB-TEA-02").name == "edited by a user"


def test_a_taken_username_outside_the_demo_is_refused():
    User.objects.create_user("li.na", password="x-pass-word-1")
    with pytest.raises(CommandError, match="li.na"):
        load()
    assert not Organization.objects.filter(slug="demo").exists()


def test_demo_has_recent_facts_and_a_plan():
    from plans.models import PlanStatus, SalesPlan, Target
    from reports.models import Activity, DailyReport, SalesSource

    load()
    org = Organization.objects.get(slug="demo")
    today = org.local_today()
    reports = DailyReport.objects.filter(organization=org)
    assert reports.filter(date__lt=today).exists()
    assert not reports.filter(date__gt=today).exists()
    assert not reports.filter(is_late=True).exists()
    assert not reports.filter(submitted_at__gt=timezone.now()).exists()
    for entry in SalesEntry.objects.filter(organization=org).select_related("product", "member"):
        assert entry.source == SalesSource.REPORT and entry.daily_report_id
        assert entry.amount == entry.quantity * entry.product.price
        assert entry.profit == entry.amount - entry.quantity * entry.product.cost
        assert entry.region_id == entry.member.region_id
    assert Activity.objects.filter(organization=org).count() >= reports.count()
    assert MarketFeedback.objects.filter(organization=org, urgency="high").exists()
    plan = SalesPlan.objects.get(organization=org, status=PlanStatus.ACTIVE)
    assert plan.status == PlanStatus.ACTIVE and plan.start <= today <= plan.end
    targets = Target.objects.filter(plan=plan)
    top = targets.get(parent=None, region=None, product=None)
    leaders = targets.filter(parent=top)
    assert leaders.count() == 3
    assert sum(t.value for t in leaders) == top.value
    assert targets.filter(parent__in=leaders).count() == 5
    # Beside the tree, for the admin dashboard's bars: the leaders' regions, the hero products.
    regions = targets.filter(parent=None, region__isnull=False)
    assert sum(t.value for t in regions) == top.value
    assert {t.region_id for t in regions} == {t.member.region_id for t in leaders}
    assert targets.filter(parent=None, product__is_hero=True).count() == 2


def test_some_but_not_all_of_todays_reports_are_in():
    from agents.calendar import is_working_day
    from reports.models import DailyReport
    from reports.selectors import members_missing_report

    load()
    org = Organization.objects.get(slug="demo")
    today = org.local_today()
    owner = Membership.objects.get(organization=org, role=Role.OWNER)
    missing = members_missing_report(organization=org, viewer=owner, day=today).count()
    filed = DailyReport.objects.filter(organization=org, date=today).count()
    if not is_working_day(organization=org, day=today):
        assert filed == 0
        return
    assert filed > 0 and missing > 0
    assert filed > missing  # two in three have filed by the morning


def test_last_month_has_a_finalized_cycle_with_every_grade_and_nobody_moved():
    from appraisals.models import Appraisal, AppraisalCycle, CycleStatus, OutcomeAudit
    from plans.models import PlanStatus, SalesPlan

    load()
    org = Organization.objects.get(slug="demo")
    first = org.local_today().replace(day=1)
    cycle = AppraisalCycle.objects.get(organization=org)
    assert cycle.status == CycleStatus.FINALIZED
    assert cycle.end == first - dt.timedelta(days=1) and cycle.start == cycle.end.replace(day=1)
    appraisals = Appraisal.objects.filter(cycle=cycle)
    workers = Membership.objects.filter(organization=org, role__in=(Role.LEADER, Role.AGENT))
    assert appraisals.count() == workers.filter(joined_on__lte=cycle.end).count()
    grades = Counter(appraisals.values_list("grade", flat=True))
    assert set(grades) == {"A", "B", "C", "D"}
    assert all(appraisal.reviewed_at for appraisal in appraisals)
    # The template recommends promotions for the A's and eliminations for the D's; the demo's
    # reviewer chose outcomes that change nobody, and applying them changed nobody.
    assert set(appraisals.values_list("recommended_outcome", flat=True)) >= {
        "promote",
        "eliminate",
    }
    assert set(appraisals.values_list("final_outcome", flat=True)) <= {"reward", "retain", "warn"}
    audits = OutcomeAudit.objects.filter(cycle=cycle)
    assert audits.count() == appraisals.count()
    assert all(audit.before == audit.after for audit in audits)
    levels = {spec.username: spec.level for spec in demo.MEMBERS}
    for member in demo_members().filter(role__in=(Role.LEADER, Role.AGENT)):
        spec = next(spec for spec in demo.MEMBERS if spec.username == member.user.username)
        assert member.status == spec.status
        assert (member.level.rank if member.level else None) == levels[spec.username]
    # The targets it was scored against: last month's plan, closed.
    plan = SalesPlan.objects.get(organization=org, start=cycle.start)
    assert plan.status == PlanStatus.CLOSED
    assert plan.targets.filter(member__isnull=False).count() == 3 * appraisals.count()


def test_the_dashboard_of_the_demo_shows_every_grade(client):
    from tests.console.page import elements

    load()
    client.force_login(User.objects.get(username=demo.OWNER_USERNAME))
    response = client.get("/admin/dashboard/demo/")
    assert response.status_code == 200
    bins = elements(response.content, "bin", within="chart-grades")
    assert [element["data-label"] for element in bins] == ["A", "B", "C", "D"]
    assert all(int(element["data-value"]) > 0 for element in bins)


def test_the_demo_leader_has_a_dashboard_of_his_team(client):
    from tests.console.page import elements

    load()
    leader = Membership.objects.get(organization__slug="demo", user__username="wang.lei")
    assert leader.user.is_staff and not leader.user.is_superuser
    team = set(
        Membership.objects.filter(path__startswith=leader.path).values_list(
            "user__display_name", flat=True
        )
    )
    client.force_login(leader.user)
    response = client.get("/admin/dashboard/demo/")
    assert response.status_code == 200
    bars = elements(response.content, "bar", within="chart-team")
    assert bars and {bar["data-label"] for bar in bars} <= team
    assert "周杰" not in response.content.decode()  # the leader of another branch


def test_early_in_a_month_last_months_facts_and_cycle_fit_with_the_recent_ones(clock):  # noqa: F811
    """On the 2nd, the recent facts reach two weeks back into last month: last month's facts
    add only the days those left out, the cycle still spreads A to D, a second load adds
    nothing."""
    from appraisals.models import Appraisal, AppraisalCycle
    from reports.models import DailyReport

    clock.set("2026-11-02 08:30")
    load()
    org = Organization.objects.get(slug="demo")
    cycle = AppraisalCycle.objects.get(organization=org)
    assert (cycle.start, cycle.end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    october = DailyReport.objects.filter(organization=org, date__month=10)
    assert october.filter(date__lt=dt.date(2026, 10, 19)).exists()  # last month's own
    assert october.filter(date__gte=dt.date(2026, 10, 19)).exists()  # the recent ones
    grades = set(Appraisal.objects.filter(cycle=cycle).values_list("grade", flat=True))
    assert grades == {"A", "B", "C", "D"}
    # Today's reports were filed before now (08:30), never later.
    today = DailyReport.objects.filter(organization=org, date=dt.date(2026, 11, 2))
    assert today.exists() and not today.filter(submitted_at__gt=timezone.now()).exists()
    before = snapshot()
    assert "nothing changed" in load()
    assert snapshot() == before
