"""Templates through the API: nested criteria and grades, validation, locking; the default
template."""

import pytest

from appraisals.defaults import DEFAULT_TEMPLATE_NAME, default_template_create
from appraisals.models import AppraisalTemplate, Criterion, GradeBand
from tests.agents.factories import AgentLevelFactory
from tests.appraisals.factories import cycle_open, template_create

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"
URL = f"{P}appraisal-templates/"


def body(**overrides):
    data = {
        "name": "Quarterly",
        "period_kind": "quarter",
        "criteria": [
            {
                "name": "Sales",
                "kind": "quantitative",
                "metric": "sales_amount",
                "weight": "50",
                "method": "ratio_to_target",
                "params": {},
            },
            {
                "name": "Lost customers",
                "kind": "quantitative",
                "metric": "lost_customers",
                "weight": "20",
                "method": "lower_is_better",
                "params": {"best": 0, "worst": 5},
            },
            {
                "name": "Loyalty",
                "kind": "qualitative",
                "weight": "30",
                "method": "scale",
                "params": {"levels": 5, "descriptions": {"1": "差", "5": "优秀"}},
            },
        ],
        "grades": [
            {"grade": "A", "min_score": "85", "outcome": "promote"},
            {"grade": "B", "min_score": "60", "outcome": "retain"},
            {"grade": "C", "min_score": "0", "outcome": "warn"},
        ],
        "rules": [{"if": {"grade": "C", "consecutive": 2}, "then": "eliminate"}],
    }
    data.update(overrides)
    return data


