"""Targets from a breakdown grid (CSV or XLSX): every cell or none, with a dry-run preview.

One import is for one plan and metric (and optionally a tier and a parent target to break down).
The first column says what the rows are by its header: members (header "member", "agent code",
"代理编号"...; cells are agent codes) or regions (header "region", "区域"...; cells are region
names or paths like "East/Shanghai"). Every other column is a month, headed `2026-11`,
`2026/11` or `2026年11月` (a "name" column may sit beside the codes for readability; it is
ignored). Each non-empty cell becomes the target of that member or region for that month: from
the month's first to its last day, cut to the plan's period (and the parent's). A target of the
same plan, metric, tier, parent, member or region and period that exists already is updated.

The rules are plans.services' and plans.rules': the plan must not be closed (409); a leader sets
targets only for the members below them (others, like other organizations' codes, are unknown);
a breakdown stays inside its parent (members of its subtree, regions inside its region, periods
inside its period) and the children of one parent never sum above it; values fit the metric
(whole numbers for counts, ratios up to 1). Lookups are loaded once, the rows are written with
bulk_create / agents.bulk.bulk_update_rows and one bulk audit INSERT.
"""

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.audit import audit_entry_build, audit_record_many
from agents.bulk import bulk_update_rows
from agents.imports import CREATE, UPDATE, ImportResult, RegionLookup, members_by_code
from agents.models import Membership, Organization, Region, Role
from agents.spreadsheets import (
    BATCH_SIZE,
    ImportRowsError,
    Progress,
    RowErrors,
    data_rows,
    normalize_header,
    parse_decimal,
    parse_month,
    split_header,
    text,
)
from reports.metrics import METRICS

from .models import BreakdownMethod, SalesPlan, Target, Tier
from .rules import can_assign, can_break_down
from .services import (
    check_inside_parent,
    check_target_shape,
    children_total,
    ensure_plan_open,
    narrowed_dimension,
)

MEMBER_HEADERS = {"member", "agent", "agent code", "code", "代理", "代理编号", "成员", "编号"}
REGION_HEADERS = {"region", "region name", "区域", "地区"}
IGNORED_HEADERS = {"name", "display name", "姓名", "名称", "备注", "note"}
# Target.value has 16 digits, 2 of them decimals.
VALUE_LIMIT = Decimal("100000000000000")


@dataclass
class _Column:
    index: int
    label: str
    start: dt.date
    end: dt.date


def _columns(
    header: list, *, plan: SalesPlan, parent: Target | None
) -> tuple[str, list[_Column], list[dict]]:
    """What the rows are ("member" or "region"), the month columns, and header errors."""
    errors: list[dict] = []
    first = normalize_header(header[0] if header else "")
    if first in MEMBER_HEADERS:
        kind = "member"
    elif first in REGION_HEADERS:
        kind = "region"
    else:
        kind = ""
        errors.append(
            {
                "row": 1,
                "field": "file",
                "message": _(
                    "The first column is headed member (agent codes) or region (region names)."
                ),
            }
        )
    low, high = plan.start, plan.end
    if parent is not None:
        low, high = max(low, parent.start), min(high, parent.end)
    columns: list[_Column] = []
    seen: set[tuple[int, int]] = set()
    for index, cell in enumerate(header[1:], start=1):
        label = text(cell)
        if not label or normalize_header(label) in IGNORED_HEADERS:
            continue
        month = parse_month(cell)
        if month is None:
            errors.append(
                {"row": 1, "field": label, "message": _("Use a month like 2026-11 or 2026年11月.")}
            )
            continue
        if month in seen:
            errors.append({"row": 1, "field": label, "message": _("This month appears twice.")})
            continue
        seen.add(month)
        year, number = month
        first_day = dt.date(year, number, 1)
        last_day = dt.date(year, number, calendar.monthrange(year, number)[1])
        start, end = max(first_day, low), min(last_day, high)
        if start > end:
            errors.append(
                {
                    "row": 1,
                    "field": label,
                    "message": _("This month is outside the period %(start)s to %(end)s.")
                    % {"start": low, "end": high},
                }
            )
            continue
        columns.append(_Column(index, f"{year:04d}-{number:02d}", start, end))
    if not columns and not errors:
        errors.append({"row": 1, "field": "file", "message": _("Add at least one month column.")})
    return kind, columns, errors


