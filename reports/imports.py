"""Sales from a spreadsheet (CSV or XLSX): every row or none.

Columns are found by their header (English or Chinese names, any order, any case; other columns
are ignored): date, member (agent code or username), product (SKU), customer (optional: id or
name), quantity, amount, collected (optional). Every row is checked before anything is written;
if any row is bad, every bad row is reported with its spreadsheet row number (the header is row
1), the field and the message, and nothing is written. Lookups are loaded once into dicts and the
rows are written with bulk_create, so 50,000 rows take a handful of queries. Reading the file,
matching headers and parsing cells is agents/spreadsheets.py, shared with the other imports.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Customer, Membership, Organization, Product
from agents.products import inactive_product_message
from agents.selectors import member_scope_q
from agents.spreadsheets import (
    BATCH_SIZE,
    MAX_FILE_BYTES,
    MAX_ROWS,
    ImportFileError,
    ImportRowsError,
    RowErrors,
    data_rows,
    header_map,
    parse_date,
    parse_int,
    parse_money,
    read_spreadsheet,
    split_header,
)
from agents.spreadsheets import text as _text

from .models import SalesEntry, SalesSource
from .services import MONEY_LIMIT

__all__ = [
    "BATCH_SIZE",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ImportFileError",
    "ImportRowsError",
    "read_spreadsheet",
    "sales_import",
    "sales_import_file",
]

COLUMNS = {
    "date": ("date", "sale date", "日期", "销售日期"),
    "member": ("member", "agent", "agent code", "code", "username", "代理", "代理编号", "成员"),
    "product": ("product", "sku", "product sku", "产品", "产品编码", "商品编码"),
    "customer": ("customer", "customer id", "客户", "客户名称"),
    "quantity": ("quantity", "qty", "数量"),
    "amount": ("amount", "sales amount", "金额", "销售额", "销售金额"),
    "collected": ("collected", "collected amount", "回款", "回款金额"),
}
REQUIRED = ("date", "member", "product", "quantity", "amount")


def _money(value) -> Decimal:
    return parse_money(value, limit=MONEY_LIMIT)


# --- Lookups --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    pk: int
    path: str
    region_id: int | None
    is_manager: bool


@dataclass
class _Lookups:
    members_by_code: dict[str, _Member]
    members_by_username: dict[str, _Member]
    products: dict[str, tuple[int, Decimal, bool]]  # sku -> (id, cost, is_active)
    customers_by_id: dict[int, str | None]  # id -> owner path
    customers_by_name: dict[str, list[int]]


def _load_lookups(
    *, organization: Organization, actor: Membership | None, with_customers: bool
) -> _Lookups:
    members = Membership.objects.filter(organization=organization)
    if actor is not None:
        members = members.filter(member_scope_q(membership=actor))
    by_code, by_username = {}, {}
    rows = members.values_list("pk", "path", "region_id", "role", "code", "user__username")
    for pk, path, region_id, role, code, username in rows:
        member = _Member(pk, path, region_id, role in ("owner", "admin"))
        if code:
            by_code[code.strip().lower()] = member
        by_username[username.lower()] = member
    products = {
        sku.strip().lower(): (pk, cost, is_active)
        for pk, sku, cost, is_active in Product.objects.filter(
            organization=organization
        ).values_list("pk", "sku", "cost", "is_active")
    }
    by_id: dict[int, str | None] = {}
    by_name: dict[str, list[int]] = {}
    if with_customers:
        for pk, name, owner_path in Customer.objects.filter(organization=organization).values_list(
            "pk", "name", "owner__path"
        ):
            by_id[pk] = owner_path
            by_name.setdefault(name.strip().lower(), []).append(pk)
    return _Lookups(by_code, by_username, products, by_id, by_name)


# --- The import -----------------------------------------------------------------------------


def _parse_row(
    *, cells: list, positions: dict[str, int], lookups: _Lookups, today: dt.date, errors: dict
) -> dict | None:
    def cell(key):
        index = positions.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    values: dict = {}
    for key in REQUIRED:
        if _text(cell(key)) == "":
            errors[key] = _("This value is required.")
    if "date" not in errors:
        try:
            values["date"] = day = parse_date(cell("date"))
            if day > today:
                errors["date"] = _("A sale cannot be dated in the future.")
        except ValueError as exc:
            errors["date"] = str(exc)
    member = None
    if "member" not in errors:
        token = _text(cell("member")).lower()
        member = lookups.members_by_code.get(token) or lookups.members_by_username.get(token)
        if member is None:
            errors["member"] = _("Unknown member (agent code or username).")
    if "product" not in errors:
        product = lookups.products.get(_text(cell("product")).lower())
        if product is None:
            errors["product"] = _("Unknown product SKU.")
        elif not product[2]:
            errors["product"] = inactive_product_message()
        else:
            values["product_id"], values["cost"] = product[:2]
    customer_token = _text(cell("customer"))
    if customer_token:
        if customer_token.isdigit() and int(customer_token) in lookups.customers_by_id:
            customer_ids = [int(customer_token)]
        else:
            customer_ids = lookups.customers_by_name.get(customer_token.lower(), [])
        if not customer_ids:
            errors["customer"] = _("Unknown customer.")
        elif len(customer_ids) > 1:
            errors["customer"] = _("Several customers have this name: use the id.")
        elif member is not None:
            owner_path = lookups.customers_by_id[customer_ids[0]]
            visible = member.is_manager or (owner_path or "").startswith(member.path)
            if not visible:
                errors["customer"] = _("This customer is not the member's.")
            values["customer_id"] = customer_ids[0]
    for key, parse in (("quantity", parse_int), ("amount", _money), ("collected", _money)):
        raw = cell(key)
        if key in errors or (key == "collected" and _text(raw) == ""):
            continue
        try:
            values[key] = parse(raw)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        return None
    values["member"] = member
    return values


def sales_import(
    *,
    organization: Organization,
    actor: Membership | None,
    rows: Iterable[list],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Import sales rows (header first, as `read_spreadsheet` yields them) as SalesEntry rows
    with source "import", all or none. `actor` None is a system import (any member); otherwise
    rows may name only members in the actor's scope. Raises ImportRowsError listing every bad
    row; returns how many rows were created."""
    header, iterator = split_header(rows)
    positions, header_errors = header_map(header, COLUMNS, REQUIRED)
    if header_errors:
        raise ImportRowsError(header_errors)
    lookups = _load_lookups(
        organization=organization, actor=actor, with_customers="customer" in positions
    )
    today = organization.local_today()
    recorded_by_id = actor.pk if actor is not None and actor.pk else None
    entries: list[SalesEntry] = []
    errors = RowErrors()
    for row_number, cells in data_rows(iterator, errors=errors, progress=progress):
        row_errors: dict = {}
        values = _parse_row(
            cells=cells, positions=positions, lookups=lookups, today=today, errors=row_errors
        )
        if values is not None:
            amount = values["amount"]
            profit = amount - values["quantity"] * values["cost"]
            if values["quantity"] == 0 and amount == 0 and not values.get("collected"):
                row_errors["quantity"] = _(
                    "A line needs a quantity, an amount or a collected amount."
                )
            elif abs(profit) >= MONEY_LIMIT:
                row_errors["quantity"] = _("Quantity times the product's cost is too large.")
        if row_errors:
            errors.add_all(row_number, row_errors)
            continue
        if errors:
            continue  # keep checking, but build nothing more
        member = values["member"]
        entries.append(
            SalesEntry(
                organization=organization,
                date=values["date"],
                member_id=member.pk,
                product_id=values["product_id"],
                customer_id=values.get("customer_id"),
                region_id=member.region_id,
                quantity=values["quantity"],
                amount=amount,
                collected=values.get("collected", Decimal("0.00")),
                profit=profit,
                source=SalesSource.IMPORT,
                recorded_by_id=recorded_by_id,
                created_at=timezone.now(),
            )
        )
    errors.raise_if_any()
    with transaction.atomic():
        SalesEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    return len(entries)


def sales_import_file(
    *,
    organization: Organization,
    actor: Membership | None,
    data: bytes,
    filename: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    rows = read_spreadsheet(data=data, filename=filename)
    return sales_import(organization=organization, actor=actor, rows=rows, progress=progress)
