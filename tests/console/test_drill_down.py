"""From the dashboard to the rows behind a number: a region or product bar leads to the sales
changelist narrowed to it (over the plan's period), a member missing today's report to their
daily reports. The changelists show exactly the rows the bar counts."""

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from reports.models import SalesEntry
from tests.agents.factories import MembershipFactory, RegionFactory
from tests.console.conftest import DASHBOARD
from tests.console.page import _Collector, elements
from tests.console.test_dashboard import staff
from tests.reports.factories import DailyReportFactory, SalesEntryFactory

SALES = "/admin/reports/salesentry/"
REPORTS = "/admin/reports/dailyreport/"


def links(html, within):
    return {element.attrs["href"]: element for element in elements(html, "bar-link", within=within)}


def listed_pks(html) -> list[int]:
    """The primary keys of the rows of a changelist (each row links to its object)."""
    collector = _Collector()
    collector.feed(html.decode())
    return sorted(
        int(match.group(1))
        for element in collector.elements
        if element.tag == "a"
        and "result_list" in element.within
        and (match := re.search(r"/(\d+)/change/", element.attrs.get("href") or ""))
    )


def test_region_and_product_bars_lead_to_the_sales_they_count(world, scene, client):
    # A sub-region of East: its sales count for East's bar, and the link lists them too.
    shanghai = RegionFactory(organization=world.org, parent=scene.east, name="Shanghai")
    seller = MembershipFactory(organization=world.org, upline=world.leader, region=shanghai)
    local = SalesEntryFactory(
        organization=world.org,
        member=seller,
        product=scene.tea,
        date=dt.date(2026, 10, 13),
        amount=Decimal("99.50"),
    )
    assert local.region_id == shanghai.pk
    client.force_login(staff(world.admin))
    html = client.get(DASHBOARD).content
    bars = {bar["data-label"]: Decimal(bar["data-value"]) for bar in elements(html, "bar")}
    assert bars["East"] == Decimal("7550.00")

    region_links = list(links(html, "chart-regions"))
    assert len(region_links) == 2
    east = next(href for href in region_links if f"region_tree={scene.east.pk}" in href)
    query = parse_qs(urlsplit(east).query)
    assert urlsplit(east).path == SALES
    assert query["date__gte"] == ["2026-10-01"] and query["date__lte"] == ["2026-10-16"]
    response = client.get(east)
    assert response.status_code == 200
    counted = SalesEntry.objects.filter(
        organization=world.org,
        region__path__startswith=scene.east.path,
        date__range=(dt.date(2026, 10, 1), dt.date(2026, 10, 16)),
    )
    assert listed_pks(response.content) == sorted(counted.values_list("pk", flat=True))
    assert local.pk in listed_pks(response.content)
    assert sum(entry.amount for entry in counted) == bars["East"]

    product_links = list(links(html, "chart-products"))
    assert len(product_links) == 2
    tea = next(href for href in product_links if f"product__id__exact={scene.tea.pk}&" in href)
    response = client.get(tea)
    assert response.status_code == 200
    shown = SalesEntry.objects.filter(pk__in=listed_pks(response.content))
    assert {entry.product_id for entry in shown} == {scene.tea.pk}
    assert sum(entry.amount for entry in shown) == bars["Green tea"]


def test_a_missing_member_leads_to_their_daily_reports(world, scene, client):
    older = DailyReportFactory(
        organization=world.org, member=world.leader, date=dt.date(2026, 10, 14)
    )
    DailyReportFactory(organization=world.org, member=world.sub_agent, date=dt.date(2026, 10, 14))
    client.force_login(staff(world.admin))
    html = client.get(DASHBOARD).content
    missing = {int(item["data-member"]): item for item in elements(html, "missing-member")}
    assert world.leader.pk in missing
    member_links = elements(html, "member-reports", within="missing-reports")
    href = next(
        link["href"] for link in member_links if link["href"].endswith(f"={world.leader.pk}")
    )
    assert href == f"{REPORTS}?member__id__exact={world.leader.pk}"
    response = client.get(href)
    assert response.status_code == 200
    assert listed_pks(response.content) == [older.pk]


def test_region_filter_of_another_organization_lists_nothing(world, scene, client):
    theirs = RegionFactory(organization=world.rival, name="Theirs")
    client.force_login(staff(world.admin))
    response = client.get(SALES, {"region_tree": theirs.pk})
    assert response.status_code == 200
    assert listed_pks(response.content) == []
    assert b"Theirs" not in response.content
    for bad in ("abc", "99999999999999999999999"):
        response = client.get(SALES, {"region_tree": bad})
        assert response.status_code == 200
        assert listed_pks(response.content) == []