def _check_options(
    *, actor: Membership | None, plan: SalesPlan, metric: str, tier: str, parent: Target | None
) -> None:
    """The form's own fields: 400 naming the field, 403 for a parent the actor cannot break
    down, 409 for a closed plan."""
    if metric not in METRICS:
        raise ValidationError({"metric": _("Unknown metric.")})
    if tier not in Tier.values:
        raise ValidationError({"tier": _("Unknown tier.")})
    if parent is not None:
        if parent.plan_id != plan.pk:
            raise ValidationError({"parent": _("The parent target belongs to another plan.")})
        if parent.metric != metric:
            raise ValidationError({"metric": _("A child target has its parent's metric.")})
        if parent.tier != tier:
            raise ValidationError({"tier": _("A child target has its parent's tier.")})
        if actor is not None and not can_break_down(actor, parent):
            raise PermissionDenied(_("You cannot break this target down."))
    ensure_plan_open(plan)


def targets_import(
    *,
    organization: Organization,
    actor: Membership | None,
    plan: SalesPlan,
    metric: str,
    rows: Iterable[list],
    tier: str | None = None,
    parent: Target | None = None,
    dry_run: bool = False,
    progress: Progress = None,
) -> ImportResult:
    """Create or update the targets of a grid (see the module docstring), all or none. `actor`
    None is a system import (an owner's powers). Raises ImportRowsError listing every bad cell,
    ValidationError for a bad option, PermissionDenied, or Conflict for a closed plan."""
    tier = tier or (parent.tier if parent is not None else Tier.BASE)
    _check_options(actor=actor, plan=plan, metric=metric, tier=tier, parent=parent)
    header, iterator = split_header(rows)
    kind, columns, header_errors = _columns(header, plan=plan, parent=parent)
    if header_errors:
        raise ImportRowsError(header_errors)
    with transaction.atomic():
        if not dry_run:
            plan = SalesPlan.objects.select_for_update().get(pk=plan.pk)
            ensure_plan_open(plan)
            if parent is not None:
                parent = (
                    Target.objects.select_for_update(of=("self",))
                    .select_related("plan", "member", "region")
                    .get(pk=parent.pk)
                )
        return _import_grid(
            organization=organization,
            actor=actor,
            plan=plan,
            metric=metric,
            tier=tier,
            parent=parent,
            kind=kind,
            columns=columns,
            iterator=iterator,
            dry_run=dry_run,
            progress=progress,
        )


def _scope_lookup(*, organization: Organization, actor: Membership | None, kind: str):
    """token -> (pk, light instance) for the row's first cell."""
    if kind == "member":
        members = members_by_code(organization=organization, actor=actor)

        def find_member(token):
            found = members.get(text(token).lower())
            if found is None:
                raise ValueError(_("Unknown agent code."))
            return Membership(pk=found[0], organization=organization, path=found[1])

        return find_member
    regions = RegionLookup(organization)
    paths = dict(Region.objects.filter(organization=organization).values_list("pk", "path"))

    def find_region(token):
        pk = regions.find(token)
        return Region(pk=pk, organization=organization, path=paths[pk])

    return find_region


