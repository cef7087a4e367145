"""The metric vocabulary: one registry of what can be measured, and how each actual value is
computed from the facts. Plans and appraisals compute every actual through `metric_actuals`.

Sources
-------
- Sales metrics (sales_amount, collected_amount, profit, quantity, active_customers,
  avg_daily_revenue) come from SalesEntry, whatever the source (report lines, API, import).
- Report metrics (orders, followups, communication_minutes, new_customers, lost_customers,
  avg_minutes_per_followup) come from the counts members file on their DailyReport. The activity
  log is the detail behind those counts and is not counted again.
- report_compliance comes from the DailyReport rows of the members who were due to report.

Scope and grouping
------------------
- Sales are placed in a region by SalesEntry.region, the member's region *when the sale was
  recorded*: a member who moves keeps their past sales in the old region. Facts without a sales
  region (reports, compliance) use the member's *current* region: no history of regions is kept.
- `group_by="member"` keys by the member whose fact it is (each member's own facts);
  `"subtree"` keys by each root of `roots` with the total over the root's whole subtree (the root
  included). Subtree totals are rolled up from one per-member aggregate query along the
  materialized paths, so a member below two roots counts for both, and distinct customers are
  counted once per subtree.
- Report metrics and report_compliance have no product or customer dimension: asking for one is a
  ValueError (`Metric.supports(...)` tells in advance, e.g. to validate a target).

Values
------
Decimal with 2 places for money; int for counts and minutes; Decimal with 2 places for
avg_minutes_per_followup; Decimal with 4 places for report_compliance (0..1). Keys without facts
may be absent (callers treat absent as zero); without grouping the answer is always
`{None: value}`. A ratio whose denominator is zero is zero.

- avg_minutes_per_followup = communication_minutes / followups.
- avg_daily_revenue = sales_amount / the organization's working days in the range (if the range
  has no working day: its calendar days). Grouped by day, a day's value is that day's revenue.
- report_compliance = on-time reports on working days / working days the members were due to
  report, *pooled* over the members of a group (a weighted average: each due member-day counts
  once). Due: members with role agent or leader whose *current* status is probation or active,
  from the later of `start` and the day they joined. Owners and admins are never due.

Queries
-------
Each call is one SQL query over the facts, whatever the number of members (rows are aggregated
in the database; Python only adds up the aggregated rows). Metrics that need the working
calendar (avg_daily_revenue, report_compliance) read it with one more small query.
`metric_actuals_many` shares queries: one per source (sales, reports, compliance) plus the
calendar.
"""

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, FilteredRelation, Q, Sum
from django.utils.translation import gettext_lazy as _

from agents.calendar import iter_dates, working_days
from agents.compiled import CompiledValues, LikePrefix
from agents.models import Customer, Membership, Organization, Product, Region, Role
from agents.selectors import WORKING_STATUSES

from .models import DailyReport, SalesEntry

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
GROUPS = (None, "member", "region", "product", "customer", "day", "subtree")
# Roles that file daily reports and are due to: owners and admins run the organization.
REPORTING_ROLES = (Role.AGENT, Role.LEADER)


@dataclass(frozen=True)
class MetricScope:
    member: Membership | None = None  # None = whole organization
    include_downline: bool = True  # the member's whole subtree (path prefix) or the member alone
    # The region and its sub-regions: SalesEntry.region for sales, the member's region otherwise.
    region: Region | None = None
    product: Product | None = None
    customer: Customer | None = None


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "money" | "count" | "minutes" | "ratio"
    is_money: bool
    higher_is_better: bool
    source: str  # "sales" | "reports" | "compliance"
    parts: tuple[str, ...]  # the raw aggregates it is computed from
    additive: bool = True  # a whole's value is the sum of its parts' (members, days)
    quantum: Decimal | None = None  # None: an int

    def supports(self, dimension: str | None) -> bool:
        """Whether the metric can be scoped or grouped by `dimension`."""
        if dimension in ("product", "customer"):
            return self.source == "sales"
        return dimension in GROUPS

    def zero(self):
        return 0 if self.quantum is None else Decimal(0).quantize(self.quantum)

    def value(self, number):
        if self.quantum is None:
            return int(number or 0)
        return Decimal(number or 0).quantize(self.quantum, rounding=ROUND_HALF_UP)


