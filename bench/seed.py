"""The benchmark data generator: one organization at the size asked for, deterministic.

`seed(agents=N, days=D, seed=S)` builds one organization (slug "bench") with a region tree
(5 areas x 6 provinces x 4 cities = 155 regions), 200 products, a 6-level hierarchy (owner, two
leader layers, three agent layers), two customers per agent, D days of daily reports (about 90%
of agents file each day, ending with the last day of the previous month) with 1-3 sales lines
each, one activity per report, a monthly plan for the last seeded month (a complete one) with a
sales_amount target per member and per region under one root target, the default appraisal
template and an open cycle for that month.

Rows go in through bulk_create in big batches; the fact tables (sales lines, activities) through
PostgreSQL COPY when the database is PostgreSQL. Hierarchy paths are computed here in bulk
("/<ids>/", depth), the same shape agents.services.tree_node_place gives one node.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

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
from agents.services import calendar_prefill
from reports.models import Activity, DailyReport, SalesEntry

SLUG = "bench"
PASSWORD = "bench12345!"
BATCH = 5000
CENT = Decimal("0.01")


# The shape of what seed() builds: a bench database seeded by an older layout is seeded again.
# 2: the facts end with the last complete month (1: yesterday).
LAYOUT = 2


def seeded_size(organization: Organization) -> dict | None:
    return (organization.policies or {}).get("bench_seed")


def _bulk(model, objs, desc: str, quiet: bool):
    """bulk_create in batches with a progress bar; returns the objects (with ids)."""
    out = []
    for start in tqdm(range(0, len(objs), BATCH), desc=desc, unit="batch", disable=quiet):
        out += model.objects.bulk_create(objs[start : start + BATCH], batch_size=BATCH)
    return out


def _copy(model, rows_iter, total: int, desc: str, quiet: bool) -> None:
    """Insert unsaved instances: PostgreSQL COPY when available, else bulk_create."""
    if connection.vendor != "postgresql":
        batch = []
        for obj in tqdm(rows_iter, total=total, desc=desc, unit="row", disable=quiet):
            batch.append(obj)
            if len(batch) >= BATCH:
                model.objects.bulk_create(batch, batch_size=BATCH)
                batch = []
        if batch:
            model.objects.bulk_create(batch, batch_size=BATCH)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
            for obj in tqdm(rows_iter, total=total, desc=desc, unit="row", disable=quiet):
                copy.write_row([f.pre_save(obj, add=True) for f in fields])


def _place(nodes, parent_of: dict[int, int | None]) -> None:
    """Compute path and depth of freshly inserted nodes (parents before children)."""
    paths: dict[int, str] = {}
    depths: dict[int, int] = {}
    for node in nodes:
        parent = parent_of.get(node.pk)
        paths[node.pk] = f"{paths[parent] if parent else '/'}{node.pk}/"
        depths[node.pk] = depths[parent] + 1 if parent else 0
        node.path, node.depth = paths[node.pk], depths[node.pk]


def seed(*, agents: int, days: int, seed: int = 1, quiet: bool = False, today=None) -> Organization:
    """Build the bench organization (dropping an older one first). Returns it."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    old = Organization.objects.filter(slug=SLUG).first()
    if old is not None:
        drop(old)
    with transaction.atomic():
        organization = Organization.objects.create(slug=SLUG, name="Bench Brand")
        today = today or organization.local_today()
        # The facts end with the last complete month, which the plan and the cycle cover: a
        # monthly cycle is scored over a whole month of facts whatever the day the bench runs
        # (ending yesterday, a run on the 4th scored a cycle of 3 days' facts).
        end = today.replace(day=1) - dt.timedelta(days=1)
        first = end - dt.timedelta(days=days - 1)
        for year in sorted({first.year, end.year, today.year}):
            calendar_prefill(organization=organization, year=year)

        # Regions: 5 areas x 6 provinces x 4 cities.
        regions: list[Region] = []
        parent_of: dict[int, int | None] = {}
        level_nodes = []
        for a in range(5):
            level_nodes.append((Region(organization=organization, name=f"Area {a}"), None))
        areas = _bulk(Region, [r for r, _ in level_nodes], "regions", True)
        provinces = _bulk(
            Region,
            [
                Region(organization=organization, name=f"Province {a.pk}-{p}", parent=a)
                for a in areas
                for p in range(6)
            ],
            "regions",
            True,
        )
        cities = _bulk(
            Region,
            [
                Region(organization=organization, name=f"City {p.pk}-{c}", parent=p)
                for p in provinces
                for c in range(4)
            ],
            "regions",
            True,
        )
        regions = areas + provinces + cities
        parent_of = {r.pk: r.parent_id for r in regions}
        _place(regions, parent_of)
        Region.objects.bulk_update(regions, ["path", "depth"], batch_size=1000)

        levels = AgentLevel.objects.bulk_create(
            AgentLevel(organization=organization, name=name, rank=rank)
            for rank, name in enumerate(["Bronze", "Silver", "Gold"], start=1)
        )
        products = _bulk(
            Product,
            [
                Product(
                    organization=organization,
                    sku=f"SKU{i:04d}",
                    name=f"Product {i}",
                    price=Decimal(rng.randrange(2000, 50000)) / 100,
                    cost=Decimal(0),
                    is_hero=i < 10,
                )
                for i in range(200)
            ],
            "products",
            quiet,
        )
        for product in products:
            product.cost = (product.price * Decimal(rng.uniform(0.4, 0.7))).quantize(CENT)
        Product.objects.bulk_update(products, ["cost"], batch_size=1000)

        # People: one owner, then layers; depth 0..5 makes 6 levels.
        password = make_password(PASSWORD)
        sizes = [1]
        layer_share = [0.005, 0.03, 0.15, 0.35]
        for share in layer_share:
            sizes.append(max(1, int(agents * share)))
        sizes.append(max(1, agents - sum(sizes[1:])))
        users = _bulk(
            User,
            [
                User(username=f"bench{i:06d}", password=password, email=f"bench{i:06d}@example.com")
                for i in range(sum(sizes))
            ],
            "users",
            quiet,
        )
        members: list[Membership] = []
        member_parent: dict[int, int | None] = {}
        cursor = 0
        previous: list[Membership] = []
        for layer, size in enumerate(sizes):
            batch = []
            for _ in range(size):
                user = users[cursor]
                role = Role.OWNER if layer == 0 else Role.LEADER if layer <= 2 else Role.AGENT
                batch.append(
                    Membership(
                        organization=organization,
                        user=user,
                        role=role,
                        upline=rng.choice(previous) if previous else None,
                        region=rng.choice(cities),
                        level=rng.choice(levels),
                        code=f"A{cursor:06d}" if role == Role.AGENT else "",
                        joined_on=first - dt.timedelta(days=rng.randrange(30, 400)),
                    )
                )
                cursor += 1
            previous = _bulk(Membership, batch, f"members L{layer}", quiet)
            members += previous
        member_parent = {m.pk: m.upline_id for m in members}
        _place(members, member_parent)
        Membership.objects.bulk_update(members, ["path", "depth"], batch_size=1000)
        owner = members[0]

        customers = _bulk(
            Customer,
            [
                Customer(
                    organization=organization,
                    name=f"Customer {m.pk}-{c}",
                    owner=m,
                    region=m.region,
                    status="active",
                )
                for m in members[1:]
                for c in range(2)
            ],
            "customers",
            quiet,
        )
        customers_of: dict[int, list[int]] = {}
        for c in customers:
            customers_of.setdefault(c.owner_id, []).append(c.pk)

        # Daily reports: bulk_create (the lines need their ids), day by day.
        sellers = members[1:]
        tz = organization.tzinfo
        reports: list[DailyReport] = []
        for offset in tqdm(range(days), desc="daily reports", unit="day", disable=quiet):
            day = first + dt.timedelta(days=offset)
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(19, 0)), tz)
            batch = [
                DailyReport(
                    organization=organization,
                    member=m,
                    date=day,
                    followups=rng.randrange(0, 8),
                    communication_minutes=rng.randrange(0, 240),
                    orders=rng.randrange(0, 4),
                    submitted_at=at,
                    updated_at=at,
                )
                for m in sellers
                if rng.random() < 0.9
            ]
            reports += DailyReport.objects.bulk_create(batch, batch_size=BATCH)
        member_by_id = {m.pk: m for m in members}

        def sales_rows():
            for report in reports:
                member = member_by_id[report.member_id]
                for _ in range(rng.randrange(1, 4)):
                    product = products[rng.randrange(200)]
                    quantity = rng.randrange(1, 6)
                    amount = product.price * quantity
                    yield SalesEntry(
                        organization_id=organization.pk,
                        date=report.date,
                        member_id=member.pk,
                        product_id=product.pk,
                        customer_id=rng.choice(customers_of[member.pk]),
                        region_id=member.region_id,
                        quantity=quantity,
                        amount=amount,
                        collected=(amount * Decimal(rng.choice([1, 1, 1, 0.5, 0]))).quantize(CENT),
                        profit=amount - product.cost * quantity,
                        source="report",
                        daily_report_id=report.pk,
                        recorded_by_id=member.pk,
                    )

        _copy(SalesEntry, sales_rows(), len(reports) * 2, "sales lines", quiet)

        def activity_rows():
            for report in reports:
                member_id = report.member_id
                yield Activity(
                    organization_id=organization.pk,
                    member_id=member_id,
                    customer_id=rng.choice(customers_of[member_id]),
                    kind=rng.choice(["followup", "call", "visit", "message"]),
                    occurred_at=report.submitted_at - dt.timedelta(hours=rng.randrange(1, 9)),
                    duration_minutes=rng.randrange(5, 60),
                    outcome="ok",
                )

        _copy(Activity, activity_rows(), len(reports), "activities", quiet)
        organization.policies = {
            **(organization.policies or {}),
            "bench_seed": {
                "agents": agents,
                "days": days,
                "seed": seed,
                "first": str(first),
                "layout": LAYOUT,
            },
        }
        organization.save(update_fields=["policies"])
        _plan_and_cycle(organization, owner, members, regions, end, rng, quiet)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return organization


