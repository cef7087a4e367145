"""The appraisals' permission matrix. Objects are built from the `world` fixture: a template of
the organization; cycles of it in each state; the appraisal acted on is the `agent`'s (branch A)."""

from dataclasses import dataclass

from appraisals.models import Appraisal, AppraisalTemplate, CriterionKind
from tests.appraisals.factories import APRIL, AppraisalCycleFactory, cycle_open, finalize
from tests.appraisals.factories import template_create as _template_create
from tests.matrix import Case, everyone, roles

MANAGERS_ONLY = roles(403, admin=200, owner=200)
MANAGERS_CREATE = roles(403, admin=201, owner=201)
MANAGERS_DELETE = roles(403, admin=204, owner=204)
LEADERS_ONLY = roles(403, leader=200, other_leader=200, admin=200, owner=200)
BRANCH_READ = roles(200, other_agent=404, other_leader=404)


@dataclass(frozen=True)
class QueryCase(Case):
    query: str = ""

    def url(self, world) -> str:
        return f"{super().url(world)}?{self.query}"


def template(world) -> AppraisalTemplate:
    found = AppraisalTemplate.objects.filter(organization=world.org).first()
    return found or _template_create(world.org)


def template_args(world) -> dict:
    return {"pk": template(world).pk}


def draft_cycle(world) -> dict:
    return {"pk": AppraisalCycleFactory(template=template(world)).pk}


def open_cycle(world) -> dict:
    return {"pk": cycle_open(template(world)).pk}


def agent_appraisal(world) -> dict:
    cycle = cycle_open(template(world))
    return {"pk": Appraisal.objects.get(cycle=cycle, member=world.agent).pk}


def finalized_appraisal(world) -> dict:
    cycle = cycle_open(template(world))
    finalize(cycle, world.owner, force=True)
    return {"pk": Appraisal.objects.get(cycle=cycle, member=world.agent).pk}


def template_body(world) -> dict:
    return {
        "name": "Monthly sales",
        "period_kind": "month",
        "criteria": [
            {
                "name": "Sales",
                "kind": "quantitative",
                "metric": "sales_amount",
                "weight": "70",
                "method": "ratio_to_target",
                "params": {"cap": 120},
            },
            {
                "name": "Loyalty",
                "kind": "qualitative",
                "weight": "30",
                "method": "scale",
                "params": {"levels": 5},
            },
        ],
        "grades": [
            {"grade": "A", "min_score": "80", "outcome": "reward"},
            {"grade": "B", "min_score": "0", "outcome": "retain"},
        ],
    }


def review_body(world) -> dict:
    criteria = template(world).criteria.filter(kind=CriterionKind.QUALITATIVE)
    return {"scores": [{"criterion": c.pk, "score": 4} for c in criteria], "comment": "ok"}


CASES = [
    # templates: everyone reads, owners and admins write
    Case("appraisal-templates-list", "get", everyone(200)),
    Case("appraisal-templates-list", "post", MANAGERS_CREATE, body=template_body),
    Case("appraisal-templates-detail", "get", everyone(200), args=template_args),
    Case(
        "appraisal-templates-detail",
        "patch",
        MANAGERS_ONLY,
        args=template_args,
        body=lambda w: {"name": "Renamed"},
    ),
    Case("appraisal-templates-detail", "delete", MANAGERS_DELETE, args=template_args),
    # cycles
    Case("appraisal-cycles-list", "get", everyone(200)),
    Case(
        "appraisal-cycles-list",
        "post",
        MANAGERS_CREATE,
        body=lambda w: {"template": template(w).pk, "start": "2026-04-01", "end": "2026-04-30"},
    ),
    Case("appraisal-cycles-detail", "get", everyone(200), args=draft_cycle),
    Case(
        "appraisal-cycles-detail",
        "patch",
        MANAGERS_ONLY,
        args=draft_cycle,
        body=lambda w: {"review_deadline": str(APRIL[0])},
    ),
    Case("appraisal-cycles-detail", "delete", MANAGERS_DELETE, args=draft_cycle),
    Case("appraisal-cycles-open", "post", MANAGERS_ONLY, args=draft_cycle),
    Case("appraisal-cycles-score", "post", MANAGERS_ONLY, args=open_cycle),
    Case(
        "appraisal-cycles-finalize",
        "post",
        MANAGERS_ONLY,
        args=open_cycle,
        body=lambda w: {"force": True},
    ),
    Case("appraisal-cycles-leaderboard", "get", everyone(200), args=open_cycle),
    QueryCase(
        "appraisal-cycles-rollup", "get", LEADERS_ONLY, args=open_cycle, query="group_by=team"
    ),
    QueryCase(
        "appraisal-cycles-rollup",
        "get",
        LEADERS_ONLY,
        args=open_cycle,
        query="group_by=region",
        label="region",
    ),
    # appraisals: agents their own, leaders their subtree, owners and admins all
    Case("appraisals-list", "get", everyone(200)),
    Case("appraisals-detail", "get", BRANCH_READ, args=agent_appraisal),
    Case(
        "appraisals-review",
        "post",
        roles(200, agent=403, other_agent=404, other_leader=404),
        args=agent_appraisal,
        body=review_body,
    ),
    Case(
        "appraisals-acknowledge",
        "post",
        roles(403, agent=200, other_agent=404, other_leader=404),
        args=finalized_appraisal,
        body=lambda w: {"comment": "read"},
    ),
    Case("appraisals-history", "get", everyone(200)),
    Case(
        "appraisals-export",
        "get",
        everyone(200),
        body=lambda w: {"cycle": Appraisal.objects.get(pk=agent_appraisal(w)["pk"]).cycle_id},
    ),
]
