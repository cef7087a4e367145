import datetime as dt

import pytest
from django.utils import timezone

from agents.models import MemberStatus
from reports import services
from reports.models import FeedbackComment, FeedbackStatus, MarketFeedback
from tests.agents.factories import MembershipFactory, ProductFactory, RegionFactory
from tests.reports.factories import FeedbackCommentFactory, MarketFeedbackFactory

pytestmark = pytest.mark.django_db

FEEDBACK = "/api/v1/orgs/acme/feedback/"


def file(client, **overrides):
    body = {"category": "competitor", "title": "Rival cut prices by 20%", "body": "In Pudong."}
    body.update(overrides)
    return client.post(FEEDBACK, body)


# --- Filing ---------------------------------------------------------------------------------


def test_filing_assigns_the_nearest_upline_with_a_deadline(client_for, world):
    before = timezone.now()
    response = file(client_for(world.agent), urgency="high")
    assert response.status_code == 201, response.data
    data = response.data
    assert (data["author"], data["assignee"], data["status"]) == (
        world.agent.pk,
        world.leader.pk,
        "open",
    )
    assert data["escalation_level"] == 0
    assert data["region"] == world.agent.region_id
    respond_by = MarketFeedback.objects.get().respond_by
    assert before + dt.timedelta(hours=24) <= respond_by <= timezone.now() + dt.timedelta(hours=24)


def test_a_suspended_upline_is_skipped(client_for, world):
    world.agent.status = MemberStatus.SUSPENDED
    world.agent.save()
    response = file(client_for(world.sub_agent))
    assert response.data["assignee"] == world.leader.pk


def test_without_an_upline_an_admin_then_an_owner_is_assigned(client_for, world):
    assert file(client_for(world.leader)).data["assignee"] == world.admin.pk
    world.admin.status = MemberStatus.SUSPENDED
    world.admin.save()
    assert file(client_for(world.leader)).data["assignee"] == world.owner.pk


@pytest.mark.parametrize(
    "urgency,hours", [("critical", 2), ("high", 24), ("normal", 72), ("low", 168)]
)
def test_the_deadline_follows_the_urgency(world, urgency, hours):
    feedback = services.feedback_create(
        organization=world.org,
        actor=world.agent,
        data={"category": "trend", "title": "t", "urgency": urgency},
    )
    assert feedback.respond_by - feedback.created_at == pytest.approx(
        dt.timedelta(hours=hours), abs=dt.timedelta(seconds=5)
    )


def test_the_organization_policy_sets_the_deadlines(world):
    world.org.policies = {"feedback_response_hours": {"critical": 1, "low": "bad"}}
    world.org.save()
    critical = services.feedback_create(
        organization=world.org,
        actor=world.agent,
        data={"category": "trend", "title": "t", "urgency": "critical"},
    )
    low = services.feedback_create(
        organization=world.org,
        actor=world.agent,
        data={"category": "trend", "title": "t", "urgency": "low"},
    )
    assert critical.respond_by - critical.created_at < dt.timedelta(hours=1, seconds=5)
    assert low.respond_by - low.created_at > dt.timedelta(hours=167)  # a bad policy: default


@pytest.mark.parametrize(
    "field,overrides",
    [
        ("category", {"category": "gossip"}),
        ("urgency", {"urgency": "whenever"}),
        ("title", {"title": ""}),
        ("title", {"title": "x" * 201}),
        ("product", "foreign_product"),
        ("region", "foreign_region"),
    ],
)
def test_bad_feedback_is_400(client_for, world, field, overrides):
    if overrides == "foreign_product":
        overrides = {"product": ProductFactory(organization=world.rival).pk}
    elif overrides == "foreign_region":
        overrides = {"region": RegionFactory(organization=world.rival).pk}
    response = file(client_for(world.agent), **overrides)
    assert response.status_code == 400, response.data
    assert field in response.data
    assert MarketFeedback.objects.count() == 0


def test_a_huge_body_is_413(client_for, world):
    response = client_for(world.agent).post(
        FEEDBACK,
        {"category": "trend", "title": "t", "body": "x" * (3 * 1024 * 1024)},
        format="json",
    )
    assert response.status_code == 413
    assert MarketFeedback.objects.count() == 0


# --- Editing and handling -------------------------------------------------------------------


def test_the_author_edits_while_open(client_for, world):
    feedback = MarketFeedbackFactory(organization=world.org, author=world.agent)
    url = f"{FEEDBACK}{feedback.pk}/"
    response = client_for(world.agent).patch(
        url, {"title": "Rival cut prices by 30%", "urgency": "critical"}
    )
    assert response.status_code == 200, response.data
    feedback.refresh_from_db()
    assert feedback.title == "Rival cut prices by 30%"
    assert feedback.respond_by - feedback.created_at < dt.timedelta(hours=2, seconds=5)
    assert client_for(world.leader).patch(url, {"title": "mine now"}).status_code == 403
    client_for(world.leader).post(f"{url}acknowledge/")
    assert client_for(world.agent).patch(url, {"title": "again"}).status_code == 409


