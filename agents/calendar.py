"""The working calendar of an organization: working weekdays, minus holidays, plus make-up
working days. Statutory days come from chinesecalendar (kept current by its maintainers) and are
copied into CalendarDay rows, which the organization may edit."""

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterator

import chinese_calendar
from django.db import connection

from .models import CalendarDay, Organization


def iter_dates(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from start to end, both included."""
    for offset in range((end - start).days + 1):
        yield start + dt.timedelta(days=offset)


# Written out: this lookup runs for every progress answer, dashboard and compliance figure, and
# building the ORM query took longer than running it (issue 7, bench/README.md).
_EXCEPTIONS_SQL = (
    f"SELECT date, is_workday FROM {CalendarDay._meta.db_table} "  # noqa: S608 - the model's table
    "WHERE organization_id = %s AND date >= %s AND date <= %s"
)


# What calendar_exceptions read, by (organization, its calendar token, start, end). The token is
# renewed by every write of the organization's calendar days (agents.models.calendar_changed) and
# read with the organization, so an entry is never used after the calendar changed, in this
# process or another. The least recently used go beyond _CACHE_SIZE ranges.
_CACHE: OrderedDict[tuple, dict[dt.date, bool]] = OrderedDict()
_CACHE_SIZE = 1024
_CACHE_LOCK = threading.Lock()


def calendar_exceptions(
    *, organization: Organization, start: dt.date, end: dt.date
) -> dict[dt.date, bool]:
    """The organization's exceptions in a range: date -> is it a working day. One query, none
    when this process has read the range since the organization's calendar last changed."""
    key = (organization.pk, organization.calendar_token, start, end)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return dict(cached)
    with connection.cursor() as cursor:
        cursor.execute(_EXCEPTIONS_SQL, [organization.pk, start, end])
        rows = cursor.fetchall()
    # SQLite answers dates as text and booleans as integers.
    exceptions = {
        day if isinstance(day, dt.date) else dt.date.fromisoformat(day): bool(is_workday)
        for day, is_workday in rows
    }
    if not connection.in_atomic_block:
        # Inside a transaction the rows read may be this transaction's own, not yet committed
        # (or about to be rolled back): they are not kept for others.
        with _CACHE_LOCK:
            _CACHE[key] = exceptions
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return dict(exceptions)


def working_days(*, organization: Organization, start: dt.date, end: dt.date) -> list[dt.date]:
    """The organization's working days from start to end, both included. One query."""
    exceptions = calendar_exceptions(organization=organization, start=start, end=end)
    weekdays = set(organization.workdays)
    return [
        day for day in iter_dates(start, end) if exceptions.get(day, day.isoweekday() in weekdays)
    ]


def is_working_day(*, organization: Organization, day: dt.date) -> bool:
    return bool(working_days(organization=organization, start=day, end=day))


_CHINESE_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


def statutory_exceptions(
    *, country: str, workdays: list[int], year: int, language: str = "zh-hans"
) -> list[tuple[dt.date, bool, str]]:
    """Statutory holidays that fall on working weekdays and make-up working days that fall on
    other days, for a country and year: [(date, is_workday, name)]. Empty where the package does
    not know the country or the year yet."""
    if country != "CN":
        return []
    chinese = language.startswith("zh")

    def label(name: str) -> str:
        return _CHINESE_NAMES.get(name, name) if chinese else name

    weekdays = set(workdays)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    result = []
    for day, name in sorted(chinese_calendar.holidays.items()):
        if start <= day <= end and day.isoweekday() in weekdays:
            result.append((day, False, label(name)))
    for day, name in sorted(chinese_calendar.workdays.items()):
        if start <= day <= end and day.isoweekday() not in weekdays:
            suffix = "调休上班" if chinese else "make-up working day"
            result.append((day, True, f"{label(name)} ({suffix})"))
    return sorted(result)
