"""XLSX export of attainment: the rows `P/attainment/` answers for the same query (the existing
`attainment_rows` selector, nothing recomputed), with the plan, metric, tier and as-of date in
the workbook's title and information sheet. For the admin, one workbook with every metric and
grouping a plan has targets for."""

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.models import Organization
from agents.xlsx import Column, ExportFile, Kind, Sheet, ensure_within_cap, write_workbook
from reports.metrics import METRICS, Metric

from .models import Dimension, SalesPlan, Target, Tier
from .progress import GROUPINGS, attainment_rows, resolve_as_of


def _figure_kind(metric: Metric) -> Kind:
    if metric.is_money:
        return Kind.MONEY
    return Kind.INT if metric.quantum is None else Kind.DECIMAL


def attainment_columns(*, metric: Metric, group_by: str) -> list[Column]:
    figure = _figure_kind(metric)
    return [
        Column(gettext_lazy("Key"), Kind.INT, width=10),
        Column(Dimension(group_by).label, Kind.TEXT, width=24),
        Column(gettext_lazy("Target"), figure),
        Column(gettext_lazy("Actual"), figure),
        Column(gettext_lazy("Attainment"), Kind.PERCENT, width=12),
    ]


CENT = Decimal("0.01")
RATIO = Decimal("0.0001")


def _places(value: Decimal | None, quantum: Decimal) -> Decimal | None:
    # As the JSON answer rounds them (AttainmentRowSerializer: half-even to its places).
    return None if value is None else value.quantize(quantum, rounding=ROUND_HALF_EVEN)


def _sheet_rows(rows) -> list[tuple]:
    return [
        (
            row.key,
            str(row.label),
            _places(row.target, CENT),
            _places(row.actual, CENT),
            _places(row.attainment, RATIO),
        )
        for row in rows
    ]


def _title(*, plan: SalesPlan, metric: Metric) -> str:
    return _("Attainment: %(plan)s, %(metric)s") % {"plan": plan.name, "metric": metric.label}


def attainment_export(
    *,
    organization: Organization,
    targets: QuerySet[Target],
    plan: SalesPlan,
    metric_key: str,
    group_by: str,
    tier: str,
    as_of: dt.date | None = None,
) -> ExportFile:
    """The attainment rows of one plan, metric and grouping for the targets the caller sees."""
    metric = METRICS[metric_key]
    rows = attainment_rows(
        organization=organization,
        targets=targets,
        plan=plan,
        metric_key=metric_key,
        group_by=group_by,
        tier=tier,
        as_of=as_of,
    )
    ensure_within_cap(len(rows))
    title = _title(plan=plan, metric=metric)
    as_of = resolve_as_of(organization=organization, plan=plan, as_of=as_of)
    return write_workbook(
        organization=organization,
        title=title,
        sheets=[
            Sheet(
                title=f"{metric.label} · {Dimension(group_by).label}",
                columns=attainment_columns(metric=metric, group_by=group_by),
                rows=_sheet_rows(rows),
            )
        ],
        filters=[
            (_("Plan"), plan.name),
            (_("Period"), f"{plan.start.isoformat()} – {plan.end.isoformat()}"),
            (_("Metric"), str(metric.label)),
            (_("Group by"), str(Dimension(group_by).label)),
            (_("Tier"), str(Tier(tier).label)),
            (_("As of"), as_of.isoformat()),
        ],
        basename=_("Attainment"),
        ascii_basename="attainment",
    )


def _plan_sheets(*, organization: Organization, plan: SalesPlan, prefix: str) -> list[Sheet]:
    targets = Target.objects.filter(organization=organization)
    metric_keys = sorted(
        set(targets.filter(plan=plan, tier=Tier.BASE).values_list("metric", flat=True))
    )
    sheets = []
    for metric_key in metric_keys:
        metric = METRICS.get(metric_key)
        if metric is None:
            continue
        for group_by in GROUPINGS:
            if not metric.supports(group_by):
                continue
            rows = attainment_rows(
                organization=organization,
                targets=targets,
                plan=plan,
                metric_key=metric_key,
                group_by=group_by,
                tier=Tier.BASE,
            )
            if rows:
                sheets.append(
                    Sheet(
                        title=f"{prefix}{metric.label} · {Dimension(group_by).label}",
                        columns=attainment_columns(metric=metric, group_by=group_by),
                        rows=_sheet_rows(rows),
                    )
                )
    return sheets


def plans_attainment_export(
    *, organization: Organization, plans: QuerySet[SalesPlan]
) -> ExportFile:
    """For the admin (which sees all of the organization's targets): every metric and grouping
    the plans have base-tier targets for, one sheet each, as of the organization's today (a
    closed plan: its frozen actuals)."""
    plans = list(plans.filter(organization=organization).order_by("start", "id"))
    sheets: list[Sheet] = []
    for plan in plans:
        prefix = f"{plan.name} · " if len(plans) > 1 else ""
        sheets.extend(_plan_sheets(organization=organization, plan=plan, prefix=prefix))
        ensure_within_cap(sum(len(sheet.rows) for sheet in sheets))
    filters = []
    for plan in plans:
        as_of = resolve_as_of(organization=organization, plan=plan, as_of=None)
        filters.append(
            (
                _("Plan"),
                f"{plan.name} ({plan.start.isoformat()} – {plan.end.isoformat()}; "
                f"{_('As of')} {as_of.isoformat()})",
            )
        )
    filters.append((_("Tier"), str(Tier.BASE.label)))
    names = ", ".join(plan.name for plan in plans)
    return write_workbook(
        organization=organization,
        title=_("Attainment: %(plan)s") % {"plan": names},
        sheets=sheets,
        filters=filters,
        basename=f"{_('Attainment')}-{names}"[:80],
        ascii_basename="attainment",
    )