def _import_grid(
    *,
    organization: Organization,
    actor: Membership | None,
    plan: SalesPlan,
    metric: str,
    tier: str,
    parent: Target | None,
    kind: str,
    columns: list[_Column],
    iterator,
    dry_run: bool,
    progress: Progress,
) -> ImportResult:
    find = _scope_lookup(organization=organization, actor=actor, kind=kind)
    existing = _existing_targets(
        organization=organization, plan=plan, metric=metric, tier=tier, parent=parent, kind=kind
    )
    created_by = actor if actor is not None and actor.pk else None
    errors = RowErrors()
    result = ImportResult(dry_run=dry_run, columns=[column.label for column in columns])
    creates: list[Target] = []
    updates: list[tuple[Target, Decimal]] = []
    seen: dict[int, int] = {}
    for row, cells in data_rows(iterator, errors=errors, progress=progress):
        token = text(cells[0] if cells else "")
        try:
            if not token:
                raise ValueError(_("This value is required."))
            subject = find(cells[0])
        except ValueError as exc:
            errors.add(row, kind or "file", exc)
            continue
        if subject.pk in seen:
            errors.add(row, kind, _("Also on row %(row)d.") % {"row": seen[subject.pk]})
            continue
        seen[subject.pk] = row
        refusal = _refusal(actor=actor, kind=kind, subject=subject, parent=parent)
        if refusal:
            errors.add(row, kind, refusal)
            continue
        shown: dict = {}
        row_actions = set()
        for column in columns:
            raw = cells[column.index] if column.index < len(cells) else None
            if text(raw) == "":
                continue
            target = _cell_target(
                organization=organization,
                plan=plan,
                metric=metric,
                tier=tier,
                parent=parent,
                kind=kind,
                subject=subject,
                column=column,
                raw=raw,
                created_by=created_by,
                row=row,
                errors=errors,
            )
            if target is None:
                continue
            shown[column.label] = target.value
            match = existing.get((subject.pk, column.start, column.end))
            if match is not None:
                match.import_row, match.import_label = row, column.label
                updates.append((match, target.value))
                row_actions.add(UPDATE)
            else:
                creates.append(target)
                row_actions.add(CREATE)
        if shown:
            action = CREATE if row_actions == {CREATE} else UPDATE
            result.add(row=row, action=action, key=token, values=shown)
    # The counts are of targets (cells), not of rows.
    result.created, result.updated = len(creates), len(updates)
    _check_totals(parent=parent, metric=metric, creates=creates, updates=updates, errors=errors)
    _check_children(organization=organization, metric=metric, updates=updates, errors=errors)
    errors.raise_if_any()
    if not dry_run:
        _write_targets(organization=organization, actor=actor, creates=creates, updates=updates)
    return result


def _refusal(*, actor: Membership | None, kind: str, subject, parent: Target | None) -> str | None:
    """Why the actor may not set this row's targets (plans.rules, as target_create applies
    them); None when they may."""
    if actor is None:
        return None
    member = subject if kind == "member" else (parent.member if parent is not None else None)
    if parent is None and not can_assign(actor, member):
        return _("You can set targets only for the members below you.")
    if actor.role == Role.AGENT and (member is None or member.pk != actor.pk):
        return _("Agents break down their own targets for themselves only.")
    return None


def _cell_target(
    *,
    organization: Organization,
    plan: SalesPlan,
    metric: str,
    tier: str,
    parent: Target | None,
    kind: str,
    subject,
    column: _Column,
    raw,
    created_by: Membership | None,
    row: int,
    errors: RowErrors,
) -> Target | None:
    try:
        value = parse_decimal(raw, limit=VALUE_LIMIT)
    except ValueError as exc:
        errors.add(row, column.label, exc)
        return None
    target = Target(
        organization=organization,
        plan=plan,
        parent=parent,
        metric=metric,
        tier=tier,
        start=column.start,
        end=column.end,
        value=value,
        created_by=created_by,
    )
    if parent is not None:
        # What a child does not say it inherits: its parent's scope.
        for name in ("member", "include_downline", "region", "product", "customer"):
            setattr(target, name, getattr(parent, name))
        target.breakdown_method = BreakdownMethod.MANUAL
    setattr(target, kind, subject)
    target.import_row, target.import_label = row, column.label
    try:
        if parent is not None:
            check_inside_parent(child=target, parent=parent)
            target.breakdown_dimension = narrowed_dimension(child=target, parent=parent)
        check_target_shape(target=target)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            name = field if field in (kind, "parent") else column.label
            errors.add(row, name, " ".join(messages))
        return None
    return target


