"""The PostgreSQL path of filing a daily report on time (issue 7, bench/README.md): two statements
in one transaction, where the portable path (services.daily_report_upsert) reads the report
under a row lock, then inserts or updates it, deletes its lines and inserts the new ones, each
statement built by the ORM.

1. `INSERT ... ON CONFLICT (organization, member, date) DO UPDATE ... RETURNING` files the
   report or replaces its counts and texts, and holds its row lock until the commit: a second
   PUT of the same report waits here. A replacement keeps the first filing's `submitted_at`,
   `is_late` and unlock. Two first filings racing need no retry: the unique constraint makes
   the second one an update.
2. One statement deletes the report's lines and inserts the new ones (`unnest` of one array per
   column). Its snapshot is taken after statement 1 got the lock, so the lines of a PUT that
   held the lock before are committed and seen: they are replaced, never doubled. This is why
   the two are not one statement: all parts of one statement share a snapshot taken before any
   of them waits for the lock.

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

from django.db import connection, transaction

from .models import DailyReport, SalesEntry, SalesSource


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


@functools.cache
def _statements(fields: tuple[str, ...]) -> tuple[str, str]:
    """The two statements for a report with these content fields (column names from the
    models, quoted; every value is a parameter)."""
    qn = connection.ops.quote_name
    report = DailyReport._meta
    column = {f.name: qn(f.column) for f in report.concrete_fields}
    keys = [column[name] for name in ("organization", "member", "date")]
    written = [*(column[name] for name in fields), column["updated_at"]]
    first_only = [column[name] for name in ("submitted_at", "is_late")]
    returned = [
        column[name] for name in ("id", "submitted_at", "is_late", "unlocked_by", "unlocked_at")
    ]
    inserted = ", ".join([*keys, *written, *first_only])
    placeholders = ", ".join(["%s"] * (len(keys) + len(written) + len(first_only)))
    updated = ", ".join(f"{name} = EXCLUDED.{name}" for name in written)
    # xmax is 0 in a row version that an INSERT made, our transaction's id after an UPDATE.
    upsert = f"""
        INSERT INTO {qn(report.db_table)} ({inserted}) VALUES ({placeholders})
        ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {updated}
        RETURNING {", ".join(returned)}, (xmax = 0)
    """  # noqa: S608 - names from the models, values as parameters
    entry = SalesEntry._meta
    line = {f.name: qn(f.column) for f in entry.concrete_fields}
    table = qn(entry.db_table)
    lines = f"""
        WITH gone AS (
            DELETE FROM {table}
            WHERE {line["organization"]} = %(organization)s AND {line["daily_report"]} = %(report)s
        )
        INSERT INTO {table}
            ({line["organization"]}, {line["date"]}, {line["member"]}, {line["product"]},
             {line["customer"]}, {line["region"]}, {line["quantity"]}, {line["amount"]},
             {line["collected"]}, {line["profit"]}, {line["source"]}, {line["daily_report"]},
             {line["recorded_by"]}, {line["created_at"]})
        SELECT %(organization)s, %(date)s, %(member)s, v.product, v.customer, %(region)s,
               v.quantity, v.amount, v.collected, v.profit, %(source)s, %(report)s,
               %(member)s, %(now)s
        FROM unnest(%(products)s::bigint[], %(customers)s::bigint[], %(quantities)s::integer[],
                    %(amounts)s::numeric[], %(collected)s::numeric[], %(profits)s::numeric[])
             WITH ORDINALITY AS v(product, customer, quantity, amount, collected, profit, n)
        ORDER BY v.n
        RETURNING {line["id"]}
    """  # noqa: S608 - names from the models, values as parameters
    return upsert, lines


def _lines_replace(cursor, statement: str, params: dict) -> list[int]:
    """Run the lines' statement; the new lines' ids in the order given (the sequence hands
    them out in the order the rows are inserted: ORDER BY v.n)."""
    cursor.execute(statement, params)
    return sorted(row[0] for row in cursor.fetchall())


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
    fields = tuple(values)
    upsert, replace = _statements(fields)
    lines_params = {
        "organization": organization_id,
        "date": day,
        "member": member_id,
        "region": region_id,
        "source": SalesSource.REPORT.value,
        "now": now,
        "products": [line.product_id for line in lines],
        "customers": [line.customer_id for line in lines],
        "quantities": [line.quantity for line in lines],
        "amounts": [line.amount for line in lines],
        "collected": [line.collected for line in lines],
        "profits": [line.profit for line in lines],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(upsert, [organization_id, member_id, day, *values.values(), now, now, False])
        report_id, submitted_at, is_late, unlocked_by_id, unlocked_at, created = cursor.fetchone()
        line_ids = _lines_replace(cursor, replace, {**lines_params, "report": report_id})
    return Filed(report_id, created, submitted_at, is_late, unlocked_by_id, unlocked_at, line_ids)
