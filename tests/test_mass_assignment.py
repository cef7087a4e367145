"""Mass assignment: serializers name their fields, and what a client may not set is ignored."""

import importlib
import inspect

import pytest
from rest_framework import serializers

from agents.models import Product
from reports.models import FeedbackComment
from tests.agents.factories import ProductFactory

APPS = ["agents", "reports", "plans", "appraisals", "notifications"]


def _model_serializers():
    for app in APPS:
        module = importlib.import_module(f"{app}.api.serializers")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.ModelSerializer) and cls.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", cls


def test_the_scan_finds_the_serializers():
    assert len(list(_model_serializers())) > 20


@pytest.mark.parametrize("name, cls", list(_model_serializers()), ids=lambda v: str(v))
def test_no_serializer_takes_all_fields_or_excludes(name, cls):
    meta = getattr(cls, "Meta", None)
    assert meta is not None, f"{name} has no Meta"
    assert not hasattr(meta, "exclude"), f"{name} uses Meta.exclude: list the fields"
    assert getattr(meta, "fields", None) != serializers.ALL_FIELDS, f"{name} uses '__all__'"


# --- read-only fields sent in a body are ignored ---------------------------------------------


@pytest.mark.django_db
def test_product_create_ignores_id_and_organization(client_for, world):
    taken = ProductFactory(organization=world.rival, sku="R-1")
    response = client_for(world.admin).post(
        "/api/v1/orgs/acme/products/",
        {
            "id": taken.pk,
            "organization": world.rival.pk,
            "sku": "NEW-1",
            "name": "New",
            "price": "10.00",
            "cost": "5.00",
        },
    )
    assert response.status_code == 201, response.data
    created = Product.objects.get(pk=response.data["id"])
    assert created.pk != taken.pk and created.organization == world.org
    taken.refresh_from_db()
    assert taken.sku == "R-1" and taken.organization == world.rival


@pytest.mark.django_db
def test_member_patch_ignores_read_only_fields(client_for, world):
    before = {"path": world.agent.path, "joined_on": world.agent.joined_on}
    response = client_for(world.admin).patch(
        f"/api/v1/orgs/acme/members/{world.agent.pk}/",
        {"id": 999999, "organization": world.rival.pk, "path": "x", "display_name": "Renamed"},
    )
    assert response.status_code == 200, response.data
    world.agent.refresh_from_db()
    assert world.agent.pk != 999999 and world.agent.organization == world.org
    assert world.agent.path == before["path"]


@pytest.mark.django_db
def test_feedback_comment_ignores_author_and_created_at(client_for, world):
    client = client_for(world.agent)
    feedback = client.post(
        "/api/v1/orgs/acme/feedback/",
        {"category": "trend", "title": "T", "body": "B", "author": world.admin.pk},
    )
    assert feedback.status_code == 201, feedback.data
    assert feedback.data["author"] == world.agent.pk
    comment = client.post(
        f"/api/v1/orgs/acme/feedback/{feedback.data['id']}/comments/",
        {"body": "hi", "author": world.admin.pk, "created_at": "2000-01-01T00:00:00Z"},
    )
    assert comment.status_code == 201, comment.data
    stored = FeedbackComment.objects.get(pk=comment.data["id"])
    assert stored.author == world.agent and stored.created_at.year != 2000