def test_acknowledge_and_resolve(client_for, world):
    feedback = MarketFeedbackFactory(organization=world.org, author=world.agent)
    url = f"{FEEDBACK}{feedback.pk}/"
    assert client_for(world.agent).post(f"{url}acknowledge/").status_code == 403
    response = client_for(world.leader).post(f"{url}acknowledge/")
    assert response.status_code == 200
    assert response.data["status"] == "acknowledged"
    assert response.data["acknowledged_by"] == world.leader.pk
    assert client_for(world.leader).post(f"{url}acknowledge/").status_code == 409
    assert client_for(world.leader).post(f"{url}resolve/", {"resolution": " "}).status_code == 400
    assert client_for(world.leader).post(f"{url}resolve/", {}).status_code == 400
    response = client_for(world.leader).post(f"{url}resolve/", {"resolution": "Matched it."})
    assert response.status_code == 200
    assert (response.data["status"], response.data["resolution"]) == ("resolved", "Matched it.")
    assert response.data["resolved_by"] == world.leader.pk
    assert client_for(world.admin).post(f"{url}resolve/", {"resolution": "x"}).status_code == 409


def test_anyone_above_the_author_handles_it(client_for, world):
    feedback = MarketFeedbackFactory(organization=world.org, author=world.sub_agent)
    assert feedback.assignee == world.agent
    url = f"{FEEDBACK}{feedback.pk}/"
    assert client_for(world.leader).post(f"{url}acknowledge/").status_code == 200
    other = MarketFeedbackFactory(organization=world.org, author=world.sub_agent)
    assert (
        client_for(world.agent)
        .post(f"{FEEDBACK}{other.pk}/resolve/", {"resolution": "ok"})
        .status_code
        == 200
    )
    # The author is not above themselves: a missing power comes before the state.
    assert client_for(world.sub_agent).post(f"{FEEDBACK}{other.pk}/acknowledge/").status_code == 403


# --- Escalation -----------------------------------------------------------------------------


def test_escalation_climbs_one_level_at_a_time_and_is_idempotent(world):
    feedback = MarketFeedbackFactory(organization=world.org, author=world.sub_agent)
    assert feedback.assignee == world.agent

    def escalate(level):
        done = services.feedback_escalate(
            organization=world.org, feedback=feedback, from_level=level
        )
        feedback.refresh_from_db()
        return done

    assert escalate(0) is True
    assert (feedback.assignee, feedback.escalation_level) == (world.leader, 1)
    assert feedback.respond_by > timezone.now() + dt.timedelta(hours=71)
    assert escalate(0) is False  # a retry of the same step
    assert feedback.escalation_level == 1
    assert escalate(1) is True
    assert (feedback.assignee, feedback.escalation_level) == (world.admin, 2)
    assert escalate(2) is True
    assert (feedback.assignee, feedback.escalation_level) == (world.owner, 3)
    assert escalate(3) is False  # the top
    assert feedback.escalation_level == 3


def test_escalation_skips_suspended_uplines_and_stops_when_handled(world):
    boss = MembershipFactory(organization=world.org, role="leader")
    world.leader.upline = boss
    world.leader.save()
    from agents.services import tree_subtree_move

    tree_subtree_move(node=world.leader, new_parent=boss, field="upline", error_field="upline")
    feedback = MarketFeedbackFactory(organization=world.org, author=world.sub_agent)
    world.leader.status = MemberStatus.SUSPENDED
    world.leader.save()
    assert services.feedback_escalate(organization=world.org, feedback=feedback) is True
    feedback.refresh_from_db()
    assert feedback.assignee == boss
    services.feedback_acknowledge(organization=world.org, actor=boss, feedback=feedback)
    assert services.feedback_escalate(organization=world.org, feedback=feedback) is False


def test_overdue_feedback_is_selected_for_escalation(world):
    from reports.selectors import feedback_overdue

    late = MarketFeedbackFactory(
        organization=world.org,
        author=world.agent,
        respond_by=timezone.now() - dt.timedelta(hours=1),
    )
    MarketFeedbackFactory(organization=world.org, author=world.agent)
    assert list(feedback_overdue(organization=world.org, now=timezone.now())) == [late]


# --- Visibility, comments, lists ------------------------------------------------------------


def _ids(response):
    assert response.status_code == 200, response.data
    return {row["id"] for row in response.data["results"]}


def test_scope_is_the_subtree_plus_what_is_assigned(client_for, world):
    own = MarketFeedbackFactory(organization=world.org, author=world.agent)
    below = MarketFeedbackFactory(organization=world.org, author=world.sub_agent)
    other = MarketFeedbackFactory(organization=world.org, author=world.other_agent)
    handed_over = MarketFeedbackFactory(
        organization=world.org, author=world.other_agent, assignee=world.leader
    )
    assert _ids(client_for(world.leader).get(FEEDBACK)) == {own.pk, below.pk, handed_over.pk}
    assert _ids(client_for(world.sub_agent).get(FEEDBACK)) == {below.pk}
    assert _ids(client_for(world.other_leader).get(FEEDBACK)) == {other.pk, handed_over.pk}
    assert len(_ids(client_for(world.owner).get(FEEDBACK))) == 4