def _metric(key, label, unit, source, parts, *, higher_is_better=True, additive=True, quantum=0):
    if quantum == 0:
        quantum = CENT if unit == "money" else None
    return Metric(
        key=key,
        label=label,
        unit=unit,
        is_money=unit == "money",
        higher_is_better=higher_is_better,
        source=source,
        parts=parts,
        additive=additive,
        quantum=quantum,
    )


METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in (
        _metric("sales_amount", _("Sales amount"), "money", "sales", ("amount",)),
        _metric("collected_amount", _("Collected amount"), "money", "sales", ("collected",)),
        _metric("profit", _("Profit"), "money", "sales", ("profit",)),
        _metric("quantity", _("Quantity"), "count", "sales", ("quantity",)),
        _metric("orders", _("Orders"), "count", "reports", ("orders",)),
        _metric("new_customers", _("New customers"), "count", "reports", ("new_customers",)),
        _metric(
            "lost_customers",
            _("Lost customers"),
            "count",
            "reports",
            ("lost_customers",),
            higher_is_better=False,
        ),
        # Distinct customers with a sale: a customer buying from two members counts once for
        # the team, so a team's value can be below the sum of its members' (near-additive).
        _metric("active_customers", _("Active customers"), "count", "sales", ("customers",)),
        _metric("followups", _("Follow-ups"), "count", "reports", ("followups",)),
        _metric(
            "communication_minutes",
            _("Communication minutes"),
            "minutes",
            "reports",
            ("communication_minutes",),
        ),
        _metric(
            "avg_minutes_per_followup",
            _("Average minutes per follow-up"),
            "minutes",
            "reports",
            ("communication_minutes", "followups"),
            additive=False,
            quantum=CENT,
        ),
        _metric(
            "avg_daily_revenue",
            _("Average daily revenue"),
            "money",
            "sales",
            ("amount",),
            additive=False,
        ),
        _metric(
            "report_compliance",
            _("Daily report compliance"),
            "ratio",
            "compliance",
            ("on_time", "due"),
            additive=False,
            quantum=RATIO,
        ),
    )
}
METRIC_KEYS = tuple(METRICS)


def metric_choices() -> list[tuple[str, str]]:
    """(key, label) pairs, e.g. for a model field's or serializer's choices."""
    return [(metric.key, metric.label) for metric in METRICS.values()]


# --- Raw aggregates -------------------------------------------------------------------------

_SALES_AGGREGATES = {
    "amount": lambda: Sum("amount"),
    "collected": lambda: Sum("collected"),
    "profit": lambda: Sum("profit"),
    "quantity": lambda: Sum("quantity"),
    "customers": lambda: Count("customer", distinct=True),
}
_REPORT_FIELDS = ("orders", "followups", "communication_minutes", "new_customers", "lost_customers")
_REPORT_AGGREGATES = {name: (lambda name=name: Sum(name)) for name in _REPORT_FIELDS}

_GROUP_FIELDS = {
    "sales": {
        "member": "member_id",
        "region": "region_id",
        "product": "product_id",
        "customer": "customer_id",
        "day": "date",
        "subtree": "member__path",
    },
    "reports": {
        "member": "member_id",
        "region": "member__region_id",
        "day": "date",
        "subtree": "member__path",
    },
}


def _check_node(node, organization: Organization, what: str) -> None:
    if node.organization_id != organization.pk:
        raise ValueError(f"The scope's {what} belongs to another organization.")
    if not node.path:
        raise ValueError(f"The scope's {what} has no tree path.")


def _scope_parts(organization: Organization, scope: MetricScope) -> tuple[tuple, dict]:
    """(shape, parameters) of a scope: which filters apply, in order, and their values. The
    scope's nodes are checked to be the organization's."""
    shape, params = [], {}
    if scope.member is not None:
        _check_node(scope.member, organization, "member")
        if scope.include_downline:
            shape.append("member_subtree")
            params["member_path"] = scope.member.path
        else:
            shape.append("member")
            params["member_id"] = scope.member.pk
    if scope.region is not None:
        _check_node(scope.region, organization, "region")
        shape.append("region_subtree")
        params["region_path"] = scope.region.path
    if scope.product is not None:
        shape.append("product")
        params["product_id"] = scope.product.pk
    if scope.customer is not None:
        shape.append("customer")
        params["customer_id"] = scope.customer.pk
    return tuple(shape), params


