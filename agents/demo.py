"""The demo organization that `make run` loads (`manage.py demo_load`): a small brand with a region
tree, three agent levels, leaders and a three-deep agent downline, products and customers.

People and regions go through the services (organization_create, member_create, region_create), so
that hierarchy paths, calendars and password rules are what a real sign-up would produce. The load
is idempotent: a row that exists (by its natural key) is left exactly as it is, so a second run
creates nothing and changes nothing, and a demo someone has been editing keeps their edits.

So that the dashboards show numbers, the first load also files recent facts: daily reports with
their sales lines and activities for the working days of the current month up to yesterday (the
last two weeks early in a month) and this morning's reports of two members in three (so the
dashboard's "missing today" lists a few people, not everyone), a few market feedback items, and a
plan for the current month with a sales target broken down to the leaders and their direct
agents. The dates are relative to the day of the load; the facts are created only while the
organization has no daily report (the feedback only while it has none, the plan only while no
demo plan exists), so a second load, even on another day or in another month, adds nothing.
Last month gets a finalized appraisal cycle with grades A to D that moves nobody
(agents/demo_appraisal.py), created only while no cycle covers last month.
"""

import datetime as dt
import random
from calendar import monthrange
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .calendar import working_days
from .demo_appraisal import demo_appraisal_cycle
from .models import (
    AgentLevel,
    Customer,
    CustomerKind,
    CustomerStatus,
    Membership,
    MemberStatus,
    Organization,
    Product,
    Region,
    Role,
    User,
)
from .services import member_create, organization_create, region_create

DEMO_ORG_SLUG = "demo"
DEMO_ORG_NAME = "示例品牌 Demo Brand"
# Demo-only passwords, printed by `make run` and documented in the README.
SUPERUSER_USERNAME = "admin"
SUPERUSER_PASSWORD = "admin12345!"
OWNER_USERNAME = "demo-owner"
MEMBER_PASSWORD = "demo12345!"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    description: str


DEMO_LOGINS = (
    DemoLogin(SUPERUSER_USERNAME, SUPERUSER_PASSWORD, "superuser: the whole Django admin"),
    DemoLogin(OWNER_USERNAME, MEMBER_PASSWORD, "owner of 'demo', staff: the admin for its org"),
    DemoLogin("demo-admin", MEMBER_PASSWORD, "administrator of 'demo'"),
    DemoLogin(
        "wang.lei", MEMBER_PASSWORD, "leader of 华东 (East China), staff: his team's dashboard"
    ),
    DemoLogin("li.na", MEMBER_PASSWORD, "agent A001, with a two-level downline"),
    DemoLogin("liu.yang", MEMBER_PASSWORD, "agent A003, at the bottom of the tree"),
)


class DemoConflict(Exception):
    """A demo username is taken by someone who is not part of the demo organization."""


# (name, code, [(child name, child code), ...])
REGIONS = (
    ("华东", "EC", (("上海", "SH"), ("杭州", "HZ"))),
    ("华南", "SC", (("广州", "GZ"), ("深圳", "SZ"))),
    ("华北", "NC", (("北京", "BJ"),)),
)

# (rank, name, description)
LEVELS = (
    (1, "铜牌代理 Bronze", "新加入的代理，首年考核期。"),
    (2, "银牌代理 Silver", "连续两个季度完成目标，可发展下级代理。"),
    (3, "金牌代理 Gold", "区域骨干，带领团队并参与新人培训。"),
)


@dataclass(frozen=True)
class MemberSpec:
    username: str
    display_name: str
    role: str = Role.AGENT
    upline: str | None = None  # username; listed before its downline
    region: str | None = None  # region name (unique across the demo tree)
    level: int | None = None  # level rank
    code: str = ""
    status: str = MemberStatus.ACTIVE
    joined_on: dt.date = dt.date(2025, 3, 1)
    staff: bool = False  # may open the admin: a leader's dashboard of their own team