def _existing_targets(
    *,
    organization: Organization,
    plan: SalesPlan,
    metric: str,
    tier: str,
    parent: Target | None,
    kind: str,
) -> dict[tuple, Target]:
    """The targets an import may update: same plan, metric, tier, parent and the rest of the
    scope, keyed by (member or region id, start, end)."""
    other = "region" if kind == "member" else "member"
    targets = Target.objects.filter(
        organization=organization,
        plan=plan,
        metric=metric,
        tier=tier,
        parent=parent,
        product_id=parent.product_id if parent is not None else None,
        customer_id=parent.customer_id if parent is not None else None,
        **{
            f"{kind}__isnull": False,
            f"{other}_id": getattr(parent, f"{other}_id") if parent is not None else None,
        },
    ).order_by("-pk")
    found = {}
    for target in targets.only("pk", "member_id", "region_id", "start", "end", "value"):
        found[(getattr(target, f"{kind}_id"), target.start, target.end)] = target
    return found


def _check_totals(
    *,
    parent: Target | None,
    metric: str,
    creates: list[Target],
    updates: list[tuple[Target, Decimal]],
    errors: RowErrors,
) -> None:
    """One parent's children never sum above it; and it is broken down along one dimension."""
    if parent is None or errors:
        return
    dimensions = set(
        Target.objects.filter(organization_id=parent.organization_id, parent=parent)
        .exclude(breakdown_dimension="")
        .values_list("breakdown_dimension", flat=True)
        .distinct()
    )
    for target in creates:
        if dimensions | {target.breakdown_dimension} != {target.breakdown_dimension}:
            errors.add(
                target.import_row,
                "parent",
                _("The parent is broken down by %(dimension)s.")
                % {"dimension": ", ".join(sorted(dimensions))},
            )
            return
        dimensions.add(target.breakdown_dimension)
    if not METRICS[metric].additive:
        return
    total = children_total(parent=parent) - sum(
        (target.value for target, _value in updates), Decimal(0)
    )
    cells = [(t.import_row, t.import_label, t.value) for t in creates]
    cells += [(t.import_row, t.import_label, value) for t, value in updates]
    for row, label, value in sorted(cells):
        total += value
        if total > parent.value:
            errors.add(
                row,
                label,
                _(
                    "The children of a target never sum above it: the file brings them to "
                    "%(total)s of %(parent)s."
                )
                % {"total": total, "parent": parent.value},
            )
            return


def _check_children(
    *,
    organization: Organization,
    metric: str,
    updates: list[tuple[Target, Decimal]],
    errors: RowErrors,
) -> None:
    """An updated target that is broken down keeps at least what its children take."""
    if not updates or not METRICS[metric].additive:
        return
    taken = dict(
        Target.objects.filter(
            organization=organization, parent_id__in=[target.pk for target, _v in updates]
        )
        .values("parent_id")
        .annotate(total=Sum("value"))
        .values_list("parent_id", "total")
    )
    for target, value in updates:
        allocated = taken.get(target.pk)
        if allocated is not None and value < allocated:
            errors.add(
                target.import_row,
                target.import_label,
                _("Its children already take %(allocated)s.") % {"allocated": allocated},
            )


def _write_targets(
    *,
    organization: Organization,
    actor: Membership | None,
    creates: list[Target],
    updates: list[tuple[Target, Decimal]],
) -> None:
    now = timezone.now()
    for target in creates:
        target.created_at = target.updated_at = now
    Target.objects.bulk_create(creates, batch_size=BATCH_SIZE)
    changed = []
    entries = []
    for target, value in updates:
        if target.value == value:
            continue
        entries.append(
            audit_entry_build(
                organization=organization,
                actor=actor,
                action="target.update",
                instance=target,
                changes={"value": [target.value, value]},
                context={"import": True},
            )
        )
        target.value, target.updated_at = value, now
        changed.append(target)
    bulk_update_rows(Target, changed, ["value", "updated_at"], organization_id=organization.pk)
    entries.extend(
        audit_entry_build(
            organization=organization,
            actor=actor,
            action="target.create",
            instance=target,
            changes={"value": [None, target.value]},
            context={"import": True},
        )
        for target in creates
        if target.pk is not None
    )
    audit_record_many(entries)