def _scope_filter(shape: tuple, params: dict, *, source: str) -> Q:
    """The facts of a source inside a scope given as (shape, parameters). `source` "members"
    filters Membership rows."""
    member_prefix = "" if source == "members" else "member__"
    region_lookup = "region__path" if source in ("sales", "members") else "member__region__path"
    q = Q()
    for part in shape:
        if part == "member_subtree":
            q &= Q(**{f"{member_prefix}path__startswith": params["member_path"]})
        elif part == "member":
            member_id = params["member_id"]
            q &= Q(pk=member_id) if source == "members" else Q(member_id=member_id)
        elif part == "region_subtree":
            q &= Q(**{f"{region_lookup}__startswith": params["region_path"]})
        elif part == "product":
            q &= Q(product_id=params["product_id"])
        elif part == "customer":
            q &= Q(customer_id=params["customer_id"])
    return q


def _scope_q(organization: Organization, scope: MetricScope, *, source: str) -> Q:
    """The facts of a source inside the scope. `source` "members" filters Membership rows."""
    return _scope_filter(*_scope_parts(organization, scope), source=source)


def _facts(source: str, scope_shape: tuple, scope_params: dict, *, organization_id, start, end):
    """The facts (sales lines or daily reports) of an organization in a period and scope."""
    model = SalesEntry if source == "sales" else DailyReport
    return model.objects.filter(
        _scope_filter(scope_shape, scope_params, source=source),
        organization_id=organization_id,
        date__gte=start,
        date__lte=end,
    ).order_by()


def _facts_queryset(shape, *, organization_id, start, end, **scope_params):
    """The facts of one source in a period and scope, grouped and summed as `shape` says:
    (source, parts, group_by, scope shape). Compiled once per shape (_FACTS)."""
    source, parts, group_by, scope_shape = shape
    aggregates = _SALES_AGGREGATES if source == "sales" else _REPORT_AGGREGATES
    return (
        _facts(
            source, scope_shape, scope_params, organization_id=organization_id, start=start, end=end
        )
        .values_list(_GROUP_FIELDS[source][group_by])
        .annotate(**{f"m_{part}": aggregates[part]() for part in parts})
    )


# Every progress, attainment and dashboard figure runs it: building and compiling the
# queryset cost more than running the statement (issue 7, bench/README.md).
_FACTS = CompiledValues(
    _facts_queryset,
    kinds={
        "organization_id": int,
        "start": dt.date,
        "end": dt.date,
        "member_id": int,
        "member_path": LikePrefix,
        "region_path": LikePrefix,
        "product_id": int,
        "customer_id": int,
    },
)


def _ancestor_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def _add(target: dict, values: dict) -> None:
    for name, value in values.items():
        target[name] = target.get(name, 0) + (value or 0)


def _rollup(rows: dict[str, dict], root_ids: set[int]) -> dict[int, dict]:
    """Per-member aggregates keyed by member path -> totals per root over its subtree."""
    totals: dict[int, dict] = {}
    for path, values in rows.items():
        for member_id in _ancestor_ids(path):
            if member_id in root_ids:
                _add(totals.setdefault(member_id, {}), values)
    return totals


