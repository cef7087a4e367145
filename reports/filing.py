"""The PostgreSQL path of filing a daily report on time (issue 7, bench/README.md): one call of
the function `reports_daily_report_file` (reports/migrations/0002, 0004), one round trip, where
the portable path (services.daily_report_upsert) reads the report under a row lock, inserts or
updates it, then reads its lines and updates, deletes or adds them, each statement built by the
ORM, in a transaction (BEGIN and COMMIT are round trips too).

The function (as migration 0004 left it) runs these statements, each with its own snapshot (a
VOLATILE function's, in READ COMMITTED):
1. `INSERT ... ON CONFLICT (organization, member, date) DO UPDATE ... RETURNING` files the
   report or replaces its counts and texts, and holds its row lock until the commit: a second
   PUT of the same report waits here. A replacement keeps the first filing's `submitted_at`,
   `is_late` and unlock. Two first filings racing need no retry: the unique constraint makes
   the second one an update.
2. On a replacement, the stored lines, read in id order and locked (`FOR NO KEY UPDATE`). The
   snapshot is taken after statement 1 got the lock, so the lines of a PUT that held the lock
   before are committed and seen: paired with the new ones, never doubled. This is why it is
   not one statement: all parts of one statement share a snapshot taken before any of them
   waits for the lock. The n-th line sent updates the n-th stored line when it differs (it
   keeps its id); stored lines beyond those sent are deleted.
3. `INSERT` of the lines beyond the stored ones (`unnest` of one array per column), returning
   their ids.

Called outside a transaction, the call is its own transaction; inside one, part of it.

Only on time (services decides): before the day's cut-off a report is always editable, a first
filing is not late and nothing is audited. Late filings and edits, and SQLite, take the
portable path with its rules and audit. tests/reports/test_filing.py files the same requests
both ways and compares what is stored and answered.

Two callers: the DRF view's service (`report_file_on_time`, lines already checked in Python,
through a cursor) and the PUT's fast path (`report_file_checked`: the function of migration 0003
checks the lines' references and profits first, and the call is pipelined with its commit,
config/db/postgresql/pipeline.py). Both give the report with its lines for the answer, built
from what the call returned (`_filed_report`).
"""

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import NamedTuple, TypeVar

from django.db import connection

from agents.compiled import instances_from_values
from config.db.postgresql import pipeline

T = TypeVar("T")


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
):
    """File or replace the member's report of `day` with `values` (every content field) and
    replace its lines: (the report with its lines, whether it was created). See the module
    docstring; the caller has checked the input and that the report is filed on time."""
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
    filed = Filed(*row[:6], list(row[6]))
    report = _filed_report(
        organization_id,
        member_id,
        region_id,
        day=day,
        values=values,
        lines=lines,
        filed=filed,
        now=now,
    )
    return report, filed.created


# The checked call with positional parameters, each cast, sent as text: one prepared statement
# serves every call of a connection, whatever the Python types of the values.
_CHECKED_PARAMETERS = (
    ("organization", "bigint"),
    ("member", "bigint"),
    ("region", "bigint"),
    ("date", "date"),
    ("now", "timestamptz"),
    ("manager", "boolean"),
    ("path", "text"),
    ("money_limit", "numeric"),
)
_CHECKED_LINES = (
    ("products", "bigint[]"),
    ("customers", "bigint[]"),
    ("quantities", "integer[]"),
    ("amounts", "numeric[]"),
    ("collected", "numeric[]"),
)
_CHECKED_FUNCTION = "reports_daily_report_file_checked"
_CHECKED_STATEMENT = _CHECKED_FUNCTION.encode()


@functools.cache
def _checked_call(fields: tuple[tuple[str, str], ...]) -> bytes:
    named = [*_CHECKED_PARAMETERS, *fields, *_CHECKED_LINES]
    arguments = ", ".join(
        f"p_{name} => ${number}::{kind}" for number, (name, kind) in enumerate(named, 1)
    )
    # The arguments are names and types of this module, not input.
    select = "SELECT refused, report_id, created, submitted_at, is_late, unlocked_by_id,"
    return f"{select} unlocked_at, line_ids, profits FROM {_CHECKED_FUNCTION}({arguments})".encode()


