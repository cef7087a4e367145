"""The working calendar of an organization: working weekdays, minus holidays, plus make-up
working days. Statutory days come from chinesecalendar (kept current by its maintainers) and are
copied into CalendarDay rows, which the organization may edit."""

import datetime as dt
from collections.abc import Iterator

import chinese_calendar

from .models import CalendarDay, Organization


def iter_dates(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from start to end, both included."""
    for offset in range((end - start).days + 1):
        yield start + dt.timedelta(days=offset)


def calendar_exceptions(
    *, organization: Organization, start: dt.date, end: dt.date
) -> dict[dt.date, bool]:
    """The organization's exceptions in a range: date -> is it a working day. One query."""
    return dict(
        CalendarDay.objects.filter(
            organization=organization, date__gte=start, date__lte=end
        ).values_list("date", "is_workday")
    )


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
