"""Every notification text, in one place for the translators.

A builder returns `Texts`: the title and body as functions of the recipient (a Membership),
which `notify_many` calls inside `translation.override(<the recipient's language>)` so that
gettext picks the right catalogue and dates come out in that language's format; the link; and
for events the organization's chat group should see, the webhook text (a function without
arguments, called in the organization's language). Datetimes are shown in the organization's
timezone. Links are paths of the REST API (API.md), relative to the server.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

from agents.models import Membership, Organization

# How many names one message lists before "and N more".
NAMES_SHOWN = 20


@dataclass(frozen=True)
class Texts:
    title: Callable[[Membership], str]
    body: Callable[[Membership], str]
    link: str
    webhook: Callable[[], str] | None = None
    # False when title and body do not depend on the recipient: notify_many renders them once
    # per language instead of once per recipient (a reminder round is thousands of members).
    personal: bool = True


def api_path(organization: Organization, path: str) -> str:
    return f"/api/v1/orgs/{organization.slug}/{path}"


def format_date(day: dt.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def format_time(value: dt.time) -> str:
    return formats.time_format(value, "TIME_FORMAT")


def format_datetime(organization: Organization, value: dt.datetime) -> str:
    return formats.date_format(value.astimezone(organization.tzinfo), "DATETIME_FORMAT")


def name_list(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        return _("%(names)s and %(more)s more") % {
            "names": shown,
            "more": len(names) - NAMES_SHOWN,
        }
    return shown


# --- Daily reports --------------------------------------------------------------------------


def daily_report_reminder(
    *, organization: Organization, day: dt.date, missing_names: Sequence[str]
) -> Texts:
    def title(member):
        return _("Daily report reminder")

    def body(member):
        return _(
            "You have not filed your daily report for %(date)s yet. "
            "Please file it before %(cutoff)s."
        ) % {"date": format_date(day), "cutoff": format_time(organization.report_cutoff)}

    def webhook():
        return _(
            "Daily report reminder for %(date)s: %(count)s members have not filed yet: %(names)s"
        ) % {
            "date": format_date(day),
            "count": len(missing_names),
            "names": name_list(missing_names),
        }

    return Texts(
        title, body, api_path(organization, f"me/daily-reports/{day}/"), webhook, personal=False
    )


def daily_report_missing_summary(
    *,
    organization: Organization,
    day: dt.date,
    missing_by_leader: dict[int, list[str]],
    missing_names: Sequence[str],
) -> Texts:
    def title(leader):
        return _("Missing daily reports for %(date)s") % {"date": format_date(day)}

    def body(leader):
        names = missing_by_leader[leader.pk]
        return _(
            "%(count)s members of your team have not filed their daily report for %(date)s: "
            "%(names)s"
        ) % {"count": len(names), "date": format_date(day), "names": name_list(names)}

    def webhook():
        return _(
            "Daily report cut-off for %(date)s: %(count)s members have not filed: %(names)s"
        ) % {
            "date": format_date(day),
            "count": len(missing_names),
            "names": name_list(missing_names),
        }

    link = api_path(organization, f"daily-reports/missing/?date={day}")
    return Texts(title, body, link, webhook)


# --- Market feedback ------------------------------------------------------------------------


def feedback_critical(*, feedback, author_name: str) -> Texts:
    organization = feedback.organization

    def context():
        return {
            "author": author_name,
            "title": feedback.title,
            "respond_by": format_datetime(organization, feedback.respond_by),
        }

    def title(member):
        return _("Critical market feedback: %(title)s") % context()

    def body(member):
        return (
            _("%(author)s reported critical market feedback. Please respond by %(respond_by)s.")
            % context()
        )

    def webhook():
        return (
            _("Critical market feedback from %(author)s: %(title)s (respond by %(respond_by)s)")
            % context()
        )

    return Texts(title, body, api_path(organization, f"feedback/{feedback.pk}/"), webhook)


def feedback_escalated(
    *, feedback, author_name: str, assignee_name: str, new_assignee_id: int | None
) -> Texts:
    organization = feedback.organization

    def context():
        return {
            "author": author_name,
            "assignee": assignee_name,
            "level": feedback.escalation_level,
            "title": feedback.title,
            "respond_by": format_datetime(organization, feedback.respond_by),
        }

    def title(member):
        return _("Market feedback escalated: %(title)s") % context()

    def body(member):
        if member.pk == new_assignee_id:
            return (
                _(
                    "Feedback from %(author)s was not answered in time and is now assigned to you "
                    "(escalation level %(level)s). Please respond by %(respond_by)s."
                )
                % context()
            )
        return (
            _(
                "Feedback from %(author)s was not answered in time and has been escalated to "
                "%(assignee)s (escalation level %(level)s)."
            )
            % context()
        )

    def webhook():
        return (
            _("Market feedback escalated to %(assignee)s (level %(level)s): %(title)s") % context()
        )

    return Texts(title, body, api_path(organization, f"feedback/{feedback.pk}/"), webhook)


# --- Plan tasks -----------------------------------------------------------------------------


def plan_task_reminder(*, organization: Organization, task, overdue: bool) -> Texts:
    def title(owner):
        if overdue:
            return _("Task overdue: %(title)s") % {"title": task.title}
        return _("Task due soon: %(title)s") % {"title": task.title}

    def body(owner):
        due = format_datetime(organization, task.due_at)
        if overdue:
            return _("Your task was due at %(due)s and is not done yet.") % {"due": due}
        return _("Your task is due at %(due)s.") % {"due": due}

    return Texts(title, body, api_path(organization, f"tasks/{task.pk}/"))


# --- Appraisals -----------------------------------------------------------------------------


def appraisal_reviews_due(
    *, organization: Organization, cycle, pending_by_reviewer: dict[int, int]
) -> Texts:
    def title(reviewer):
        return _("Appraisal reviews pending")

    def body(reviewer):
        deadline = cycle.review_deadline
        return _(
            "You have %(count)s appraisals to review in %(cycle)s; the review deadline is "
            "%(deadline)s."
        ) % {
            "count": pending_by_reviewer[reviewer.pk],
            "cycle": str(cycle),
            "deadline": format_date(deadline) if deadline else "-",
        }

    return Texts(title, body, api_path(organization, f"appraisals/?cycle={cycle.pk}"))