MEMBERS = (
    MemberSpec("demo-admin", "赵敏华", Role.ADMIN, joined_on=dt.date(2025, 1, 6)),
    # Leaders head the top regions; agents sit up to three levels below them.
    MemberSpec(
        "wang.lei",
        "王磊",
        Role.LEADER,
        region="华东",
        code="L01",
        joined_on=dt.date(2025, 1, 13),
        staff=True,
    ),
    MemberSpec(
        "zhou.jie", "周杰", Role.LEADER, region="华南", code="L02", joined_on=dt.date(2025, 1, 20)
    ),
    MemberSpec(
        "lin.feng", "林峰", Role.LEADER, region="华北", code="L03", joined_on=dt.date(2025, 2, 10)
    ),
    MemberSpec(
        "li.na",
        "李娜",
        upline="wang.lei",
        region="上海",
        level=3,
        code="A001",
        joined_on=dt.date(2025, 2, 17),
    ),
    MemberSpec(
        "zhang.wei",
        "张伟",
        upline="li.na",
        region="上海",
        level=2,
        code="A002",
        joined_on=dt.date(2025, 4, 7),
    ),
    MemberSpec(
        "liu.yang",
        "刘洋",
        upline="zhang.wei",
        region="上海",
        level=1,
        code="A003",
        joined_on=dt.date(2025, 9, 1),
    ),
    MemberSpec(
        "chen.jing",
        "陈静",
        upline="li.na",
        region="上海",
        level=1,
        code="A004",
        joined_on=dt.date(2025, 10, 13),
    ),
    MemberSpec(
        "yang.fan",
        "杨帆",
        upline="wang.lei",
        region="杭州",
        level=2,
        code="A005",
        joined_on=dt.date(2025, 3, 3),
    ),
    MemberSpec(
        "zhao.min",
        "赵敏",
        upline="yang.fan",
        region="杭州",
        level=1,
        code="A006",
        joined_on=dt.date(2025, 11, 3),
    ),
    MemberSpec(
        "wu.ting",
        "吴婷",
        upline="zhou.jie",
        region="广州",
        level=3,
        code="A007",
        joined_on=dt.date(2025, 2, 24),
    ),
    MemberSpec(
        "zheng.hao",
        "郑浩",
        upline="wu.ting",
        region="广州",
        level=2,
        code="A008",
        joined_on=dt.date(2025, 5, 12),
    ),
    MemberSpec(
        "sun.li",
        "孙丽",
        upline="zheng.hao",
        region="广州",
        level=1,
        code="A009",
        joined_on=dt.date(2026, 8, 3),
        status=MemberStatus.PROBATION,
    ),
    MemberSpec(
        "he.ping",
        "何平",
        upline="zhou.jie",
        region="深圳",
        level=2,
        code="A010",
        joined_on=dt.date(2025, 6, 2),
    ),
    MemberSpec(
        "ma.chao",
        "马超",
        upline="he.ping",
        region="深圳",
        level=1,
        code="A011",
        joined_on=dt.date(2026, 9, 7),
        status=MemberStatus.PROBATION,
    ),
    MemberSpec(
        "gao.yuan",
        "高远",
        upline="lin.feng",
        region="北京",
        level=2,
        code="A012",
        joined_on=dt.date(2025, 7, 7),
    ),
)

# (sku, name, category, price, cost, is_hero)
PRODUCTS = (
    ("DB-TEA-01", "明前龙井礼盒 250g", "茶饮", "598.00", "260.00", True),
    ("DB-TEA-02", "武夷岩茶大红袍 200g", "茶饮", "428.00", "180.00", False),
    ("DB-SKN-01", "玻尿酸补水面膜 10片装", "护肤", "129.00", "38.00", True),
    ("DB-SKN-02", "烟酰胺精华液 30ml", "护肤", "239.00", "72.00", False),
    ("DB-SKN-03", "氨基酸洁面乳 120g", "护肤", "89.00", "22.00", False),
    ("DB-HLT-01", "益生菌冻干粉 30袋", "保健", "199.00", "65.00", False),
    ("DB-HLT-02", "胶原蛋白肽饮 12瓶", "保健", "329.00", "110.00", False),
    ("DB-HLT-03", "复合维生素片 60片", "保健", "159.00", "45.00", False),
)

_ACTIVE, _PROSPECT, _LOST = CustomerStatus.ACTIVE, CustomerStatus.PROSPECT, CustomerStatus.LOST
_CONSUMER, _DEALER, _RETAILER = CustomerKind.CONSUMER, CustomerKind.DEALER, CustomerKind.RETAILER

