"""Nothing a client can send is a 500."""

import pytest

from tests.plans.conftest import P
from tests.plans.factories import BudgetLineFactory, TargetFactory

BAD_VALUES = [None, "", "abc", -1, "1e999", "NaN", [], {}, 10**30, True]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_odd_values_everywhere_are_4xx(world, client_for, plan_2026, value):
    client = client_for(world.admin)
    target = TargetFactory(plan=plan_2026, member=world.agent)
    line = BudgetLineFactory(plan=plan_2026, member=world.agent)
    requests = [
        ("post", f"{P}plans/", {"name": value, "period_kind": value, "start": value, "end": value}),
        ("post", f"{P}targets/", {"plan": value, "parent": value, "value": value}),
        ("patch", f"{P}targets/{target.pk}/", {"value": value, "member": value, "end": value}),
        (
            "post",
            f"{P}targets/{target.pk}/breakdown/",
            {"dimension": "member", "method": "weights", "allocations": [value]},
        ),
        (
            "post",
            f"{P}targets/{target.pk}/breakdown/",
            {
                "dimension": "period",
                "method": "manual",
                "period_unit": value,
                "total": value,
                "allocations": [{"start": value, "value": value, "weight": value}],
            },
        ),
        ("post", f"{P}expenses/", {"budget": line.pk, "amount": value, "date": value}),
        ("patch", f"{P}budgets/{line.pk}/", {"amount": value, "category": value}),
        ("post", f"{P}tasks/", {"plan": plan_2026.pk, "title": value, "owner": value}),
    ]
    for method, url, body in requests:
        response = getattr(client, method)(url, body, format="json")
        assert 400 <= response.status_code < 500, (method, url, body, response.status_code)
    if value is None:
        return  # not expressible in a query string
    for query in ({"plan": value}, {"date": value, "plan": plan_2026.pk}):
        response = client.get(f"{P}attainment/", query)
        assert response.status_code == 400
    assert client.get(f"{P}targets/{target.pk}/progress/", {"date": value}).status_code in (
        200,
        400,
    )