def _fact_values(
    *, organization, source, parts, start, end, scope, group_by, root_ids
) -> dict[object, dict[str, object]]:
    """{group key: {part: raw aggregate}} for one source, in one query (two for distinct
    customers per subtree alongside other parts). Grouped sums are compiled once per shape
    (_FACTS)."""

    scope_shape, scope_params = _scope_parts(organization, scope)

    def facts():
        return _facts(
            source, scope_shape, scope_params, organization_id=organization.pk, start=start, end=end
        )

    if group_by is None:
        aggregates = _SALES_AGGREGATES if source == "sales" else _REPORT_AGGREGATES
        row = facts().aggregate(**{f"m_{part}": aggregates[part]() for part in parts})
        return {None: {part: row[f"m_{part}"] for part in parts}}

    result: dict[object, dict[str, object]] = {}
    summed = [part for part in parts if not (group_by == "subtree" and part == "customers")]
    if summed:
        # (key, part values...) tuples, not dicts: one row per member of a whole organization.
        rows = _FACTS.rows(
            (source, tuple(summed), group_by, scope_shape),
            organization_id=organization.pk,
            start=start,
            end=end,
            **scope_params,
        )
        if len(summed) == 1:
            (part,) = summed
            result = {key: {part: value} for key, value in rows}
        else:
            result = {row[0]: dict(zip(summed, row[1:], strict=True)) for row in rows}
        if group_by == "subtree":
            result = _rollup(result, root_ids)
    if len(summed) < len(parts):
        # Distinct customers cannot be added up across members: count them per subtree.
        customers: dict[int, set[int]] = defaultdict(set)
        pairs = (
            facts()
            .filter(customer__isnull=False)
            .values_list("member__path", "customer_id")
            .distinct()
        )
        for path, customer_id in pairs:
            for member_id in _ancestor_ids(path):
                if member_id in root_ids:
                    customers[member_id].add(customer_id)
        for member_id, ids in customers.items():
            result.setdefault(member_id, {})["customers"] = len(ids)
    return result


def _compliance_values(
    *, organization, days: list[dt.date], start, end, scope, group_by, root_ids
) -> dict[object, dict[str, int]]:
    """{group key: {"on_time": n, "due": n}}: on-time reports on working days over member-days
    due, for the due members in scope. One query: members grouped by the day they joined, each
    with their count of on-time reports on working days."""
    members = (
        Membership.objects.filter(
            _scope_q(organization, scope, source="members"),
            organization=organization,
            role__in=REPORTING_ROLES,
            status__in=WORKING_STATUSES,
            joined_on__lte=end,
        )
        .annotate(
            ontime=FilteredRelation(
                "daily_reports",
                condition=Q(
                    daily_reports__organization=organization,
                    daily_reports__date__gte=start,
                    daily_reports__date__lte=end,
                    daily_reports__is_late=False,
                ),
            )
        )
        .order_by()
    )
    if not days:
        return {}
    counted = Q(ontime__date__gte=F("joined_on"))

    def due_days(joined_on: dt.date) -> int:
        return len(days) - bisect.bisect_left(days, joined_on)

    if group_by == "day":
        columns = {
            f"d{index}": Count("ontime__id", filter=counted & Q(ontime__date=day))
            for index, day in enumerate(days)
        }
        rows = members.values("joined_on").annotate(members=Count("id", distinct=True), **columns)
        result: dict[object, dict[str, int]] = {}
        for row in rows:
            for index, day in enumerate(days):
                if day >= row["joined_on"]:
                    values = result.setdefault(day, {"on_time": 0, "due": 0})
                    values["on_time"] += row[f"d{index}"]
                    values["due"] += row["members"]
        return result

    field = {None: None, "member": "id", "region": "region_id", "subtree": "path"}[group_by]
    fields = ["joined_on"] if field is None else [field, "joined_on"]
    rows = members.values(*fields).annotate(
        members=Count("id", distinct=True),
        on_time=Count("ontime__id", filter=counted & Q(ontime__date__in=days)),
    )
    result = {}
    for row in rows:
        values = {"on_time": row["on_time"], "due": row["members"] * due_days(row["joined_on"])}
        if group_by == "subtree":
            for member_id in _ancestor_ids(row["path"]):
                if member_id in root_ids:
                    _add(result.setdefault(member_id, {}), values)
        else:
            _add(result.setdefault(row[field] if field else None, {}), values)
    return result


# --- Finishing ------------------------------------------------------------------------------


def _ratio(numerator, denominator) -> Decimal:
    if not denominator:
        return Decimal(0)
    return Decimal(numerator or 0) / Decimal(denominator)


# Metrics computed from more than one raw aggregate (see _finish).
_DERIVED = frozenset({"avg_minutes_per_followup", "avg_daily_revenue", "report_compliance"})