# (name, kind, owner username, status, first order, lost on, reason lost); region = the owner's
CUSTOMERS = (
    ("上海静安悦容美妆店", _RETAILER, "li.na", _ACTIVE, dt.date(2025, 3, 12), None, ""),
    ("上海浦东茗香茶行", _DEALER, "li.na", _ACTIVE, dt.date(2025, 5, 20), None, ""),
    ("王女士", _CONSUMER, "zhang.wei", _ACTIVE, dt.date(2025, 6, 3), None, ""),
    ("徐汇康健药房", _RETAILER, "zhang.wei", _PROSPECT, None, None, ""),
    ("李先生", _CONSUMER, "liu.yang", _ACTIVE, dt.date(2025, 10, 8), None, ""),
    (
        "陆女士",
        _CONSUMER,
        "chen.jing",
        _LOST,
        dt.date(2025, 11, 2),
        dt.date(2026, 4, 15),
        "搬离上海",
    ),
    ("杭州西湖丽人坊", _RETAILER, "yang.fan", _ACTIVE, dt.date(2025, 4, 18), None, ""),
    ("滨江健康生活馆", _DEALER, "zhao.min", _PROSPECT, None, None, ""),
    ("广州天河美肌汇", _RETAILER, "wu.ting", _ACTIVE, dt.date(2025, 3, 28), None, ""),
    ("越秀茶叶批发部", _DEALER, "wu.ting", _ACTIVE, dt.date(2025, 7, 1), None, ""),
    ("陈女士", _CONSUMER, "zheng.hao", _ACTIVE, dt.date(2025, 8, 19), None, ""),
    ("番禺社区便利店", _RETAILER, "sun.li", _PROSPECT, None, None, ""),
    ("深圳南山优选超市", _RETAILER, "he.ping", _ACTIVE, dt.date(2025, 7, 22), None, ""),
    (
        "黄先生",
        _CONSUMER,
        "ma.chao",
        _LOST,
        dt.date(2026, 9, 20),
        dt.date(2026, 11, 2),
        "价格敏感，转向竞品",
    ),
    ("北京朝阳悦享会所", _DEALER, "gao.yuan", _ACTIVE, dt.date(2025, 8, 5), None, ""),
)


@dataclass
class DemoLoadResult:
    organization: Organization
    created: Counter

    @property
    def created_total(self) -> int:
        return sum(self.created.values())


# The steps of demo_load, for a progress bar (demo_load(progress=...)).
DEMO_STEPS = (
    "people",
    "products",
    "customers",
    "appraisal template",
    "daily reports and sales",
    "feedback",
    "plan",
    "last month's appraisal",
)


@transaction.atomic
def demo_load(progress: Callable[[str], None] | None = None) -> DemoLoadResult:
    """Create whatever part of the demo is missing. One transaction: all of it or nothing.
    `progress` is called with the name of each step of DEMO_STEPS as it finishes."""
    created: Counter = Counter()

    def done(step: str) -> None:
        if progress is not None:
            progress(step)

    if not User.objects.filter(username__iexact=SUPERUSER_USERNAME).exists():
        User.objects.create_superuser(
            SUPERUSER_USERNAME,
            f"{SUPERUSER_USERNAME}@example.com",
            SUPERUSER_PASSWORD,
            display_name="Demo Superuser",
        )
        created["superuser"] += 1
    organization = _organization(created)
    regions = _regions(organization, created)
    levels = _levels(organization, created)
    members = _members(organization, regions, levels, created)
    done("people")
    _products(organization, created)
    done("products")
    _customers(organization, members, created)
    done("customers")
    _appraisal_template(organization, created)
    done("appraisal template")
    _facts(organization, members, created)
    done("daily reports and sales")
    _feedback(organization, members, created)
    done("feedback")
    _plan(organization, members, created)
    done("plan")
    # After the current month's facts (their step runs only while there is no report at all).
    demo_appraisal_cycle(
        organization,
        members,
        _reporting_people(members),
        created,
        owner_username=OWNER_USERNAME,
    )
    done("last month's appraisal")
    return DemoLoadResult(organization=organization, created=created)


