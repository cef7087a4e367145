"""Foreign ids in bodies (issue 8): another organization's product, member, plan... sent in any
writable operation of the API is a 400 naming the field, and nothing is written.

The operations and their reference fields are derived from the OpenAPI schema generator and the
request serializers it reports (every `RelatedField`, also inside nested lists), so a new
reference field is swept without editing this file. References that are plain integers (ids
resolved by hand in a serializer or service) cannot be recognised by type: every writable
integer field whose name is a model's or a foreign key's name must be declared in
`INTEGER_REFERENCES` (and is tested by hand below) or in `NOT_REFERENCES` with a reason, else
`test_every_integer_reference_is_declared` fails.

Also "another agent's customer": an agent's daily report line, sale or activity naming a
customer owned by an agent outside their subtree is a 400 on `customer`."""

import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers

from agents.api.fields import OrgRelatedField
from agents.models import AgentLevel, Customer, Product
from appraisals.models import AppraisalTemplate, Criterion
from reports.models import Activity, DailyReport, SalesEntry
from tests.agents.factories import (
    AgentLevelFactory,
    CustomerFactory,
    ProductFactory,
    RegionFactory,
)
from tests.appraisals.factories import AppraisalCycleFactory, cycle_open, template_create
from tests.plans.factories import (
    BudgetLineFactory,
    ExpenseFactory,
    PlanTaskFactory,
    QualitativeGoalFactory,
    SalesPlanFactory,
    TargetFactory,
)
from tests.reports.factories import ActivityFactory, MarketFeedbackFactory

P = "/api/v1/orgs/acme/"
# The project's own apps (those in this checkout), whatever apps are added later.
LOCAL_APPS = tuple(
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).resolve().is_relative_to(Path(__file__).resolve().parent.parent)
    and "site-packages" not in config.path
)
ANY = "[]"  # a position in a list, in a field path

# (method, schema path, field path) -> model: integer fields that hold an id.
INTEGER_REFERENCES = {
    ("PUT", "/api/v1/orgs/{org_slug}/me/daily-reports/{date}/", "lines[].product"): Product,
    ("PUT", "/api/v1/orgs/{org_slug}/me/daily-reports/{date}/", "lines[].customer"): Customer,
    ("POST", "/api/v1/orgs/{org_slug}/appraisals/{id}/review/", "scores[].criterion"): Criterion,
    ("POST", "/api/v1/orgs/{org_slug}/appraisal-templates/", "eligibility.levels"): AgentLevel,
    (
        "PATCH",
        "/api/v1/orgs/{org_slug}/appraisal-templates/{id}/",
        "eligibility.levels",
    ): AgentLevel,
}
# An id no bigint column holds: the database driver would overflow (a 500) if it got that far.
HUGE_ID = 2**65
# Integer fields named like a reference that are not one.
NOT_REFERENCES = {
    # `criteria[].id` is matched only against the template's own criteria; any other id adds a
    # new criterion to this template (appraisals/services.py `_criteria_replace`), so it can
    # never reach another template's or organization's row.
    "criteria[].id",
}


# --- what the sweep walks -------------------------------------------------------------------


