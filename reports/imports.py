"""Sales from a spreadsheet (CSV or XLSX): every row or none.

Columns are found by their header (English or Chinese names, any order, any case; other columns
are ignored): date, member (agent code or username), product (SKU), customer (optional: id or
name), quantity, amount, collected (optional). Every row is checked before anything is written;
if any row is bad, every bad row is reported with its spreadsheet row number (the header is row
1), the field and the message, and nothing is written. Lookups are loaded once into dicts and the
rows are written with bulk_create, so 50,000 rows take a handful of queries.
"""

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Customer, Membership, Organization, Product
from agents.selectors import member_scope_q

from .models import SalesEntry, SalesSource
from .services import MONEY_LIMIT

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
BATCH_SIZE = 2000
CENT = Decimal("0.01")

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


class ImportFileError(Exception):
    """The file itself cannot be read (400 on the `file` field)."""


class ImportRowsError(Exception):
    """Some rows are bad: `errors` lists them all; nothing was written."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


# --- Reading --------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK text."))


def _csv_rows(data: bytes) -> Iterator[list]:
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        yield from csv.reader(io.StringIO(text), dialect)
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc


def _xlsx_rows(data: bytes) -> Iterator[list]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_spreadsheet(*, data: bytes, filename: str) -> Iterator[list]:
    """The rows of the first sheet (CSV: the file), header first, as lists of cell values."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(data)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _csv_rows(data)
    raise ImportFileError(_("Upload a .csv or .xlsx file."))


def _header_map(header: list) -> tuple[dict[str, int], list[dict]]:
    aliases = {alias: key for key, names in COLUMNS.items() for alias in names}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = aliases.get(str(cell or "").strip().lower())
        if key is not None and key not in positions:
            positions[key] = index
    errors = [
        {"row": 1, "field": key, "message": _("The column is missing.")}
        for key in REQUIRED
        if key not in positions
    ]
    return positions, errors


# --- Cell parsing ---------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # XLSX numbers: 1001.0 is the code "1001"
    return str(value).strip()


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).replace("/", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("Use a date like 2026-03-31.")) from None


def _int(value) -> int:
    if isinstance(value, bool):
        raise ValueError(_("Enter a whole number."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = _text(value).replace(",", "")
        if not text.lstrip("-").isdigit():
            raise ValueError(_("Enter a whole number."))
        number = int(text)
    if number < 0:
        raise ValueError(_("Must not be negative."))
    if number > 1_000_000:
        raise ValueError(_("This number is too large."))
    return number


def _money(value) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(_("Enter an amount such as 1280.00."))
    text = repr(value) if isinstance(value, float) else _text(value).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter an amount such as 1280.00.")) from None
    if not number.is_finite():
        raise ValueError(_("Enter an amount such as 1280.00."))
    if number < 0:
        raise ValueError(_("Must not be negative."))
    if number >= MONEY_LIMIT:
        raise ValueError(_("This amount is too large."))
    if number != number.quantize(CENT):
        raise ValueError(_("Use at most two decimal places."))
    return number.quantize(CENT)


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
    products: dict[str, tuple[int, Decimal]]
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
        sku.strip().lower(): (pk, cost)
        for pk, sku, cost in Product.objects.filter(organization=organization).values_list(
            "pk", "sku", "cost"
        )
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
            values["date"] = day = _date(cell("date"))
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
        else:
            values["product_id"], values["cost"] = product
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
    for key, parse in (("quantity", _int), ("amount", _money), ("collected", _money)):
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
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        raise ImportRowsError([{"row": 1, "field": "file", "message": _("The file is empty.")}])
    positions, errors = _header_map(header)
    if errors:
        raise ImportRowsError(errors)
    lookups = _load_lookups(
        organization=organization, actor=actor, with_customers="customer" in positions
    )
    today = organization.local_today()
    recorded_by_id = actor.pk if actor is not None and actor.pk else None
    entries: list[SalesEntry] = []
    for row_number, cells in enumerate(iterator, start=2):
        if progress is not None:
            progress(1)
        if all(_text(value) == "" for value in cells):
            continue  # blank lines at the end of a sheet
        if row_number - 1 > MAX_ROWS:
            errors.append(
                {
                    "row": row_number,
                    "field": "file",
                    "message": _("A file can hold at most %(count)d rows.") % {"count": MAX_ROWS},
                }
            )
            break
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
            errors.extend(
                {"row": row_number, "field": field, "message": message}
                for field, message in row_errors.items()
            )
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
    if errors:
        raise ImportRowsError(errors)
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
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is too large."))
    rows = read_spreadsheet(data=data, filename=filename)
    return sales_import(organization=organization, actor=actor, rows=rows, progress=progress)
