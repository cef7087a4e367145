import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/orgs/acme/me/notifications/"


def test_inbox_lists_only_the_callers_own_notifications_newest_first(client_for, world):
    older = NotificationFactory(recipient=world.agent)
    newer = NotificationFactory(recipient=world.agent)
    Notification.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )
    NotificationFactory(recipient=world.leader)  # the agent's leader's: not the agent's
    NotificationFactory(recipient=world.outsider)

    response = client_for(world.agent).get(INBOX)

    assert response.status_code == 200
    assert [row["id"] for row in response.data["results"]] == [newer.pk, older.pk]
    assert set(response.data["results"][0]) == {
        "id",
        "kind",
        "title",
        "body",
        "link",
        "created_at",
        "read_at",
    }


def test_an_owner_sees_only_their_own_inbox_too(client_for, world):
    NotificationFactory(recipient=world.agent)
    response = client_for(world.owner).get(INBOX)
    assert response.data["count"] == 0


def test_unread_filter(client_for, world):
    unread = NotificationFactory(recipient=world.agent)
    read = NotificationFactory(recipient=world.agent, read_at=timezone.now())
    client = client_for(world.agent)

    assert [row["id"] for row in client.get(f"{INBOX}?unread=true").data["results"]] == [unread.pk]
    assert [row["id"] for row in client.get(f"{INBOX}?unread=false").data["results"]] == [read.pk]


def test_marking_read_is_idempotent_and_keeps_the_first_read_time(client_for, world):
    notification = NotificationFactory(recipient=world.agent)
    client = client_for(world.agent)

    first = client.post(f"{INBOX}{notification.pk}/read/")
    second = client.post(f"{INBOX}{notification.pk}/read/")

    assert first.status_code == second.status_code == 200
    assert first.data["read_at"] is not None
    assert second.data["read_at"] == first.data["read_at"]


def test_another_members_notification_is_404_even_for_an_owner(client_for, world):
    notification = NotificationFactory(recipient=world.agent)
    response = client_for(world.owner).post(f"{INBOX}{notification.pk}/read/")
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_read_all_marks_only_the_callers_unread_notifications(client_for, world):
    mine = NotificationFactory.create_batch(3, recipient=world.agent)
    theirs = NotificationFactory(recipient=world.leader)

    response = client_for(world.agent).post(f"{INBOX}read-all/")

    assert response.status_code == 200
    assert response.data == {"updated": 3}
    assert all(n.read_at for n in Notification.objects.filter(pk__in=[n.pk for n in mine]))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_inbox_costs_the_same_number_of_queries_whatever_the_page_size(client_for, world):
    NotificationFactory.create_batch(60, recipient=world.agent)
    client = client_for(world.agent)
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{INBOX}?page_size={size}")
        assert len(response.data["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_malformed_id_is_404(client_for, world):
    assert client_for(world.agent).post(f"{INBOX}abc/read/").status_code == 404