def _endpoints():
    """(method, schema path, request serializer instance, view) of every write operation."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    for path, path_regex, method, view in generator._get_paths_and_endpoints():
        if method not in ("POST", "PUT", "PATCH"):
            continue
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        view.schema.get_operation(path, path_regex, "", method, ComponentRegistry())
        serializer = view.schema.get_request_serializer()
        if isinstance(serializer, type):
            serializer = serializer()
        if isinstance(serializer, serializers.BaseSerializer):
            yield method, path, serializer, view


def _walk(serializer, prefix=""):
    """(field path, field) of every writable leaf field, nested serializers included."""
    if isinstance(serializer, serializers.ListSerializer):
        serializer = serializer.child
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            yield from _walk(field.child, f"{prefix}{name}{ANY}.")
        elif isinstance(field, serializers.Serializer):
            yield from _walk(field, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def _related_model(field):
    if isinstance(field, serializers.ManyRelatedField):
        field = field.child_relation
    if isinstance(field, serializers.RelatedField):
        return field.queryset.model
    return None


ENDPOINTS = list(_endpoints())
RELATION_CASES = [
    (method, path, field_path, _related_model(field), type(field))
    for method, path, serializer, _view in ENDPOINTS
    for field_path, field in _walk(serializer)
    if _related_model(field) is not None
]
VIEW_MODELS = {
    (method, path): getattr(getattr(view, "queryset", None), "model", None)
    for method, path, _serializer, view in ENDPOINTS
}


def _is_integer(field) -> bool:
    if isinstance(field, serializers.ListField):
        field = field.child
    return isinstance(field, serializers.IntegerField)


def _reference_names() -> set[str]:
    names = set()
    for model in apps.get_models():
        if model._meta.app_label not in LOCAL_APPS:
            continue
        names.add(model._meta.model_name)
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey | models.ManyToManyField):
                names.add(field.name)
    return names


def test_the_sweep_finds_the_reference_fields():
    models_seen = {model for *_, model, _type in RELATION_CASES}
    assert len(RELATION_CASES) >= 40
    assert {"Membership", "Product", "Customer", "Region", "SalesPlan"} <= {
        model.__name__ for model in models_seen
    }


def test_every_writable_reference_is_an_org_related_field():
    plain = [
        (method, path, field_path)
        for method, path, field_path, _model, field_type in RELATION_CASES
        if not issubclass(field_type, OrgRelatedField)
        and not issubclass(field_type, serializers.ManyRelatedField)
    ]
    assert plain == [], "use agents.api.fields.OrgRelatedField: it filters by organization"


def test_every_integer_reference_is_declared():
    names = _reference_names() | {"id"}
    undeclared = []
    for method, path, serializer, _view in ENDPOINTS:
        for field_path, field in _walk(serializer):
            leaf = field_path.rsplit(".", 1)[-1]
            if not _is_integer(field) or not (leaf in names or leaf.removesuffix("s") in names):
                continue
            if (method, path, field_path) in INTEGER_REFERENCES or field_path in NOT_REFERENCES:
                continue
            undeclared.append((method, path, field_path))
    assert undeclared == [], (
        "integer fields that look like ids: check they refuse another organization's ids and "
        "declare them in INTEGER_REFERENCES (or NOT_REFERENCES, with the reason)"
    )


# --- objects to point at --------------------------------------------------------------------


def _make(model, organization, world):
    """One row of `model` belonging to `organization` (acme or rival), all of its own parents in
    that organization too."""
    own_member = world.admin if organization == world.org else world.outsider
    name = model.__name__
    plan = None
    if name in {"SalesPlan", "Target", "BudgetLine", "Expense", "PlanTask", "QualitativeGoal"}:
        plan = SalesPlanFactory(organization=organization)
    recipes = {
        "Membership": lambda: own_member,
        "Region": lambda: RegionFactory(organization=organization),
        "AgentLevel": lambda: AgentLevelFactory(organization=organization),
        "Product": lambda: ProductFactory(organization=organization),
        "Customer": lambda: CustomerFactory(organization=organization, owner=own_member),
        "SalesPlan": lambda: plan,
        "Target": lambda: TargetFactory(plan=plan),
        "BudgetLine": lambda: BudgetLineFactory(plan=plan, member=own_member),
        "Expense": lambda: ExpenseFactory(budget=BudgetLineFactory(plan=plan, member=own_member)),
        "PlanTask": lambda: PlanTaskFactory(plan=plan, owner=own_member),
        "QualitativeGoal": lambda: QualitativeGoalFactory(plan=plan, owner=own_member),
        "Activity": lambda: ActivityFactory(organization=organization, member=own_member),
        "MarketFeedback": lambda: MarketFeedbackFactory(
            organization=organization, author=own_member
        ),
        "AppraisalTemplate": lambda: template_create(organization),
        "AppraisalCycle": lambda: AppraisalCycleFactory(template=template_create(organization)),
        "Criterion": lambda: template_create(organization).criteria.first(),
    }
    assert name in recipes, f"tests/test_foreign_ids.py: add a recipe for {name}"
    return recipes[name]()


def _nested(field_path: str, leaf_value):
    parts = field_path.split(".")
    value = leaf_value
    for part in reversed(parts):
        key = part.removesuffix(ANY)
        value = {key: [value] if part.endswith(ANY) else value}
    return value


def _error_at(errors, field_path: str):
    """The error messages at a field path of a DRF error body, or None."""
    node = errors
    for part in field_path.split("."):
        key = part.removesuffix(ANY)
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
        if part.endswith(ANY):
            if isinstance(node, list) and node and isinstance(node[0], dict):
                node = node[0]
            elif isinstance(node, dict) and ("0" in node or 0 in node):
                node = node.get("0", node.get(0))  # DRF keys list errors by index
            else:
                return None
    return node or None


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in LOCAL_APPS
    }


def _url(path: str, world) -> str:
    url = path.replace("{org_slug}", "acme")
    url = url.replace("{date}", world.org.local_today().isoformat())
    return url


# --- the sweep ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["another organization's id", "an empty string"])
@pytest.mark.parametrize(
    "method, path, field_path, model",
    [case[:4] for case in RELATION_CASES],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_another_organizations_id_is_a_400_naming_the_field(
    method, path, field_path, model, given, client_for, world
):
    """So is "" where an id goes: an id is a number (or null where the schema allows it), and
    DRF's reading of "" as null is for HTML forms (found by FUZZ_EXAMPLES=250)."""
    value = _make(model, world.rival, world).pk if given == "another organization's id" else ""
    url = _url(path, world)
    if "{id}" in path:
        own = _make(VIEW_MODELS[(method, path)], world.org, world)
        url = url.replace("{id}", str(own.pk))
    many = field_path in {
        fp
        for m, p, fp, _model, t in RELATION_CASES
        if (m, p) == (method, path) and issubclass(t, serializers.ManyRelatedField)
    }
    body = _nested(field_path, [value] if many else value)
    before = _row_counts()
    response = getattr(client_for(world.admin), method.lower())(url, body, format="json")
    assert response.status_code == 400, (url, body, response.status_code, response.content[:300])
    assert _error_at(response.json(), field_path), (field_path, response.json())
    assert _row_counts() == before


