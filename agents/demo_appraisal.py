"""The demo's last month: a finalized appraisal cycle, so that the grade panel of the dashboard
(console/) and the appraisals API have something to show from the first load.

Last month gets what a cycle scores: the members' daily reports and sales (filed as the demo's
current month is, skipping days that already have a report), and a closed plan with each
leader's and agent's own sales, collection and profit targets. The default monthly template
(it appraises leaders and agents) scores the facts against those targets; the owner reviews
everyone and finalizes.

The grades are spread over A to D on purpose: each member has a demo tier (DEMO_TIERS) that
sets how far their targets are from what they sold and their qualitative scores, so the facts
and the template's own scoring put them in that grade band.

Outcomes: finalizing applies each appraisal's final outcome, and a promotion, demotion or
elimination would change the demo's people (a level up or down, a member suspended) on every
fresh load. The reviewer therefore chooses outcomes that change nobody (reward, retain, warn:
recorded, nothing changes): the grade's own for A, B and C, a warning instead of the elimination
for a D (TIER_OUTCOMES), and says so in the review's comment. Loading the demo never suspends,
promotes or demotes anyone.

Idempotent: nothing is created while the organization has a cycle of the default template for
last month (a second load, even the same month, changes nothing).
"""

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

from django.db.models import Sum

from .calendar import working_days
from .models import Membership, Organization, Role

HISTORY_SEED = 43
LAST_MONTH_PLAN_PREFIX = "示例考核计划"
# username -> tier; leaders and agents (the template appraises them), spread over A to D.
DEMO_TIERS = {
    "wang.lei": "B",
    "zhou.jie": "A",
    "lin.feng": "C",
    "li.na": "A",
    "zhang.wei": "B",
    "liu.yang": "C",
    "chen.jing": "D",
    "yang.fan": "B",
    "zhao.min": "C",
    "wu.ting": "A",
    "zheng.hao": "B",
    "sun.li": "D",
    "he.ping": "B",
    "ma.chao": "C",
    "gao.yuan": "B",
}
# tier -> (what they sold against their targets, their qualitative scores out of 5). With the
# default template's weights (targets 40, other metrics 25, qualitative 35) and the demo's
# facts these land well inside the bands A 90+, B 75+, C 60+, D below.
TIER_RESULTS = {
    "A": (Decimal("1.20"), 5),
    "B": (Decimal("1.00"), 4),
    "C": (Decimal("0.80"), 3),
    "D": (Decimal("0.40"), 1),
}
# The final outcome the reviewer chooses for each tier: the grade's own outcome when it changes
# nobody (A reward, B retain, C warn), a warning for a D instead of the elimination (the
# template's own advice: "a D member may get a warning"). An A with its targets met is
# recommended a promotion by the template's rule; the demo's reviewer rewards instead.
TIER_OUTCOMES = {"A": "reward", "B": "retain", "C": "warn", "D": "warn"}
TARGET_METRICS = (
    ("sales_amount", "amount"),
    ("collected_amount", "collected"),
    ("profit", "profit"),
)
MINIMUM_TARGET = Decimal("100.00")
REVIEW_COMMENT = "示例数据：演示用的考核，不改变成员的级别和状态。"


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def demo_appraisal_cycle(
    organization: Organization,
    members: dict[str, Membership],
    people: list[Membership],
    created: Counter,
    *,
    owner_username: str,
) -> None:
    from appraisals.defaults import DEFAULT_TEMPLATE_NAME
    from appraisals.models import AppraisalCycle, AppraisalTemplate

    template = AppraisalTemplate.objects.filter(
        organization=organization, name=DEFAULT_TEMPLATE_NAME
    ).first()
    if template is None:
        return
    start, end = last_month(organization.local_today())
    if AppraisalCycle.objects.filter(
        organization=organization, template=template, start__lte=end, end__gte=start
    ).exists():
        return
    _last_month_facts(organization, people, start, end, created)
    _last_month_plan(organization, members, start, end, created, owner_username=owner_username)
    _cycle(
        organization,
        members,
        template,
        start,
        end,
        created,
        owner=members[owner_username],
    )