def _appraisal_template(organization: Organization, created: Counter) -> None:
    # The demo is the one place that composes every app, hence an import against the usual
    # direction (agents <- appraisals), kept local to this function.
    from appraisals.defaults import DEFAULT_TEMPLATE_NAME, default_template_create
    from appraisals.models import AppraisalTemplate

    exists = AppraisalTemplate.objects.filter(
        organization=organization, name=DEFAULT_TEMPLATE_NAME
    ).exists()
    default_template_create(organization=organization)
    if not exists:
        created["appraisal templates"] += 1


def _organization(created: Counter) -> Organization:
    organization = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
    if organization is not None:
        return organization
    owner = User.objects.filter(username__iexact=OWNER_USERNAME).first()
    if owner is None:
        # organization_create makes an existing user the owner; the owner is staff so that they
        # can use the Django admin for their own organization (not a superuser).
        owner = User(
            username=OWNER_USERNAME,
            display_name="陈建国",
            email=f"{OWNER_USERNAME}@example.com",
            is_staff=True,
        )
        validate_password(MEMBER_PASSWORD, user=owner)
        owner.set_password(MEMBER_PASSWORD)
        owner.save()
        created["owner user"] += 1
    organization = organization_create(
        user=owner, slug=DEMO_ORG_SLUG, name=DEMO_ORG_NAME, timezone="Asia/Shanghai"
    )
    created["organization"] += 1
    return organization


def _regions(organization: Organization, created: Counter) -> dict[str, Region]:
    regions: dict[str, Region] = {}

    def ensure(name: str, code: str, parent: Region | None) -> Region:
        region = Region.objects.filter(organization=organization, parent=parent, name=name).first()
        if region is None:
            region = region_create(organization=organization, name=name, parent=parent, code=code)
            created["region"] += 1
        regions[name] = region
        return region

    for name, code, children in REGIONS:
        parent = ensure(name, code, None)
        for child_name, child_code in children:
            ensure(child_name, child_code, parent)
    return regions


def _levels(organization: Organization, created: Counter) -> dict[int, AgentLevel]:
    levels = {}
    for rank, name, description in LEVELS:
        level, was_created = AgentLevel.objects.get_or_create(
            organization=organization,
            rank=rank,
            defaults={"name": name, "description": description},
        )
        created["agent level"] += was_created
        levels[rank] = level
    return levels


def _members(
    organization: Organization,
    regions: dict[str, Region],
    levels: dict[int, AgentLevel],
    created: Counter,
) -> dict[str, Membership]:
    members = {
        member.user.username: member
        for member in Membership.objects.filter(organization=organization).select_related("user")
    }
    for spec in MEMBERS:
        if spec.username in members:
            continue
        if User.objects.filter(username__iexact=spec.username).exists():
            raise DemoConflict(
                f"The user {spec.username!r} exists but is not a member of the demo "
                f"organization; rename or delete that user, then load the demo again."
            )
        members[spec.username] = member_create(
            organization=organization,
            actor=None,
            username=spec.username,
            password=MEMBER_PASSWORD,
            display_name=spec.display_name,
            email=f"{spec.username}@example.com",
            role=spec.role,
            upline=members[spec.upline] if spec.upline else None,
            region=regions[spec.region] if spec.region else None,
            level=levels[spec.level] if spec.level else None,
            status=spec.status,
            code=spec.code,
            joined_on=spec.joined_on,
        )
        if spec.staff:
            User.objects.filter(pk=members[spec.username].user_id).update(is_staff=True)
        created["member"] += 1
    return members


def _products(organization: Organization, created: Counter) -> None:
    for sku, name, category, price, cost, is_hero in PRODUCTS:
        _, was_created = Product.objects.get_or_create(
            organization=organization,
            sku=sku,
            defaults={
                "name": name,
                "category": category,
                "price": Decimal(price),
                "cost": Decimal(cost),
                "is_hero": is_hero,
            },
        )
        created["product"] += was_created