# --- integer references, by hand (with otherwise valid bodies) -------------------------------


def test_the_declared_integer_references_are_the_ones_the_api_has():
    present = {
        (method, path, field_path)
        for method, path, serializer, _view in ENDPOINTS
        for field_path, _field in _walk(serializer)
    }
    assert set(INTEGER_REFERENCES) <= present


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["product", "customer"])
@pytest.mark.parametrize("target", ["another organization's row", "beyond any row"])
def test_a_daily_report_line_with_a_foreign_reference_is_a_400(field, target, client_for, world):
    line = {
        "product": ProductFactory(organization=world.org).pk,
        "customer": CustomerFactory(organization=world.org, owner=world.agent).pk,
        "quantity": 1,
        "amount": "10.00",
    }
    model = {"product": Product, "customer": Customer}[field]
    line[field] = HUGE_ID if target == "beyond any row" else _make(model, world.rival, world).pk
    before = _row_counts()
    response = client_for(world.agent).put(
        f"{P}me/daily-reports/{world.org.local_today().isoformat()}/", {"lines": [line]}
    )
    assert response.status_code == 400, response.content
    assert _error_at(response.json(), f"lines{ANY}.{field}")
    assert _row_counts() == before


@pytest.mark.django_db
def test_a_review_scoring_another_organizations_criterion_is_a_400(client_for, world):
    cycle = cycle_open(template_create(world.org))
    appraisal = cycle.appraisals.get(member=world.agent)
    foreign = _make(Criterion, world.rival, world)
    response = client_for(world.admin).post(
        f"{P}appraisals/{appraisal.pk}/review/",
        {"scores": [{"criterion": foreign.pk, "score": 4}]},
    )
    assert response.status_code == 400, response.content
    assert _error_at(response.json(), f"scores{ANY}.criterion")
    assert not appraisal.scores.filter(criterion=foreign).exists()
    appraisal.refresh_from_db()
    assert appraisal.reviewed_at is None


@pytest.mark.django_db
def test_a_template_eligible_for_another_organizations_level_is_a_400(client_for, world):
    foreign = AgentLevelFactory(organization=world.rival)
    body = {
        "name": "Monthly",
        "period_kind": "month",
        "eligibility": {"levels": [foreign.pk]},
        "criteria": [
            {
                "name": "Sales",
                "kind": "quantitative",
                "metric": "sales_amount",
                "weight": "100",
                "method": "ratio_to_target",
                "params": {"cap": 120},
            },
        ],
        "grades": [{"grade": "A", "min_score": "0", "outcome": "retain"}],
    }
    client = client_for(world.admin)
    response = client.post(f"{P}appraisal-templates/", body)
    assert response.status_code == 400, response.content
    assert _error_at(response.json(), "eligibility.levels")
    assert not AppraisalTemplate.objects.filter(organization=world.org).exists()
    template = template_create(world.org)
    patch = client.patch(
        f"{P}appraisal-templates/{template.pk}/", {"eligibility": {"levels": [foreign.pk]}}
    )
    assert patch.status_code == 400, patch.content
    assert _error_at(patch.json(), "eligibility.levels")
    template.refresh_from_db()
    assert foreign.pk not in (template.eligibility or {}).get("levels", [])