def _finish(metric: Metric, raw: dict, *, working_day_count: int, group_by) -> object:
    if metric.key == "avg_minutes_per_followup":
        return metric.value(_ratio(raw.get("communication_minutes"), raw.get("followups")))
    if metric.key == "avg_daily_revenue":
        divisor = 1 if group_by == "day" else working_day_count
        return metric.value(_ratio(raw.get("amount"), divisor))
    if metric.key == "report_compliance":
        return metric.value(_ratio(raw.get("on_time"), raw.get("due")))
    return metric.value(raw.get(metric.parts[0]))


def _validate(metrics: list[str], scope: MetricScope, group_by, roots) -> list[Metric]:
    if group_by not in GROUPS:
        raise ValueError(f"Unknown grouping {group_by!r}; use one of {GROUPS}.")
    if group_by == "subtree" and roots is None:
        raise ValueError('group_by="subtree" needs the roots.')
    resolved = []
    for key in metrics:
        if key not in METRICS:
            raise ValueError(f"Unknown metric {key!r}.")
        metric = METRICS[key]
        for dimension in (group_by, "product" if scope.product else None):
            if not metric.supports(dimension):
                raise ValueError(f"{key} cannot be scoped or grouped by {dimension}.")
        if scope.customer is not None and not metric.supports("customer"):
            raise ValueError(f"{key} cannot be scoped by customer.")
        resolved.append(metric)
    return resolved


def metric_actuals_many(
    *,
    organization: Organization,
    metrics: list[str],
    start: dt.date,
    end: dt.date,
    scope: MetricScope | None = None,
    group_by: str | None = None,
    roots: Iterable[Membership] | None = None,
) -> dict[str, dict]:
    """{metric key: {group key: value}} for several metrics, sharing queries: one per source
    (sales, reports, compliance) plus one calendar lookup when a metric needs working days."""
    scope = scope or MetricScope()
    resolved = _validate(metrics, scope, group_by, roots)
    root_ids = {getattr(root, "pk", root) for root in roots} if roots is not None else set()
    if group_by == "subtree" and not root_ids:
        return {metric.key: {} for metric in resolved}

    needs_calendar = any(m.key in ("avg_daily_revenue", "report_compliance") for m in resolved)
    days = working_days(organization=organization, start=start, end=end) if needs_calendar else []
    working_day_count = len(days) or sum(1 for _day in iter_dates(start, end))

    raw_by_source: dict[str, dict] = {}
    for source in ("sales", "reports"):
        parts = sorted({part for m in resolved if m.source == source for part in m.parts})
        if parts:
            raw_by_source[source] = _fact_values(
                organization=organization,
                source=source,
                parts=parts,
                start=start,
                end=end,
                scope=scope,
                group_by=group_by,
                root_ids=root_ids,
            )
    if any(m.source == "compliance" for m in resolved):
        raw_by_source["compliance"] = _compliance_values(
            organization=organization,
            days=days,
            start=start,
            end=end,
            scope=scope,
            group_by=group_by,
            root_ids=root_ids,
        )

    answer: dict[str, dict] = {}
    for metric in resolved:
        raw = raw_by_source[metric.source]
        if metric.key in _DERIVED:
            values = {
                key: _finish(metric, parts, working_day_count=working_day_count, group_by=group_by)
                for key, parts in raw.items()
            }
        else:  # _finish's last case, without its dispatch per value (thousands of members)
            part, value_of = metric.parts[0], metric.value
            values = {key: value_of(parts.get(part)) for key, parts in raw.items()}
        if group_by is None:
            values.setdefault(None, metric.zero())
        answer[metric.key] = values
    return answer


def metric_actuals(
    *,
    organization: Organization,
    metric: str,
    start: dt.date,
    end: dt.date,
    scope: MetricScope | None = None,
    group_by: str | None = None,
    roots: Iterable[Membership] | None = None,
) -> dict:
    """The actual value of one metric over [start, end] (both included, the organization's
    local dates) in a scope: `{None: value}` ungrouped, else `{group key: value}` (see the
    module docstring for keys, value types and what is absent). One SQL query for the facts."""
    return metric_actuals_many(
        organization=organization,
        metrics=[metric],
        start=start,
        end=end,
        scope=scope,
        group_by=group_by,
        roots=roots,
    )[metric]
