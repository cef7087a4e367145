"""XLSX export of daily reports: the rows of a daily-report queryset the caller already narrowed
(scope and the filters of `P/daily-reports/`), one line per report, with the totals of its sales
lines. Three queries whatever the number of reports: the count, the reports with their member,
user and region, and nothing per row (the totals are subqueries of the same statement)."""

from decimal import Decimal

from django.db.models import DecimalField, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from agents.models import Organization
from agents.xlsx import Column, ExportFile, Kind, Sheet, ensure_within_cap, write_workbook

from .models import DailyReport, SalesEntry

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)

COLUMNS = [
    Column(_("Date"), Kind.DATE),
    Column(_("Member"), Kind.TEXT, width=18),
    Column(_("Agent code"), Kind.TEXT, width=12),
    Column(_("Region"), Kind.TEXT, width=14),
    Column(_("Follow-ups"), Kind.INT),
    Column(_("Communication minutes"), Kind.INT),
    Column(_("New customers"), Kind.INT),
    Column(_("Lost customers"), Kind.INT),
    Column(_("Orders"), Kind.INT),
    Column(_("Quantity"), Kind.INT),
    Column(_("Sales amount"), Kind.MONEY),
    Column(_("Collected amount"), Kind.MONEY),
    Column(_("Profit"), Kind.MONEY),
    Column(_("Late"), Kind.BOOL),
    Column(_("First submitted at"), Kind.DATETIME),
    Column(_("Updated at"), Kind.DATETIME),
    Column(_("Summary"), Kind.TEXT, width=40),
    Column(_("Plan for tomorrow"), Kind.TEXT, width=40),
    Column(_("Problems"), Kind.TEXT, width=40),
]

FILTER_LABELS = {
    "member": _("Member"),
    "date": _("Date"),
    "region": _("Region"),
    "subtree_of": _("Subtree of member"),
    "is_late": _("Late"),
}


def _line_total(field: str, output_field):
    lines = (
        SalesEntry.objects.filter(daily_report=OuterRef("pk"))
        .order_by()
        .values("daily_report")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=output_field), Value(0, output_field=output_field))


def daily_reports_for_export(queryset: QuerySet[DailyReport]) -> QuerySet[DailyReport]:
    """The reports with the totals of their lines (as the API's `totals`), their member's
    name, code and region, in one statement."""
    return (
        queryset.prefetch_related(None)
        .select_related("member__user", "member__region")
        .annotate(
            total_quantity=_line_total("quantity", IntegerField()),
            total_amount=_line_total("amount", _MONEY),
            total_collected=_line_total("collected", _MONEY),
            total_profit=_line_total("profit", _MONEY),
        )
    )


def _row(report: DailyReport) -> tuple:
    member = report.member
    return (
        report.date,
        member.user.get_display_name(),
        member.code,
        member.region.name if member.region_id else "",
        report.followups,
        report.communication_minutes,
        report.new_customers,
        report.lost_customers,
        report.orders,
        report.total_quantity,
        report.total_amount,
        report.total_collected,
        report.total_profit,
        report.is_late,
        report.submitted_at,
        report.updated_at,
        report.summary,
        report.plan_tomorrow,
        report.problems,
    )


def daily_reports_export(
    *,
    organization: Organization,
    queryset: QuerySet[DailyReport],
    filters: list[tuple[str, str]] = (),
) -> ExportFile:
    """The workbook of the given reports (already scoped and filtered), in their order."""
    ensure_within_cap(queryset.count())
    reports = daily_reports_for_export(queryset)
    title = _("Daily reports")
    return write_workbook(
        organization=organization,
        title=title,
        sheets=[
            Sheet(
                title=title,
                columns=COLUMNS,
                rows=(_row(report) for report in reports.iterator(chunk_size=2000)),
            )
        ],
        filters=filters,
        basename=title,
        ascii_basename="daily-reports",
    )
