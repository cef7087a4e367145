"""Whatever a client sends, the answer is a 4xx, never a 500."""

import pytest

from tests.appraisals.factories import cycle_open

pytestmark = pytest.mark.django_db
P = "/api/v1/orgs/acme/"

BAD_TEMPLATES = [
    {"criteria": "x", "grades": "y"},
    {"name": "a", "criteria": [1, 2], "grades": [None]},
    {
        "name": "a",
        "criteria": [
            {
                "name": "s",
                "kind": "quantitative",
                "metric": "sales_amount",
                "weight": "100",
                "method": "bands",
                "params": {"bands": [[True, 5]]},
            }
        ],
        "grades": [{"grade": "A", "min_score": "0", "outcome": "retain"}],
    },
    {
        "name": "a",
        "criteria": [
            {
                "name": "s",
                "kind": "quantitative",
                "metric": "sales_amount",
                "weight": "100",
                "method": "linear",
                "params": {"floor": "1e400", "ceiling": "inf"},
            }
        ],
        "grades": [{"grade": "A", "min_score": "0", "outcome": "retain"}],
    },
    {
        "name": "a",
        "criteria": [
            {
                "name": "s",
                "kind": "quantitative",
                "metric": None,
                "weight": "100",
                "method": "ratio_to_target",
                "params": None,
            }
        ],
        "grades": [{"grade": "A", "min_score": "0", "outcome": "retain"}],
        "rules": [{"if": {"grade": {"x": 1}, "min_total": []}, "then": ["x"]}],
    },
    {"name": "a", "eligibility": "all", "criteria": [], "grades": []},
    {
        "name": "a",
        "criteria": [
            {
                "name": "s",
                "kind": "qualitative",
                "weight": "100",
                "method": "scale",
                "params": {"levels": 5, "descriptions": ["a"]},
            }
        ],
        "grades": [{"grade": "A", "min_score": "0", "outcome": "retain"}],
        "rules": [
            {"if": {"grade": "A", "consecutive": "2"}, "then": "warn", "cooldown_cycles": 99}
        ],
    },
]


@pytest.mark.parametrize("body", BAD_TEMPLATES)
def test_bad_templates_are_400(world, client_for, body):
    response = client_for(world.admin).post(f"{P}appraisal-templates/", body, format="json")
    assert response.status_code == 400, response.data


def test_huge_json_numbers_are_400(world, client_for):
    raw = (
        '{"name": "a", "criteria": [{"name": "s", "kind": "quantitative", "metric": '
        '"sales_amount", "weight": "100", "method": "linear", "params": {"floor": 1e400, '
        '"ceiling": 2}}], "grades": [{"grade": "A", "min_score": "0", "outcome": "retain"}]}'
    )
    response = client_for(world.admin).post(
        f"{P}appraisal-templates/", raw, content_type="application/json"
    )
    assert response.status_code == 400, response.data


def test_bad_reviews_and_queries(world, template, client_for):
    cycle = cycle_open(template)
    appraisal = cycle.appraisals.get(member=world.agent)
    client = client_for(world.admin)
    for body in (
        {"scores": [{"criterion": "abc", "score": 1}]},
        {"scores": [None]},
        {"scores": [{"criterion": 1, "score": 10**30}]},
        [],
        "x",
    ):
        response = client.post(f"{P}appraisals/{appraisal.pk}/review/", body, format="json")
        assert response.status_code == 400, (body, response.data)
    for url in (
        "appraisals/history/?template=x",
        "appraisals/?member=x",
        "appraisals/?reviewed=maybe",
        f"appraisal-cycles/{cycle.pk}/rollup/",
        "appraisal-cycles/?status=x",
        "appraisals/abc/",
        f"appraisal-cycles/{cycle.pk}/leaderboard/?page=99",
    ):
        response = client.get(f"{P}{url}")
        assert response.status_code in (200, 400, 404), (url, response.status_code)
    response = client.post(
        f"{P}appraisal-cycles/{cycle.pk}/finalize/", {"force": "maybe"}, format="json"
    )
    assert response.status_code == 400
    response = client.post(
        f"{P}appraisal-cycles/", {"template": "x", "start": "2026-13-01"}, format="json"
    )
    assert response.status_code == 400
    response = client.patch(f"{P}appraisal-cycles/{cycle.pk}/", {"template": 10**20}, format="json")
    assert response.status_code in (400, 409)