# --- ids beyond what a bigint holds --------------------------------------------------------


@pytest.mark.django_db
def test_appraisal_ids_beyond_any_row_are_a_400_naming_the_field(client_for, world):
    client = client_for(world.admin)
    template = template_create(world.org)
    patch = client.patch(
        f"{P}appraisal-templates/{template.pk}/", {"eligibility": {"levels": [HUGE_ID]}}
    )
    assert patch.status_code == 400, patch.content
    assert _error_at(patch.json(), "eligibility.levels")
    criteria = client.get(f"{P}appraisal-templates/{template.pk}/").json()["criteria"]
    criteria[0]["id"] = HUGE_ID
    patch = client.patch(f"{P}appraisal-templates/{template.pk}/", {"criteria": criteria})
    assert patch.status_code == 400, patch.content
    assert _error_at(patch.json(), f"criteria{ANY}.id")
    appraisal = cycle_open(template).appraisals.get(member=world.agent)
    review = client.post(
        f"{P}appraisals/{appraisal.pk}/review/", {"scores": [{"criterion": HUGE_ID, "score": 4}]}
    )
    assert review.status_code == 400, review.content
    assert _error_at(review.json(), f"scores{ANY}.criterion")
    for name in ("member", "template"):
        history = client.get(f"{P}appraisals/history/", {name: HUGE_ID})
        assert history.status_code == 400, history.content
        assert list(history.json()) == [name]


# --- another agent's customer ---------------------------------------------------------------


@pytest.fixture
def peers_customer(world):
    """A customer of other_agent (branch B): outside agent's and leader's subtree."""
    return CustomerFactory(organization=world.org, owner=world.other_agent)


@pytest.mark.django_db
def test_an_agent_cannot_report_a_sale_to_another_agents_customer(
    client_for, world, peers_customer
):
    product = ProductFactory(organization=world.org)
    client = client_for(world.agent)
    today = world.org.local_today().isoformat()
    report = client.put(
        f"{P}me/daily-reports/{today}/",
        {
            "lines": [
                {
                    "product": product.pk,
                    "customer": peers_customer.pk,
                    "quantity": 1,
                    "amount": "10.00",
                }
            ]
        },
    )
    assert report.status_code == 400, report.content
    assert _error_at(report.json(), f"lines{ANY}.customer")
    sale = client.post(
        f"{P}sales/",
        {
            "date": today,
            "product": product.pk,
            "customer": peers_customer.pk,
            "quantity": 1,
            "amount": "10.00",
        },
    )
    assert sale.status_code == 400, sale.content
    assert "customer" in sale.json()
    assert not DailyReport.objects.filter(member=world.agent).exists()
    assert not SalesEntry.objects.filter(customer=peers_customer).exists()


@pytest.mark.django_db
def test_an_agent_cannot_log_an_activity_with_another_agents_customer(
    client_for, world, peers_customer
):
    client = client_for(world.agent)
    body = {
        "kind": "visit",
        "customer": peers_customer.pk,
        "occurred_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
    }
    created = client.post(f"{P}activities/", body)
    assert created.status_code == 400, created.content
    assert "customer" in created.json()
    own = ActivityFactory(organization=world.org, member=world.agent)
    moved = client.patch(f"{P}activities/{own.pk}/", {"customer": peers_customer.pk})
    assert moved.status_code == 400, moved.content
    own.refresh_from_db()
    assert own.customer_id is None
    assert not Activity.objects.filter(customer=peers_customer).exists()


@pytest.mark.django_db
def test_the_leader_may_use_a_customer_of_their_downline(client_for, world):
    """The check is the scope, not the owner: a leader logging for their subtree may."""
    downline_customer = CustomerFactory(organization=world.org, owner=world.agent)
    response = client_for(world.leader).post(
        f"{P}activities/",
        {
            "kind": "call",
            "member": world.agent.pk,
            "customer": downline_customer.pk,
            "occurred_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
            "duration_minutes": 5,
        },
    )
    assert response.status_code == 201, response.content
    assert Activity.objects.get(pk=response.json()["id"]).customer == downline_customer
