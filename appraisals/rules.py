"""Rules a template's criteria and a cycle's period must keep, shared by the API's serializers
(for the error's shape) and the services (for every caller).

Cycle periods: a template appraises by calendar period (its `period_kind`: month, quarter,
half-year or year), and a cycle of it covers exactly one such period, from its first to its last
day: a monthly template's cycle is one calendar month, never two or a fortnight. There is no
custom period kind: a template that wants another rhythm picks the kind that fits."""

import datetime as dt
from calendar import monthrange
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import AppraisalTemplate, PeriodKind

_MONTHS = {
    PeriodKind.MONTH: 1,
    PeriodKind.QUARTER: 3,
    PeriodKind.HALF_YEAR: 6,
    PeriodKind.YEAR: 12,
}


def calendar_period(period_kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar period of this kind that contains `day`: (first day, last day)."""
    months = _MONTHS[PeriodKind(period_kind)]
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return (
        dt.date(day.year, first_month, 1),
        dt.date(day.year, last_month, monthrange(day.year, last_month)[1]),
    )


def cycle_period_errors(*, period_kind: str, start: dt.date, end: dt.date) -> dict:
    """Field -> message when [start, end] is not one whole calendar period of the kind."""
    first, last = calendar_period(period_kind, start)
    kind = str(PeriodKind(period_kind).label).lower()
    if start != first:
        return {
            "start": _(
                "This template appraises by %(kind)s: a cycle starts on the first day of one, "
                "like %(first)s."
            )
            % {"kind": kind, "first": first.isoformat()}
        }
    if end != last:
        return {
            "end": _(
                "This template appraises by %(kind)s: a cycle starting on %(start)s ends on "
                "%(last)s."
            )
            % {"kind": kind, "start": start.isoformat(), "last": last.isoformat()}
        }
    return {}


def cycle_period_check(*, period_kind: str, start: dt.date, end: dt.date) -> None:
    errors = cycle_period_errors(period_kind=period_kind, start=start, end=end)
    if errors:
        raise ValidationError(errors)


def criteria_id_errors(*, template: AppraisalTemplate, items: Iterable[dict]) -> dict[int, str]:
    """Position (from 0) -> message for the items whose `id` is not one of the template's
    criteria, or repeats an id listed before: an id names a criterion to change, it never
    adds one (leave it out to add). One query."""
    known = set(template.criteria.values_list("pk", flat=True))
    errors, seen = {}, set()
    for position, item in enumerate(items):
        pk = item.get("id")
        if pk is None:
            continue
        if pk not in known:
            errors[position] = _(
                "%(id)s is not a criterion of this template; leave the id out to add a criterion."
            ) % {"id": pk}
        elif pk in seen:
            errors[position] = _("Criterion %(id)s is listed twice.") % {"id": pk}
        seen.add(pk)
    return errors


def criteria_ids_check(*, template: AppraisalTemplate, items: list[dict]) -> None:
    """criteria_id_errors as a ValidationError on `criteria`, each message with the item's
    index (from 0, as in the request's list)."""
    errors = criteria_id_errors(template=template, items=items)
    if errors:
        raise ValidationError(
            {
                "criteria": [
                    f"criteria[{position}].id: {message}"
                    for position, message in sorted(errors.items())
                ]
            }
        )


def draft_cycles_fit_check(*, template: AppraisalTemplate, period_kind: str) -> None:
    """A template's period kind may change while its cycles are drafts (an opened one makes it
    fixed: 409 in the service), but only if each draft still covers one period of the new
    kind: a 400 on `period_kind` otherwise. One query."""
    for start, end in template.cycles.values_list("start", "end"):
        if cycle_period_errors(period_kind=period_kind, start=start, end=end):
            raise ValidationError(
                {
                    "period_kind": _(
                        "A draft cycle of this template (%(start)s to %(end)s) does not cover "
                        "one period of this kind: change or delete it first."
                    )
                    % {"start": start.isoformat(), "end": end.isoformat()}
                }
            )