def _plan_and_cycle(organization, owner, members, regions, end, rng, quiet) -> None:
    from appraisals.defaults import default_template_create
    from appraisals.services import appraisal_cycle_create, appraisal_cycle_open
    from plans.models import PeriodKind, PlanStatus, SalesPlan, Target

    month_start = end.replace(day=1)
    month_end = (month_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    plan = SalesPlan.objects.create(
        organization=organization,
        name=f"Bench {month_start:%Y-%m}",
        period_kind=PeriodKind.MONTH,
        start=month_start,
        end=month_end,
        status=PlanStatus.ACTIVE,
        owner=owner,
        activated_at=timezone.now(),
    )
    common = {
        "organization": organization,
        "plan": plan,
        "metric": "sales_amount",
        "start": month_start,
        "end": month_end,
        "created_by": owner,
    }
    root = Target.objects.create(**common, value=Decimal(len(members) * 20000))
    children = [
        Target(
            **common,
            parent=root,
            member=m,
            include_downline=False,
            value=Decimal(rng.randrange(5000, 40000)),
        )
        for m in members[1:]
    ] + [
        Target(**common, parent=root, region=r, value=Decimal(rng.randrange(100000, 900000)))
        for r in regions
    ]
    _bulk(Target, children, "targets", quiet)
    template = default_template_create(organization=organization)
    cycle = appraisal_cycle_create(
        organization=organization,
        actor=None,
        data={
            "template": template,
            "start": month_start,
            "end": month_end,
            "name": f"{month_start:%Y-%m}",
        },
    )
    appraisal_cycle_open(organization=organization, actor=None, cycle=cycle)


def drop(organization: Organization) -> None:
    """Delete the bench organization and everything in it (PROTECT order: facts first)."""
    from appraisals.models import Appraisal, AppraisalCycle, AppraisalTemplate, CriterionScore
    from notifications.models import Delivery, Notification
    from plans.models import SalesPlan, Target

    with transaction.atomic():
        org = {"organization": organization}
        for model in (Delivery, Notification, CriterionScore, Appraisal, AppraisalCycle):
            model.objects.filter(**org).delete()
        AppraisalTemplate.objects.filter(**org).delete()
        Target.objects.filter(**org).update(parent=None)
        for model in (Target, SalesPlan, SalesEntry, Activity, DailyReport):
            model.objects.filter(**org).delete()
        user_ids = list(Membership.objects.filter(**org).values_list("user_id", flat=True))
        Customer.objects.filter(**org).delete()
        Membership.objects.filter(**org).update(upline=None)
        Membership.objects.filter(**org).delete()
        Region.objects.filter(**org).update(parent=None)
        for model in (Region, AgentLevel, Product):
            model.objects.filter(**org).delete()
        organization.delete()
        User.objects.filter(pk__in=user_ids).delete()