def _customers(
    organization: Organization, members: dict[str, Membership], created: Counter
) -> None:
    existing = set(
        Customer.objects.filter(organization=organization).values_list("name", flat=True)
    )
    new_customers = []
    for name, kind, owner, status, first_order_on, lost_on, lost_reason in CUSTOMERS:
        if name in existing:
            continue
        new_customers.append(
            Customer(
                organization=organization,
                name=name,
                kind=kind,
                owner=members[owner],
                region=members[owner].region,
                status=status,
                first_order_on=first_order_on,
                lost_on=lost_on,
                lost_reason=lost_reason,
            )
        )
    Customer.objects.bulk_create(new_customers)
    created["customer"] += len(new_customers)


# --- Recent facts -----------------------------------------------------------------------------

# Share of members who file a report on a working day, and the seed that makes the pattern the
# same at every (first) load.
REPORT_RATE = 0.85
FACTS_SEED = 42
SUMMARIES = (
    "拜访老客户，补货需求稳定。",
    "跟进新客户报价，对方有意向。",
    "直播带货效果不错，咨询量上升。",
    "整理客户档案，安排明日回访。",
    "参加产品培训，熟悉新品卖点。",
    "门店陈列调整，面膜动销较快。",
    "电话回访流失客户，了解原因。",
    "茶礼盒团购洽谈中，预计下周成交。",
)
PLANS_TOMORROW = ("继续跟进意向客户。", "拜访两家新门店。", "准备周末直播。", "回访本周成交客户。")
# (kind, outcome)
ACTIVITIES = (
    ("visit", "门店拜访，确认补货数量"),
    ("call", "电话跟进，客户同意试用"),
    ("message", "微信发送新品资料"),
    ("followup", "报价已发，等待回复"),
    ("livestream", "直播一场，新增咨询"),
    ("training", "参加区域产品培训"),
)
# (author username, category, urgency, title, body, product sku, competitor)
FEEDBACK = (
    (
        "li.na",
        "competitor",
        "high",
        "竞品面膜在上海大幅降价",
        "某竞品补水面膜本月起买二送一，门店客户询问我们是否跟进促销。",
        "DB-SKN-01",
        "某国产面膜品牌",
    ),
    (
        "wu.ting",
        "dealer_request",
        "normal",
        "经销商希望增加茶礼盒小规格",
        "越秀茶叶批发部反馈 250g 礼盒单价偏高，希望推出 125g 规格。",
        "DB-TEA-01",
        "",
    ),
    (
        "gao.yuan",
        "consumer_need",
        "normal",
        "北京客户关注益生菌儿童款",
        "多位会所客户询问是否有儿童适用的益生菌产品。",
        "DB-HLT-01",
        "",
    ),
    (
        "zhao.min",
        "trend",
        "low",
        "杭州直播带货咨询量上升",
        "近两周直播间咨询明显增多，护肤类最受关注。",
        "",
        "",
    ),
)
DEMO_PLAN_PREFIX = "示例月度计划"
DEMO_PLAN_TOTAL = Decimal("400000.00")
# The leaders' shares of the organization's sales target.
LEADER_WEIGHTS = (("wang.lei", Decimal(45)), ("zhou.jie", Decimal(40)), ("lin.feng", Decimal(15)))
# The hero products' targets, in percent of the organization's (by sku order).
HERO_PRODUCT_SHARES = (Decimal(30), Decimal(15))


def _fact_days(organization: Organization) -> list[dt.date]:
    """The working days from the 1st of this month (or from two weeks back, in the first three
    days of a month) up to yesterday."""
    today = organization.local_today()
    start = today.replace(day=1) if today.day > 3 else today - dt.timedelta(days=14)
    yesterday = today - dt.timedelta(days=1)
    if yesterday < start:
        return []
    return working_days(organization=organization, start=start, end=yesterday)


def _facts(organization: Organization, members: dict[str, Membership], created: Counter) -> None:
    from reports.models import DailyReport

    if DailyReport.objects.filter(organization=organization).exists():
        return
    people = _reporting_people(members)
    rng = random.Random(FACTS_SEED)  # noqa: S311 - demo data, not secrets
    facts_file(organization, people, _fact_days(organization), rng=rng, created=created)
    # Today: a report from two members in three (those already filed this morning, before the
    # cut-off), so that "missing today" lists some people, not everyone. Not on a day off.
    today = organization.local_today()
    if working_days(organization=organization, start=today, end=today):
        filed = [member for index, member in enumerate(people) if index % 3 != 1]
        facts_file(organization, filed, [today], rng=rng, created=created, today=today)


