"""Texts that do not depend on the recipient are rendered once per language, not once per
recipient; every recipient still gets their language, and only the rows inserted now get an
e-mail (issue 7: a reminder round is thousands of members)."""

import datetime as dt

import pytest
from django.utils.translation import gettext as _

from notifications import services
from notifications.models import Channel, Delivery, Notification, NotificationKind
from reports.tasks import daily_report_reminders_send
from tests.agents.factories import MembershipFactory

pytestmark = pytest.mark.django_db


class Counting:
    def __init__(self):
        self.calls = 0

    def __call__(self, member):
        self.calls += 1
        return _("Daily report reminder")


def notify(world, recipients, title, *, personal):
    return services.notify_many(
        organization=world.org,
        recipients=recipients,
        kind=NotificationKind.DAILY_REPORT_REMINDER,
        title=title,
        body="",
        dedupe_key_for=lambda member: f"render-test:{member.pk}",
        personal=personal,
    )


def test_impersonal_texts_are_rendered_once_per_language(world):
    world.org.language = "zh-hans"
    world.org.save()
    english = MembershipFactory.create_batch(3, organization=world.org, user__language="en")
    chinese = MembershipFactory.create_batch(4, organization=world.org, user__language="")
    title = Counting()
    assert notify(world, english + chinese, title, personal=False) == 7
    assert title.calls == 2  # one per language
    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    assert {titles[member.pk] for member in english} == {"Daily report reminder"}
    assert {titles[member.pk] for member in chinese} == {"日报提醒"}


def test_personal_texts_are_rendered_per_recipient(world):
    members = MembershipFactory.create_batch(3, organization=world.org)
    title = Counting()
    assert notify(world, members, title, personal=True) == 3
    assert title.calls == 3


def test_only_the_rows_inserted_now_get_an_email(world):
    first = MembershipFactory.create_batch(2, organization=world.org)
    assert notify(world, first, Counting(), personal=False) == 2
    later = MembershipFactory.create_batch(2, organization=world.org, user__email="")
    more = MembershipFactory(organization=world.org)
    assert notify(world, [*first, *later, more], Counting(), personal=False) == 3
    mailed = set(
        Delivery.objects.filter(channel=Channel.EMAIL).values_list(
            "notification__recipient_id", flat=True
        )
    )
    assert mailed == {first[0].pk, first[1].pk, more.pk}  # no address: no e-mail
    assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 3


def test_the_reminder_round_reaches_each_missing_member_in_their_language(world):
    world.org.language = "zh-hans"
    world.org.save()
    world.agent.user.language = "en"
    world.agent.user.save()
    day = dt.date(2026, 3, 10)  # a Tuesday
    created = daily_report_reminders_send(organization=world.org, local_date=day)
    rows = {row.recipient_id: row for row in Notification.objects.all()}
    assert created == len(rows) > 1
    assert rows[world.agent.pk].title == "Daily report reminder"
    assert rows[world.sub_agent.pk].title == "日报提醒"
    assert "2026" in rows[world.sub_agent.pk].body