def test_comments(client_for, world):
    feedback = MarketFeedbackFactory(organization=world.org, author=world.agent)
    url = f"{FEEDBACK}{feedback.pk}/comments/"
    response = client_for(world.leader).post(url, {"body": "Which shops?"})
    assert response.status_code == 201
    assert response.data["author"] == world.leader.pk
    assert client_for(world.agent).post(url, {"body": "Three in Pudong."}).status_code == 201
    assert client_for(world.agent).post(url, {"body": ""}).status_code == 400
    listed = client_for(world.agent).get(url)
    assert [row["body"] for row in listed.data["results"]] == ["Which shops?", "Three in Pudong."]
    assert client_for(world.other_agent).get(url).status_code == 404
    assert FeedbackComment.objects.filter(organization=world.org).count() == 2


@pytest.fixture
def items(world):
    pudong = RegionFactory(organization=world.org, name="Pudong", parent=world.agent.region)
    serum = ProductFactory(organization=world.org)
    make = MarketFeedbackFactory
    created = {
        "price": make(
            organization=world.org, author=world.agent, competitor="Brand X Ltd", product=serum
        ),
        "need": make(
            organization=world.org,
            author=world.sub_agent,
            category="consumer_need",
            urgency="critical",
            title="Refill packs wanted",
            region=pudong,
        ),
        "old": make(
            organization=world.org,
            author=world.agent,
            category="problem",
            status=FeedbackStatus.RESOLVED,
        ),
        "west": make(
            organization=world.org, author=world.other_agent, region=world.other_agent.region
        ),
    }
    MarketFeedback.objects.filter(pk=created["old"].pk).update(
        created_at=dt.datetime(2026, 1, 7, 12, tzinfo=dt.UTC)  # ISO week 2026-W02
    )
    return created, pudong, serum


@pytest.mark.parametrize(
    "query,expected",
    [
        ("category=consumer_need", {"need"}),
        ("urgency=critical", {"need"}),
        ("status=resolved", {"old"}),
        ("competitor=brand x", {"price"}),
        ("product={serum}", {"price"}),
        ("region={east}", {"need"}),  # with the sub-region Pudong
        ("region={pudong}", {"need"}),
        ("week=2026-W02", {"old"}),
        ("week=2026W02", {"old"}),
        ("created_before=2026-01-07", {"old"}),
        ("created_after=2026-01-08", {"price", "need", "west"}),
        ("author={sub_agent}", {"need"}),
        ("assignee={agent}", {"need"}),
        ("search=refill", {"need"}),
        ("subtree_of={agent}", {"price", "need", "old"}),
    ],
)
def test_feedback_filters(client_for, world, items, query, expected):
    created, pudong, serum = items
    query = query.format(
        serum=serum.pk,
        east=world.agent.region_id,
        pudong=pudong.pk,
        sub_agent=world.sub_agent.pk,
        agent=world.agent.pk,
    )
    response = client_for(world.admin).get(f"{FEEDBACK}?{query}")
    assert _ids(response) == {created[name].pk for name in expected}


@pytest.mark.parametrize("week", ["2026-W54", "last week", "2026-48", "9999-W52"])
def test_a_bad_week_is_400(client_for, world, week):
    response = client_for(world.admin).get(f"{FEEDBACK}?week={week}")
    assert response.status_code == 400
    assert "week" in response.data


@pytest.mark.parametrize("query", ["created_before=9999-12-31", "created_after=0001-01-01"])
def test_dates_out_of_range_are_400(client_for, world, query):
    response = client_for(world.admin).get(f"{FEEDBACK}?{query}")
    assert response.status_code == 400


def test_feedback_list_query_counts_are_constant(client_for, world, query_counts):
    MarketFeedbackFactory.create_batch(100, organization=world.org, author=world.agent)
    counts = query_counts(client_for(world.leader), FEEDBACK)
    assert counts[0] == counts[1]
    feedback = MarketFeedback.objects.first()
    FeedbackCommentFactory.create_batch(100, feedback=feedback, author=world.leader)
    counts = query_counts(client_for(world.leader), f"{FEEDBACK}{feedback.pk}/comments/")
    assert counts[0] == counts[1]


def test_critical_feedback_alerts_the_assignee_and_admins_at_once(client_for, world):
    from notifications.models import Notification

    response = file(client_for(world.agent), urgency="critical", title="竞品降价 30%")
    assert response.status_code == 201, response.data
    recipients = set(
        Notification.objects.filter(organization=world.org).values_list("recipient", flat=True)
    )
    assert recipients == {world.leader.pk, world.admin.pk, world.owner.pk}
    inbox = client_for(world.leader).get("/api/v1/orgs/acme/me/notifications/")
    assert inbox.data["count"] == 1


def test_normal_feedback_alerts_nobody_until_its_deadline(client_for, world):
    from notifications.models import Notification

    assert file(client_for(world.agent), urgency="normal").status_code == 201
    assert not Notification.objects.filter(organization=world.org).exists()