def _reporting_people(members: dict[str, Membership]) -> list[Membership]:
    return [
        members[spec.username]
        for spec in MEMBERS
        if spec.role in (Role.LEADER, Role.AGENT) and spec.username in members
    ]


def facts_file(
    organization: Organization,
    people: list[Membership],
    days: list[dt.date],
    *,
    rng: random.Random,
    created: Counter,
    today: dt.date | None = None,
    skip: frozenset[tuple[int, dt.date]] = frozenset(),
) -> None:
    """Daily reports with their sales lines and activities of `people` on `days` (about
    REPORT_RATE of them, none before a member joined, none for a (member id, day) in `skip`),
    filed on time. `today`: the reports of today, filed a while ago (never in the future) and
    without activities, whose hours may be still to come."""
    # As in _appraisal_template, the demo composes every app: imports kept local.
    from django.utils import timezone

    from reports.models import Activity, DailyReport, SalesEntry
    from reports.services import SalesLine, _report_lines, report_cutoff_at

    products = list(Product.objects.filter(organization=organization).order_by("sku"))
    customers: dict[int, list[Customer]] = {}
    for customer in Customer.objects.filter(organization=organization).order_by("pk"):
        customers.setdefault(customer.owner_id, []).append(customer)
    reports, lines_by_report, activities = [], [], []
    for day in days:
        cutoff = report_cutoff_at(organization=organization, day=day)
        for member in people:
            if member.joined_on and member.joined_on > day:
                continue
            if (member.pk, day) in skip:
                continue
            if today is None and rng.random() >= REPORT_RATE:
                continue
            own_customers = customers.get(member.pk, [])
            lines = []
            for _ in range(rng.randint(1, 2)):
                product = rng.choice(products)
                quantity = rng.randint(1, 5)
                amount = quantity * product.price
                collected = (
                    amount
                    if rng.random() < 0.7
                    else (amount * Decimal("0.8")).quantize(Decimal("0.01"))
                )
                customer = None
                if own_customers and rng.random() < 0.5:
                    customer = rng.choice(own_customers)
                lines.append(
                    SalesLine(
                        product=product,
                        quantity=quantity,
                        amount=amount,
                        collected=collected,
                        customer=customer,
                    )
                )
            # Filed on time: a while before the day's cut-off (today: and before now).
            submitted_at = cutoff - dt.timedelta(minutes=rng.randint(20, 240))
            if today is not None:
                now = timezone.now()
                midnight = dt.datetime.combine(day, dt.time(0, 1), tzinfo=organization.tzinfo)
                earlier = now - dt.timedelta(minutes=rng.randint(5, 60))
                submitted_at = min(max(min(submitted_at, earlier), midnight), now)
            reports.append(
                DailyReport(
                    organization=organization,
                    member=member,
                    date=day,
                    followups=rng.randint(3, 12),
                    communication_minutes=rng.randint(20, 120),
                    orders=rng.randint(len(lines), 4),
                    new_customers=rng.randint(0, 2),
                    lost_customers=rng.randint(0, 1),
                    summary=rng.choice(SUMMARIES),
                    plan_tomorrow=rng.choice(PLANS_TOMORROW),
                    submitted_at=submitted_at,
                    updated_at=submitted_at,
                    is_late=False,
                )
            )
            lines_by_report.append((member, lines))
            if today is not None:
                continue
            for _ in range(rng.randint(1, 2)):
                kind, outcome = rng.choice(ACTIVITIES)
                activities.append(
                    Activity(
                        organization=organization,
                        member=member,
                        customer=rng.choice(own_customers) if own_customers else None,
                        kind=kind,
                        occurred_at=dt.datetime.combine(
                            day,
                            dt.time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))),
                            tzinfo=organization.tzinfo,
                        ),
                        duration_minutes=rng.randint(10, 90),
                        outcome=outcome,
                    )
                )
    # Past days are locked to daily_report_upsert, hence bulk_create; the sales lines are what
    # the service would write (same helper: region snapshot, profit at the product's cost).
    DailyReport.objects.bulk_create(reports)
    entries = [
        entry
        for report, (member, lines) in zip(reports, lines_by_report, strict=True)
        for entry in _report_lines(
            organization=organization, report=report, lines=lines, member=member
        )
    ]
    SalesEntry.objects.bulk_create(entries)
    Activity.objects.bulk_create(activities)
    created["daily report"] += len(reports)
    created["sales entry"] += len(entries)
    created["activity"] += len(activities)