def _last_month_facts(organization, people, start, end, created) -> None:
    from reports.models import DailyReport

    from .demo import facts_file

    # Early in a month the current month's facts reach back into last month: those days keep
    # their reports.
    filed = frozenset(
        DailyReport.objects.filter(organization=organization, date__range=(start, end)).values_list(
            "member_id", "date"
        )
    )
    facts_file(
        organization,
        people,
        working_days(organization=organization, start=start, end=end),
        rng=random.Random(HISTORY_SEED),  # noqa: S311 - demo data, not secrets
        created=created,
        skip=filed,
    )


def _last_month_plan(organization, members, start, end, created, *, owner_username) -> None:
    """Each tiered member's own targets, from what they sold: sold / target = the tier's ratio."""
    from plans.models import PeriodKind
    from plans.services import plan_activate, plan_close, plan_create, target_create
    from reports.models import SalesEntry

    owner = members[owner_username]
    sold = {
        row["member_id"]: row
        for row in SalesEntry.objects.filter(organization=organization, date__range=(start, end))
        .values("member_id")
        .annotate(amount=Sum("amount"), collected=Sum("collected"), profit=Sum("profit"))
        .order_by()
    }
    plan = plan_create(
        organization=organization,
        actor=owner,
        data={
            "name": f"{LAST_MONTH_PLAN_PREFIX} {start:%Y-%m}",
            "period_kind": PeriodKind.MONTH,
            "start": start,
            "end": end,
            "description": (
                "示例数据：上月每位组长和代理自己的销售额、回款额和毛利目标，供月度考核打分。"
            ),
        },
    )
    plan = plan_activate(organization=organization, actor=owner, plan=plan)
    targets = 0
    for username, tier in DEMO_TIERS.items():
        member = members.get(username)
        if member is None or member.role not in (Role.LEADER, Role.AGENT):
            continue
        ratio = TIER_RESULTS[tier][0]
        for metric, column in TARGET_METRICS:
            actual = (sold.get(member.pk) or {}).get(column) or Decimal(0)
            value = max((Decimal(actual) / ratio).quantize(Decimal("0.01")), MINIMUM_TARGET)
            target_create(
                organization=organization,
                actor=owner,
                plan=plan,
                data={
                    "metric": metric,
                    "member": member,
                    "include_downline": False,
                    "start": start,
                    "end": end,
                    "value": value,
                },
            )
            targets += 1
    # Over: its figures are frozen, and the morning view lists active plans only.
    plan_close(organization=organization, actor=owner, plan=plan)
    created["sales plan"] += 1
    created["target"] += targets


def _cycle(organization, members, template, start, end, created, *, owner) -> None:
    from appraisals.models import Appraisal, CriterionKind
    from appraisals.services import (
        appraisal_cycle_create,
        appraisal_cycle_finalize,
        appraisal_cycle_open,
        appraisal_review,
    )

    cycle = appraisal_cycle_create(
        organization=organization,
        actor=owner,
        data={"template": template, "start": start, "end": end, "name": f"{start:%Y-%m} 月度考核"},
    )
    cycle = appraisal_cycle_open(organization=organization, actor=owner, cycle=cycle)
    qualitative = list(template.criteria.filter(kind=CriterionKind.QUALITATIVE).order_by("pk"))
    tiers = {members[name].pk: tier for name, tier in DEMO_TIERS.items() if name in members}
    appraisals = Appraisal.objects.filter(cycle=cycle).select_related("cycle", "member")
    for appraisal in appraisals.order_by("pk"):
        tier = tiers.get(appraisal.member_id, "B")
        appraisal_review(
            organization=organization,
            actor=owner,
            appraisal=appraisal,
            scores=[
                {"criterion": criterion.pk, "score": TIER_RESULTS[tier][1]}
                for criterion in qualitative
            ],
            comment=REVIEW_COMMENT,
            final_outcome=TIER_OUTCOMES[tier],
        )
    appraisal_cycle_finalize(organization=organization, actor=owner, cycle=cycle)
    created["appraisal cycle"] += 1
