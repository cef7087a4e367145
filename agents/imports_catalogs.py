"""Products and customers from a spreadsheet: every row or none, with a dry-run preview (the
shared machinery is in agents/imports.py and agents/spreadsheets.py).

Products: sku (required; a known SKU updates that product, any other creates one), name (required
for new products), category, price, cost, hero (yes/no), active (yes/no).

Customers: name (required), owner (the owner's agent code), kind, region (name or path), status,
first order on, lost on, lost reason, and an optional id column. A row with an id updates that
customer; without one, a row updates the one customer of the organization with that name and
owner (compared case-insensitively) and creates a customer when there is none; when several
match, the row must give the id. Leaders import only customers owned inside their subtree (and
must name an owner); owners of another branch, like other organizations' codes, are unknown.

On an update an empty cell leaves the value as it is.
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .bulk import bulk_update_rows
from .imports import (
    CREATE,
    UPDATE,
    ImportResult,
    RegionLookup,
    members_by_code,
)
from .models import Customer, CustomerKind, CustomerStatus, Membership, Organization, Product
from .selectors import member_scope_q
from .spreadsheets import (
    BATCH_SIZE,
    ImportRowsError,
    Progress,
    RowErrors,
    cell_reader,
    choice_lookup,
    data_rows,
    header_map,
    parse_bool,
    parse_choice,
    parse_date,
    parse_money,
    parse_text,
    split_header,
    text,
)


def _parse_into(values: dict, errors: dict, cell, key: str, parser) -> None:
    raw = cell(key)
    if text(raw) == "" or key in errors:
        return
    try:
        values[key] = parser(raw)
    except ValueError as exc:
        errors[key] = str(exc)


# --- Products -----------------------------------------------------------------------------------

PRODUCT_COLUMNS = {
    "sku": ("sku", "product sku", "code", "产品编码", "商品编码", "编码"),
    "name": ("name", "product", "product name", "名称", "产品名称", "商品名称"),
    "category": ("category", "类别", "分类", "品类"),
    "price": ("price", "价格", "售价", "单价"),
    "cost": ("cost", "成本"),
    "is_hero": ("hero", "is hero", "hero product", "爆品", "主推"),
    "is_active": ("active", "is active", "在售", "启用"),
}
PRODUCT_FIELDS = ["name", "category", "price", "cost", "is_hero", "is_active"]


def products_import(
    *,
    organization: Organization,
    actor: Membership | None,
    rows: Iterable[list],
    dry_run: bool = False,
    progress: Progress = None,
) -> ImportResult:
    """Create or update products by SKU, all or none (see the module docstring)."""
    header, iterator = split_header(rows)
    positions, header_errors = header_map(header, PRODUCT_COLUMNS, ("sku",))
    if header_errors:
        raise ImportRowsError(header_errors)
    with transaction.atomic():
        existing = {
            sku.strip().lower(): pk
            for pk, sku in Product.objects.filter(organization=organization).values_list(
                "pk", "sku"
            )
        }
        errors = RowErrors()
        result = ImportResult(dry_run=dry_run, columns=PRODUCT_FIELDS)
        creates, updates, seen = [], [], {}
        for row, cells in data_rows(iterator, errors=errors, progress=progress):
            cell = cell_reader(cells, positions)
            row_errors: dict = {}
            values: dict = {}
            _parse_into(values, row_errors, cell, "sku", lambda raw: parse_text(raw, max_length=64))
            sku = values.get("sku", "")
            if not sku and "sku" not in row_errors:
                row_errors["sku"] = _("This value is required.")
            elif sku.lower() in seen:
                row_errors["sku"] = _("This SKU is also on row %(row)d.") % {
                    "row": seen[sku.lower()]
                }
            seen.setdefault(sku.lower(), row)
            pk = existing.get(sku.lower())
            _parse_into(values, row_errors, cell, "name", lambda r: parse_text(r, max_length=200))
            _parse_into(
                values, row_errors, cell, "category", lambda r: parse_text(r, max_length=100)
            )
            _parse_into(values, row_errors, cell, "price", parse_money)
            _parse_into(values, row_errors, cell, "cost", parse_money)
            _parse_into(values, row_errors, cell, "is_hero", parse_bool)
            _parse_into(values, row_errors, cell, "is_active", parse_bool)
            if pk is None and not values.get("name") and "name" not in row_errors:
                row_errors["name"] = _("A new product needs a name.")
            if row_errors:
                errors.add_all(row, row_errors)
                continue
            action = UPDATE if pk is not None else CREATE
            result.add(row=row, action=action, key=sku, values=values)
            if errors:
                continue
            if pk is None:
                creates.append(Product(organization=organization, **values))
            else:
                # The SKU matched case-insensitively: it keeps its spelling.
                updates.append((pk, {k: v for k, v in values.items() if k != "sku"}))
        errors.raise_if_any()
        if not dry_run:
            Product.objects.bulk_create(creates, batch_size=BATCH_SIZE)
            _bulk_update_partial(Product, organization, updates)
    return result


def _bulk_update_partial(model, organization: Organization, updates: list, extra=None) -> None:
    """Update each (pk, values) with only the values its row gave: one bulk write per set of
    columns (a file usually has one), never a save() per row."""
    groups: dict[tuple, list] = {}
    for pk, values in updates:
        fields = tuple(sorted(values))
        instance = model(pk=pk, organization=organization, **values)
        for name, value in (extra or {}).items():
            setattr(instance, name, value)
        groups.setdefault(fields, []).append(instance)
    for fields, instances in groups.items():
        names = [*(f.removesuffix("_id") for f in fields), *(extra or {})]
        if names:
            bulk_update_rows(model, instances, names, organization_id=organization.pk)


# --- Customers ----------------------------------------------------------------------------------

CUSTOMER_COLUMNS = {
    "id": ("id", "customer id", "客户id", "客户编号"),
    "name": ("name", "customer", "customer name", "客户", "客户名称", "名称"),
    "owner": ("owner", "owner code", "agent code", "agent", "负责人", "代理编号", "所属代理"),
    "kind": ("kind", "type", "类型", "客户类型"),
    "region": ("region", "区域", "地区"),
    "status": ("status", "状态"),
    "first_order_on": ("first order on", "first order", "首单日期", "首次下单"),
    "lost_on": ("lost on", "流失日期"),
    "lost_reason": ("lost reason", "reason lost", "流失原因"),
}
CUSTOMER_FIELDS = [
    "name",
    "owner",
    "kind",
    "region",
    "status",
    "first_order_on",
    "lost_on",
    "lost_reason",
]


def _load_customers(organization: Organization, actor: Membership | None) -> list[tuple]:
    customers = Customer.objects.filter(organization=organization)
    if actor is not None and not actor.is_manager:
        customers = customers.filter(member_scope_q(membership=actor, prefix="owner__"))
    return list(
        customers.values_list("pk", "name", "owner_id", "status", "first_order_on", "lost_on")
    )


def customers_import(
    *,
    organization: Organization,
    actor: Membership | None,
    rows: Iterable[list],
    dry_run: bool = False,
    progress: Progress = None,
) -> ImportResult:
    """Create or update customers, all or none (see the module docstring for how rows match)."""
    header, iterator = split_header(rows)
    positions, header_errors = header_map(header, CUSTOMER_COLUMNS, ("name",))
    if header_errors:
        raise ImportRowsError(header_errors)
    with transaction.atomic():
        owners = members_by_code(organization=organization, actor=actor)
        code_of = {pk: code for code, (pk, _path, _status) in owners.items()}
        known = _load_customers(organization, actor)
        by_id = {row[0]: row for row in known}
        by_name_owner: dict[tuple, list[int]] = {}
        for pk, name, owner_id, *_rest in known:
            by_name_owner.setdefault((name.strip().lower(), owner_id), []).append(pk)
        regions = RegionLookup(organization)
        kinds, statuses = choice_lookup(CustomerKind.choices), choice_lookup(CustomerStatus.choices)
        must_own = actor is not None and not actor.is_manager
        today = organization.local_today()

        errors = RowErrors()
        result = ImportResult(dry_run=dry_run, columns=CUSTOMER_FIELDS)
        creates, updates, seen = [], [], {}
        for row, cells in data_rows(iterator, errors=errors, progress=progress):
            cell = cell_reader(cells, positions)
            row_errors: dict = {}
            values: dict = {}
            _parse_into(values, row_errors, cell, "name", lambda r: parse_text(r, max_length=200))
            if not values.get("name") and "name" not in row_errors:
                row_errors["name"] = _("This value is required.")
            owner_code = text(cell("owner")).lower()
            if owner_code:
                owner = owners.get(owner_code)
                if owner is None:
                    row_errors["owner"] = _("Unknown agent code.")
                else:
                    values["owner_id"] = owner[0]
            elif must_own:
                row_errors["owner"] = _("Name the owner's agent code.")
            _parse_into(
                values,
                row_errors,
                cell,
                "kind",
                lambda r: parse_choice(r, kinds, CustomerKind.choices),
            )
            _parse_into(
                values,
                row_errors,
                cell,
                "status",
                lambda r: parse_choice(r, statuses, CustomerStatus.choices),
            )
            _parse_into(values, row_errors, cell, "region", regions.find)
            _parse_into(values, row_errors, cell, "first_order_on", parse_date)
            _parse_into(values, row_errors, cell, "lost_on", parse_date)
            _parse_into(
                values, row_errors, cell, "lost_reason", lambda r: parse_text(r, max_length=300)
            )
            if "region" in values:
                values["region_id"] = values.pop("region")
            pk = _match_customer(
                cell=cell,
                values=values,
                by_id=by_id,
                by_name_owner=by_name_owner,
                errors=row_errors,
            )
            if pk is not None and pk in seen:
                row_errors["id"] = _("This customer is also on row %(row)d.") % {"row": seen[pk]}
            if pk is not None:
                seen.setdefault(pk, row)
            if not row_errors:
                _check_customer_dates(
                    values=values, current=by_id.get(pk), today=today, errors=row_errors
                )
            if row_errors:
                errors.add_all(row, row_errors)
                continue
            shown = {
                **values,
                "owner": code_of.get(values.get("owner_id"), "").upper() or None,
                "region": regions.label.get(values.get("region_id")),
            }
            shown.pop("owner_id", None)
            shown.pop("region_id", None)
            result.add(row=row, action=UPDATE if pk else CREATE, key=values["name"], values=shown)
            if errors:
                continue
            if pk is None:
                creates.append(Customer(organization=organization, **values))
            else:
                updates.append((pk, values))
        errors.raise_if_any()
        if not dry_run:
            now = timezone.now()
            for customer in creates:
                customer.created_at = customer.updated_at = now
            Customer.objects.bulk_create(creates, batch_size=BATCH_SIZE)
            _bulk_update_partial(Customer, organization, updates, extra={"updated_at": now})
    return result


def _match_customer(*, cell, values: dict, by_id: dict, by_name_owner: dict, errors: dict):
    raw_id = text(cell("id"))
    if raw_id:
        if not raw_id.isdigit() or int(raw_id) not in by_id:
            errors["id"] = _("Unknown customer.")
            return None
        return int(raw_id)
    if "name" in errors or "owner" in errors:
        return None
    found = by_name_owner.get((values["name"].strip().lower(), values.get("owner_id")), [])
    if len(found) > 1:
        errors["name"] = _("Several customers have this name and owner: add an id column.")
        return None
    return found[0] if found else None


def _check_customer_dates(*, values: dict, current, today, errors: dict) -> None:
    """The API's rules: a lost customer has a lost date (today by default), never before the
    first order."""
    status = values.get("status", current[3] if current else CustomerStatus.PROSPECT)
    first_order_on = values.get("first_order_on", current[4] if current else None)
    lost_on = values.get("lost_on", current[5] if current else None)
    if status == CustomerStatus.LOST and lost_on is None:
        values["lost_on"] = lost_on = today
    if lost_on and first_order_on and lost_on < first_order_on:
        errors["lost_on"] = _("A customer cannot be lost before the first order.")