def _feedback(organization: Organization, members: dict[str, Membership], created: Counter) -> None:
    from reports.models import MarketFeedback
    from reports.services import feedback_create

    if MarketFeedback.objects.filter(organization=organization).exists():
        return
    products = {
        product.sku: product for product in Product.objects.filter(organization=organization)
    }
    for author, category, urgency, title, body, sku, competitor in FEEDBACK:
        data = {"category": category, "urgency": urgency, "title": title, "body": body}
        if sku:
            data["product"] = products[sku]
        if competitor:
            data["competitor"] = competitor
        feedback_create(organization=organization, actor=members[author], data=data)
        created["market feedback"] += 1


def _plan(organization: Organization, members: dict[str, Membership], created: Counter) -> None:
    from plans.breakdown import Allocation, target_breakdown
    from plans.models import BreakdownMethod, Dimension, PeriodKind, SalesPlan
    from plans.services import plan_activate, plan_create, target_create

    if SalesPlan.objects.filter(
        organization=organization, name__startswith=DEMO_PLAN_PREFIX
    ).exists():
        return
    owner = members[OWNER_USERNAME]
    today = organization.local_today()
    start = today.replace(day=1)
    end = dt.date(today.year, today.month, monthrange(today.year, today.month)[1])
    plan = plan_create(
        organization=organization,
        actor=owner,
        data={
            "name": f"{DEMO_PLAN_PREFIX} {today:%Y-%m}",
            "period_kind": PeriodKind.MONTH,
            "start": start,
            "end": end,
            "description": (
                "示例数据：本月销售额目标，按权重分到三位组长，再平均分到直属代理；"
                "另设三个大区和两款主推产品的目标。"
            ),
        },
    )
    plan = plan_activate(organization=organization, actor=owner, plan=plan)
    target = target_create(
        organization=organization,
        actor=owner,
        plan=plan,
        data={"metric": "sales_amount", "start": start, "end": end, "value": DEMO_PLAN_TOTAL},
    )
    leaders = target_breakdown(
        organization=organization,
        actor=owner,
        target=target,
        dimension=Dimension.MEMBER,
        method=BreakdownMethod.WEIGHTS,
        allocations=[
            Allocation(key=members[username], weight=weight) for username, weight in LEADER_WEIGHTS
        ],
    )
    targets = 1 + len(leaders.created)
    for leader_target in leaders.created:
        agents = [
            members[spec.username]
            for spec in MEMBERS
            if members[spec.username].upline_id == leader_target.member_id
        ]
        if not agents:
            continue
        result = target_breakdown(
            organization=organization,
            actor=owner,
            target=leader_target,
            dimension=Dimension.MEMBER,
            method=BreakdownMethod.EVEN,
            allocations=[Allocation(key=agent) for agent in agents],
        )
        targets += len(result.created)
    # The dashboard's bars (console/): each leader's region and the hero products get targets of
    # their own, beside the tree (a target is broken down along one dimension only).
    scoped = [
        ("region", members[username].region, DEMO_PLAN_TOTAL * weight / 100)
        for username, weight in LEADER_WEIGHTS
    ] + [
        ("product", product, DEMO_PLAN_TOTAL * share / 100)
        for product, share in zip(
            Product.objects.filter(organization=organization, is_hero=True).order_by("sku"),
            HERO_PRODUCT_SHARES,
            strict=False,
        )
    ]
    for dimension, key, value in scoped:
        target_create(
            organization=organization,
            actor=owner,
            plan=plan,
            data={
                "metric": "sales_amount",
                "start": start,
                "end": end,
                "value": value.quantize(Decimal("0.01")),
                dimension: key,
            },
        )
        targets += 1
    created["sales plan"] += 1
    created["target"] += targets
