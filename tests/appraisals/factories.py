"""Appraisal test data. Templates are built through the service (so they are valid: weights sum
to 100, parameters normalized); cycles and their states through the services too."""

import datetime as dt
from decimal import Decimal

import factory

from appraisals import services
from appraisals.models import AppraisalCycle, AppraisalTemplate, CycleStatus
from tests.agents.factories import OrganizationFactory

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
APRIL = (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
MAY = (dt.date(2026, 5, 1), dt.date(2026, 5, 31))

SALES = {
    "name": "Sales",
    "kind": "quantitative",
    "metric": "sales_amount",
    "weight": Decimal(60),
    "method": "ratio_to_target",
    "params": {"cap": 120},
}
COOPERATION = {
    "name": "Cooperation",
    "kind": "qualitative",
    "metric": "",
    "weight": Decimal(40),
    "method": "scale",
    "params": {"levels": 5, "descriptions": {"1": "poor", "5": "excellent"}},
}
GRADES = [
    {"grade": "A", "min_score": Decimal(90), "outcome": "reward"},
    {"grade": "B", "min_score": Decimal(75), "outcome": "retain"},
    {"grade": "C", "min_score": Decimal(60), "outcome": "warn"},
    {"grade": "D", "min_score": Decimal(0), "outcome": "eliminate"},
]


def template_create(organization, *, criteria=None, grades=None, rules=None, name="Monthly", **kw):
    """A valid template: by default sales against target (60) and cooperation (40)."""
    return services.appraisal_template_create(
        organization=organization,
        actor=None,
        data={
            "name": name,
            "period_kind": "month",
            "criteria": [dict(c) for c in (criteria or [SALES, COOPERATION])],
            "grades": [dict(g) for g in (grades or GRADES)],
            "rules": rules or [],
            **kw,
        },
    )


class AppraisalTemplateFactory(factory.django.DjangoModelFactory):
    """A bare template row (no criteria): for tests that need one to point at."""

    class Meta:
        model = AppraisalTemplate

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Template {n}")


class AppraisalCycleFactory(factory.django.DjangoModelFactory):
    """A draft cycle for March 2026."""

    class Meta:
        model = AppraisalCycle

    organization = factory.SelfAttribute("template.organization")
    template = factory.SubFactory(AppraisalTemplateFactory)
    start = MARCH[0]
    end = MARCH[1]
    status = CycleStatus.DRAFT


def cycle_open(template, period=MARCH, *, actor=None):
    cycle = AppraisalCycleFactory(template=template, start=period[0], end=period[1])
    return services.appraisal_cycle_open(
        organization=template.organization, actor=actor, cycle=cycle
    )


def review(appraisal, actor, *, score=4, final_outcome=None, **kw):
    """Review every qualitative criterion of the appraisal with the same score."""
    criteria = appraisal.cycle.template.criteria.filter(kind="qualitative")
    return services.appraisal_review(
        organization=appraisal.organization,
        actor=actor,
        appraisal=appraisal,
        scores=[{"criterion": c.pk, "score": score} for c in criteria],
        final_outcome=final_outcome,
        **kw,
    )


def review_all(cycle, actor, *, score=4):
    for appraisal in cycle.appraisals.select_related("cycle__template", "member"):
        if appraisal.member_id != actor.pk:
            review(appraisal, actor, score=score)


def finalize(cycle, actor, *, force=False):
    return services.appraisal_cycle_finalize(
        organization=cycle.organization, actor=actor, cycle=cycle, force=force
    )
