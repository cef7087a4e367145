"""The PostgreSQL path of filing a daily report on time (issue 7, bench/README.md): one call of
the function `reports_daily_report_file` (reports/migrations/0002), one round trip, where the
portable path (services.daily_report_upsert) reads the report under a row lock, then inserts or
updates it, deletes its lines and inserts the new ones, each statement built by the ORM, in a
transaction (BEGIN and COMMIT are round trips too).

The function runs three statements, each with its own snapshot (a VOLATILE function's, in READ
COMMITTED):
1. `INSERT ... ON CONFLICT (organization, member, date) DO UPDATE ... RETURNING` files the
   report or replaces its counts and texts, and holds its row lock until the commit: a second
   PUT of the same report waits here. A replacement keeps the first filing's `submitted_at`,
   `is_late` and unlock. Two first filings racing need no retry: the unique constraint makes
   the second one an update.
2. `DELETE` of the report's lines. Its snapshot is taken after statement 1 got the lock, so the
   lines of a PUT that held the lock before are committed and seen: they are replaced, never
   doubled. This is why it is not one statement: all parts of one statement share a snapshot
   taken before any of them waits for the lock.
3. `INSERT` of the new lines (`unnest` of one array per column), returning their ids.

Called outside a transaction, the call is its own transaction; inside one, part of it.

Only on time (services decides): before the day's cut-off a report is always editable, a first
filing is not late and nothing is audited. Late filings and edits, and SQLite, take the
portable path with its rules and audit. tests/reports/test_filing.py files the same requests
both ways and compares what is stored and answered.
"""

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from django.db import connection


class LineValues(NamedTuple):
    product_id: int
    customer_id: int | None
    quantity: int
    amount: Decimal
    collected: Decimal
    profit: Decimal


class Filed(NamedTuple):
    report_id: int
    created: bool
    submitted_at: dt.datetime
    is_late: bool
    unlocked_by_id: int | None
    unlocked_at: dt.datetime | None
    line_ids: list[int]  # in the order of the lines given


def supported() -> bool:
    return connection.vendor == "postgresql"


# The report's content fields by name (named notation: `REPORT_FIELDS`' order does not matter,
# and a field the function does not know fails loudly), then the lines' arrays.
_CALL = """
    SELECT report_id, created, submitted_at, is_late, unlocked_by_id, unlocked_at, line_ids
    FROM reports_daily_report_file(
        p_organization => %(organization)s, p_member => %(member)s, p_region => %(region)s,
        p_date => %(date)s, p_now => %(now)s, {fields},
        p_products => %(products)s::bigint[], p_customers => %(customers)s::bigint[],
        p_quantities => %(quantities)s::integer[], p_amounts => %(amounts)s::numeric[],
        p_collected => %(collected)s::numeric[], p_profits => %(profits)s::numeric[])
"""


@functools.cache
def _call(fields: tuple[str, ...]) -> str:
    return _CALL.format(fields=", ".join(f"p_{name} => %(f_{name})s" for name in fields))


def _file(cursor, statement: str, params: dict) -> tuple:
    """Run the call; its one row (the seam tests/reports/test_concurrency.py holds open)."""
    cursor.execute(statement, params)
    return cursor.fetchone()


def report_file_on_time(
    *,
    organization_id: int,
    member_id: int,
    region_id: int | None,
    day: dt.date,
    values: dict,
    lines: Sequence[LineValues],
    now: dt.datetime,
) -> Filed:
    """File or replace the member's report of `day` with `values` (every content field) and
    replace its lines. See the module docstring; the caller has checked the input and that the
    report is filed on time."""
    params = {
        "organization": organization_id,
        "member": member_id,
        "region": region_id,
        "date": day,
        "now": now,
        **{f"f_{name}": value for name, value in values.items()},
        "products": [line.product_id for line in lines],
        "customers": [line.customer_id for line in lines],
        "quantities": [line.quantity for line in lines],
        "amounts": [line.amount for line in lines],
        "collected": [line.collected for line in lines],
        "profits": [line.profit for line in lines],
    }
    with connection.cursor() as cursor:
        row = _file(cursor, _call(tuple(values)), params)
    return Filed(*row[:6], list(row[6]))
