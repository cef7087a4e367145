"""Criterion ids on a template update name this template's criteria (any other id is a 400 on
`criteria` at its index); a cycle covers exactly one calendar period of its template's kind."""

import pytest

from appraisals.models import AppraisalCycle, Criterion
from tests.appraisals.factories import COOPERATION, SALES, template_create

pytestmark = pytest.mark.django_db

P = "/api/v1/orgs/acme/"
TEMPLATES = f"{P}appraisal-templates/"
CYCLES = f"{P}appraisal-cycles/"


# --- Criterion ids ----------------------------------------------------------------------------


def test_an_unknown_criterion_id_is_400_at_its_index_and_changes_nothing(world, client_for):
    template = template_create(world.org)
    other = template_create(world.org, name="Other")
    client = client_for(world.admin)
    url = f"{TEMPLATES}{template.pk}/"
    criteria = client.get(url).data["criteria"]
    foreign_id = other.criteria.first().pk
    before = sorted(Criterion.objects.values_list("pk", "template_id", "name", "weight"))
    for bad_id in (foreign_id, 10**6):
        sent = [criteria[0], {**criteria[1], "id": bad_id}]
        response = client.patch(url, {"criteria": sent}, format="json")
        assert response.status_code == 400, response.data
        assert response.data["criteria"][0] == {}
        assert response.data["criteria"][1]["id"] == [
            f"{bad_id} is not a criterion of this template; leave the id out to add a criterion."
        ]
    assert sorted(Criterion.objects.values_list("pk", "template_id", "name", "weight")) == before


def test_a_criterion_id_listed_twice_is_400(world, client_for):
    template = template_create(world.org)
    client = client_for(world.admin)
    url = f"{TEMPLATES}{template.pk}/"
    sales, cooperation = client.get(url).data["criteria"]
    twice = [{**sales, "weight": "50"}, {**cooperation, "id": sales["id"], "weight": "50"}]
    response = client.patch(url, {"criteria": twice}, format="json")
    assert response.status_code == 400
    assert response.data["criteria"][1]["id"] == [f"Criterion {sales['id']} is listed twice."]
    # Without ids, criteria are added (and the ones not named removed).
    fresh = [
        {key: value for key, value in item.items() if key != "id"} for item in (sales, cooperation)
    ]
    response = client.patch(url, {"criteria": fresh}, format="json")
    assert response.status_code == 200, response.data
    assert {item["id"] for item in response.data["criteria"]}.isdisjoint(
        {sales["id"], cooperation["id"]}
    )


def test_the_service_refuses_unknown_ids_too(world):
    from django.core.exceptions import ValidationError

    from appraisals.services import appraisal_template_update

    template = template_create(world.org)
    with pytest.raises(ValidationError) as refused:
        appraisal_template_update(
            organization=world.org,
            actor=None,
            template=template,
            data={"criteria": [{**SALES, "id": 10**6}, dict(COOPERATION)]},
        )
    assert "criteria" in refused.value.message_dict


# --- Cycle periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start,end,field",
    [
        ("2026-03-01", "2026-04-30", "end"),  # two months
        ("2026-03-01", "2026-03-15", "end"),  # half a month
        ("2026-03-10", "2026-04-09", "start"),  # a month, but not a calendar one
    ],
)
def test_a_monthly_cycle_is_one_calendar_month(world, client_for, start, end, field):
    template = template_create(world.org)
    response = client_for(world.admin).post(
        CYCLES, {"template": template.pk, "start": start, "end": end}
    )
    assert response.status_code == 400
    assert field in response.data
    assert not AppraisalCycle.objects.exists()


def test_the_message_says_which_end_fits(world, client_for):
    template = template_create(world.org)
    response = client_for(world.admin).post(
        CYCLES, {"template": template.pk, "start": "2026-02-01", "end": "2026-03-31"}
    )
    assert response.data["end"] == [
        "This template appraises by month: a cycle starting on 2026-02-01 ends on 2026-02-28."
    ]


@pytest.mark.parametrize(
    "kind,start,end,ok",
    [
        ("quarter", "2026-04-01", "2026-06-30", True),
        ("quarter", "2026-03-01", "2026-05-31", False),
        ("quarter", "2026-04-01", "2026-04-30", False),
        ("half_year", "2026-07-01", "2026-12-31", True),
        ("half_year", "2026-04-01", "2026-09-30", False),
        ("year", "2026-01-01", "2026-12-31", True),
        ("year", "2026-01-01", "2026-06-30", False),
    ],
)
def test_cycles_follow_the_period_kind(world, client_for, kind, start, end, ok):
    template = template_create(world.org, period_kind=kind, name=f"By {kind}")
    response = client_for(world.admin).post(
        CYCLES, {"template": template.pk, "start": start, "end": end}
    )
    assert response.status_code == (201 if ok else 400), response.data


def test_updating_a_draft_cycle_keeps_it_one_period(world, client_for):
    monthly = template_create(world.org)
    quarterly = template_create(world.org, period_kind="quarter", name="Quarterly")
    client = client_for(world.admin)
    created = client.post(
        CYCLES, {"template": monthly.pk, "start": "2026-03-01", "end": "2026-03-31"}
    )
    assert created.status_code == 201, created.data
    url = f"{CYCLES}{created.data['id']}/"
    response = client.patch(url, {"end": "2026-04-30"})
    assert response.status_code == 400 and "end" in response.data
    # A quarterly template needs a quarter: switching the template alone is refused...
    response = client.patch(url, {"template": quarterly.pk})
    assert response.status_code == 400 and "start" in response.data  # March starts no quarter
    cycle = AppraisalCycle.objects.get()
    assert (cycle.template_id, str(cycle.end)) == (monthly.pk, "2026-03-31")
    # ...with the quarter's dates it is accepted.
    response = client.patch(
        url, {"template": quarterly.pk, "start": "2026-01-01", "end": "2026-03-31"}
    )
    assert response.status_code == 200, response.data


def test_a_templates_period_kind_changes_only_if_its_drafts_still_fit(world, client_for):
    template = template_create(world.org)
    client = client_for(world.admin)
    client.post(CYCLES, {"template": template.pk, "start": "2026-03-01", "end": "2026-03-31"})
    url = f"{TEMPLATES}{template.pk}/"
    response = client.patch(url, {"period_kind": "quarter"}, format="json")
    assert response.status_code == 400 and "period_kind" in response.data
    template.refresh_from_db()
    assert template.period_kind == "month"


def test_a_cycle_made_before_the_rule_keeps_its_name_and_deadline_editable(world, client_for):
    import datetime as dt

    from tests.appraisals.factories import AppraisalCycleFactory

    template = template_create(world.org)
    legacy = AppraisalCycleFactory(
        template=template, start=dt.date(2026, 3, 5), end=dt.date(2026, 4, 4)
    )
    client = client_for(world.admin)
    url = f"{CYCLES}{legacy.pk}/"
    response = client.patch(url, {"name": "Spring", "review_deadline": "2026-04-10"})
    assert response.status_code == 200, response.data
    response = client.patch(url, {"end": "2026-04-05"})
    assert response.status_code == 400 and "start" in response.data