def report_file_checked(
    *,
    organization_id: int,
    member_id: int,
    region_id: int | None,
    manager: bool,
    path: str,
    money_limit: Decimal,
    day: dt.date,
    values: dict,
    kinds: dict[str, str],
    lines: Sequence[tuple[int, int | None, int, Decimal, Decimal]],
    now: dt.datetime,
    answer: Callable[[object], T],
) -> tuple[bool, T] | None:
    """`report_file_on_time` for lines not checked yet, (product id, customer id, quantity,
    amount, collected), with `values` of the SQL types `kinds`; None when refused.

    The function `reports_daily_report_file_checked` (migration 0003) checks the references and
    the profits with services.daily_report_upsert's rules, works the profits out from the
    products' costs and files; or refuses, writing nothing. The caller has checked everything
    else: the input's types and ranges, and that the report is filed on time.

    Returns (whether the report was created, what `answer(report)` returned for the report
    with its lines). `answer` builds the answer while the commit is made durable: the call, a
    flush request and the transaction's end are sent at once (config/db/postgresql/pipeline.py),
    the row comes back before the commit's write-ahead log reaches the disk, and this returns
    only once it has: a report is never answered before it is stored."""
    fields = tuple((name, kinds[name]) for name in values)
    parameters = [
        organization_id,
        member_id,
        region_id,
        day,
        now,
        manager,
        path,
        money_limit,
        *values.values(),
        [line[0] for line in lines],
        [line[1] for line in lines],
        [line[2] for line in lines],
        [line[3] for line in lines],
        [line[4] for line in lines],
    ]

    def on_row(row):
        if row[0]:
            return None
        filed = Filed(*row[1:7], list(row[7]))
        checked = [LineValues(*line, profit) for line, profit in zip(lines, row[8], strict=True)]
        report = _filed_report(
            organization_id,
            member_id,
            region_id,
            day=day,
            values=values,
            lines=checked,
            filed=filed,
            now=now,
        )
        return filed.created, answer(report)

    return pipeline.call_then_commit(
        connection,
        name=_CHECKED_STATEMENT,
        statement=_checked_call(fields),
        parameters=parameters,
        on_row=on_row,
    )


_REPORT_ANSWERED = (
    "id",
    "organization_id",
    "member_id",
    "date",
    "submitted_at",
    "updated_at",
    "is_late",
    "unlocked_by_id",
    "unlocked_at",
)
_LINE_ANSWERED = (
    "id",
    "organization_id",
    "date",
    "member_id",
    "product_id",
    "customer_id",
    "region_id",
    "quantity",
    "amount",
    "collected",
    "profit",
    "source",
    "daily_report_id",
    "recorded_by_id",
)  # not created_at: a kept line's is its first filing's, which the call does not return


def _filed_report(
    organization_id: int,
    member_id: int,
    region_id: int | None,
    *,
    day: dt.date,
    values: dict,
    lines: Sequence[LineValues],
    filed: Filed,
    now: dt.datetime,
):
    """The report just filed, with its lines attached (as `report_lines_attach` does), built
    from what the call returned: nothing is read again for the answer, and the instances are
    built as unpickling builds them (agents.compiled.instances_from_values)."""
    from reports.models import DailyReport, SalesEntry, SalesSource

    (report,) = instances_from_values(
        DailyReport,
        (*_REPORT_ANSWERED, *values),
        [
            (
                filed.report_id,
                organization_id,
                member_id,
                day,
                filed.submitted_at,
                now,
                filed.is_late,
                filed.unlocked_by_id,
                filed.unlocked_at,
                *values.values(),
            )
        ],
    )
    report._prefetched_objects_cache = {
        "lines": instances_from_values(
            SalesEntry,
            _LINE_ANSWERED,
            [
                (
                    pk,
                    organization_id,
                    day,
                    member_id,
                    *line[:2],
                    region_id,
                    *line[2:],
                    SalesSource.REPORT,
                    filed.report_id,
                    member_id,
                )
                for pk, line in zip(filed.line_ids, lines, strict=True)
            ],
        )
    }
    return report