def test_create_with_nested_criteria_and_grades(world, client_for):
    response = client_for(world.admin).post(URL, body(), format="json")
    assert response.status_code == 201, response.data
    data = response.data
    assert data["period_kind"] == "quarter"
    assert [c["name"] for c in data["criteria"]] == ["Sales", "Lost customers", "Loyalty"]
    sales = data["criteria"][0]
    assert sales["params"] == {"cap": 120}  # the default cap, made explicit
    assert sales["weight"] == "50.00" and sales["id"]
    assert data["criteria"][2]["metric"] == ""
    assert [g["grade"] for g in data["grades"]] == ["A", "B", "C"]
    assert data["eligibility"] == {
        "roles": ["agent", "leader"],
        "statuses": ["active", "probation"],
        "levels": [],
    }
    assert data["rules"][0]["then"] == "eliminate"
    listed = client_for(world.agent).get(URL)
    assert listed.status_code == 200 and listed.data["count"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"criteria_weight": "40"}, "criteria"),
        ({"criterion": {"kind": "qualitative", "method": "linear"}}, "criteria"),
        ({"criterion": {"metric": ""}}, "criteria"),
        ({"criterion": {"metric": "happiness"}}, "criteria"),
        ({"criterion": {"method": "scale"}}, "criteria"),
        ({"criterion": {"params": {"cap": -1}}}, "criteria"),
        ({"criterion": {"weight": "0"}}, "criteria"),
        ({"grades": [{"grade": "A", "min_score": "50", "outcome": "reward"}] * 2}, "grades"),
        (
            {
                "grades": [
                    {"grade": "A", "min_score": "50", "outcome": "reward"},
                    {"grade": "B", "min_score": "50", "outcome": "retain"},
                ]
            },
            "grades",
        ),
        ({"grades": [{"grade": "A", "min_score": "0", "outcome": "fire"}]}, "grades"),
        ({"grades": []}, "grades"),
        ({"criteria": []}, "criteria"),
        ({"rules": [{"if": {"grade": "Z"}, "then": "warn"}]}, "rules"),
        ({"rules": "eliminate everybody"}, "rules"),
        ({"period_kind": "decade"}, "period_kind"),
        ({"eligibility": {"roles": ["king"]}}, "eligibility"),
    ],
)
def test_invalid_templates_are_400_naming_the_field_and_write_nothing(
    world, client_for, change, field
):
    data = body()
    if "criteria_weight" in change:
        data["criteria"][0]["weight"] = change["criteria_weight"]  # sums to 90
    elif "criterion" in change:
        data["criteria"][0].update(change["criterion"])
    else:
        data.update(change)
    response = client_for(world.admin).post(URL, data, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data, response.data
    assert not AppraisalTemplate.objects.filter(organization=world.org).exists()
    assert not Criterion.objects.exists() and not GradeBand.objects.exists()


def test_weights_error_says_what_they_sum_to(world, client_for):
    data = body()
    data["criteria"][0]["weight"] = "40.5"
    response = client_for(world.admin).post(URL, data, format="json")
    assert response.status_code == 400
    assert "90.5" in str(response.data["criteria"])


def test_eligibility_levels_must_be_the_organizations(world, client_for):
    mine = AgentLevelFactory(organization=world.org)
    theirs = AgentLevelFactory(organization=world.rival)
    bad = client_for(world.admin).post(
        URL, body(eligibility={"levels": [theirs.pk]}), format="json"
    )
    assert bad.status_code == 400 and "eligibility" in bad.data
    good = client_for(world.admin).post(
        URL, body(eligibility={"roles": ["agent"], "levels": [mine.pk]}), format="json"
    )
    assert good.status_code == 201
    assert good.data["eligibility"]["levels"] == [mine.pk]


def test_a_duplicate_name_is_400(world, client_for):
    template_create(world.org, name="Quarterly")
    response = client_for(world.admin).post(URL, body(), format="json")
    assert response.status_code == 400 and "name" in response.data


def test_patch_replaces_criteria_keeping_those_named_by_id(world, client_for):
    client = client_for(world.admin)
    created = client.post(URL, body(), format="json").data
    sales, lost, loyalty = created["criteria"]
    criteria = [
        {**sales, "weight": "60"},
        {**loyalty, "weight": "25"},
        {
            "name": "New customers",
            "kind": "quantitative",
            "metric": "new_customers",
            "weight": "15",
            "method": "linear",
            "params": {"floor": 0, "ceiling": 10},
        },
    ]
    response = client.patch(f"{URL}{created['id']}/", {"criteria": criteria}, format="json")
    assert response.status_code == 200, response.data
    result = {c["name"]: c for c in response.data["criteria"]}
    assert set(result) == {"Sales", "Loyalty", "New customers"}
    assert result["Sales"]["id"] == sales["id"] and result["Sales"]["weight"] == "60.00"
    assert not Criterion.objects.filter(pk=lost["id"]).exists()
    # a PATCH of the grades alone is checked against the rules that stay
    bad = client.patch(
        f"{URL}{created['id']}/",
        {"grades": [{"grade": "A", "min_score": "0", "outcome": "retain"}]},
        format="json",
    )
    assert bad.status_code == 400 and "rules" in bad.data
    weights = client.patch(f"{URL}{created['id']}/", {"criteria": criteria[:2]}, format="json")
    assert weights.status_code == 400 and "criteria" in weights.data


def test_criteria_of_a_template_in_use_are_fixed(world, client_for):
    template = template_create(world.org)
    cycle_open(template)
    client = client_for(world.admin)
    url = f"{URL}{template.pk}/"
    criteria = client.get(url).data["criteria"]
    response = client.patch(url, {"criteria": criteria}, format="json")
    assert response.status_code == 409
    assert client.patch(url, {"period_kind": "year"}, format="json").status_code == 409
    assert client.patch(url, {"eligibility": {"roles": ["agent"]}}, format="json").status_code == (
        200
    )


def test_the_default_template_is_valid_and_created_once(world, client_for):
    template = default_template_create(organization=world.org)
    again = default_template_create(organization=world.org)
    assert again.pk == template.pk
    assert AppraisalTemplate.objects.filter(organization=world.org).count() == 1
    assert template.name == DEFAULT_TEMPLATE_NAME
    criteria = list(template.criteria.all())
    assert len(criteria) == 13
    assert sum(c.weight for c in criteria) == 100
    metrics = {c.metric for c in criteria if c.kind == "quantitative"}
    assert metrics == {
        "sales_amount",
        "collected_amount",
        "profit",
        "active_customers",
        "followups",
        "avg_minutes_per_followup",
        "avg_daily_revenue",
        "new_customers",
        "lost_customers",
    }
    qualitative = [c for c in criteria if c.kind == "qualitative"]
    assert len(qualitative) == 4
    assert all(c.method == "scale" and len(c.params["descriptions"]) == 5 for c in qualitative)
    assert [(g.grade, g.outcome) for g in template.grades.all()] == [
        ("A", "reward"),
        ("B", "retain"),
        ("C", "warn"),
        ("D", "eliminate"),
    ]
    # it reads back through the API, and the API accepts it unchanged
    data = client_for(world.admin).get(f"{URL}{template.pk}/").data
    echo = client_for(world.admin).post(
        URL,
        {
            **{k: data[k] for k in ("period_kind", "rules", "grades", "eligibility")},
            "name": "Copy",
            "criteria": [{k: v for k, v in c.items() if k != "id"} for c in data["criteria"]],
        },
        format="json",
    )
    assert echo.status_code == 201, echo.data
    # and it can run a cycle
    cycle = cycle_open(template)
    assert cycle.appraisals.count() == 5
    default_template_create(organization=world.rival)
    assert AppraisalTemplate.objects.filter(organization=world.rival).count() == 1
