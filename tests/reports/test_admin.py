import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.models import Activity, DailyReport, MarketFeedback, SalesEntry
from tests.agents.factories import MembershipFactory, UserFactory
from tests.reports.factories import (
    ActivityFactory,
    DailyReportFactory,
    FeedbackCommentFactory,
    MarketFeedbackFactory,
    SalesEntryFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [DailyReport, SalesEntry, Activity, MarketFeedback]


def url(model, view, *args):
    return reverse(f"admin:reports_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def facts(world):
    long_ago = timezone.now() - dt.timedelta(days=5)
    report = DailyReportFactory(
        organization=world.org,
        member=world.agent,
        date=world.org.local_today() - dt.timedelta(days=5),
        submitted_at=long_ago,
    )
    SalesEntryFactory(organization=world.org, member=world.agent, daily_report=report)
    SalesEntryFactory(organization=world.rival, member=world.outsider)
    ActivityFactory(organization=world.org, member=world.agent)
    feedback = MarketFeedbackFactory(organization=world.org, author=world.agent)
    FeedbackCommentFactory(feedback=feedback, author=world.leader)
    MarketFeedbackFactory(organization=world.rival, author=world.outsider)
    return report, feedback


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def owner_client(client, world):
    world.owner.user.is_staff = True
    world.owner.user.save(update_fields=["is_staff"])
    client.force_login(world.owner.user)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.model_name)
def test_pages_render_read_only(superuser_client, owner_client, world, facts, model):
    for client in (superuser_client, owner_client):
        assert client.get(url(model, "changelist")).status_code == 200
        assert client.get(url(model, "changelist") + "?q=a").status_code == 200
        row = model.objects.filter(organization=world.org).first()
        response = client.get(url(model, "change", row.pk))
        assert response.status_code == 200
        assert not response.context["has_change_permission"]
        assert client.get(url(model, "add")).status_code == 403


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.model_name)
def test_staff_see_only_their_organization(owner_client, world, facts, model):
    response = owner_client.get(url(model, "changelist"))
    assert {row.organization_id for row in response.context["cl"].result_list} == {world.org.pk}
    foreign = model.objects.exclude(organization=world.org).first()
    if foreign is not None:
        assert owner_client.get(url(model, "change", foreign.pk)).status_code == 302


def test_the_unlock_action_uses_the_service(owner_client, world, facts):
    report, _ = facts
    response = owner_client.post(
        url(DailyReport, "changelist"),
        {"action": "unlock", "_selected_action": [report.pk]},
        follow=True,
    )
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.unlocked_by == world.owner


def test_the_escalate_action_uses_the_service(superuser_client, world, facts):
    _, feedback = facts
    superuser_client.post(
        url(MarketFeedback, "changelist"),
        {"action": "escalate", "_selected_action": [feedback.pk]},
    )
    feedback.refresh_from_db()
    assert (feedback.escalation_level, feedback.assignee) == (1, world.admin)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.model_name)
def test_changelist_queries_do_not_grow_with_rows(superuser_client, world, facts, model):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert superuser_client.get(url(model, "changelist")).status_code == 200
        return len(queries)

    def add_rows():
        for _ in range(5):
            member = MembershipFactory(
                organization=world.org, upline=world.other_leader, region=world.other_agent.region
            )
            SalesEntryFactory(organization=world.org, member=member)
            ActivityFactory(organization=world.org, member=member)
            MarketFeedbackFactory(organization=world.org, author=member)
            DailyReportFactory(organization=world.org, member=member)

    few = count()
    add_rows()
    assert count() == few
