"""One statement and the end of its transaction in one round trip, with the statement's row read
before the commit is durable (issue 7, bench/README.md).

In autocommit a statement's transaction ends at the Sync message that follows it, and the server
answers only after the commit's write-ahead log is on disk (`synchronous_commit`): a client that
sends the statement and waits sees its row after that flush, and only then starts what it does
with it. Here the statement, a Flush request and the Sync go out together in libpq's pipeline
mode: the server runs the statement, sends its row at the Flush, then commits. `on_row` builds
the caller's answer from the row while the server waits for the disk, and `call_then_commit`
returns that answer only once the commit succeeded: nothing is answered before it is stored.
A report PUT gained about a sixth of its time.

Inside a transaction (an `atomic()` block, the tests) Sync ends nothing: the statement is part
of that transaction, as a cursor's would be (a BEGIN goes first when the block has not sent one).

What Django's cursor does for a query is done here as well: the connection is opened, and its
health checked, as for a cursor; errors come out as Django's (`wrap_database_errors`, which also
marks the connection for replacement after an error that may have broken it); the statement is
logged with its time when queries are logged (DEBUG, assertNumQueries). In autocommit the
statement is prepared once per connection under `name` (parsing the call each time cost the
server a third more), and prepared again when psycopg has deallocated it (it deallocates every
prepared statement after a rollback or DDL); inside a transaction block, or with prepared
statements off (`prepare_threshold` None: DATABASE_PREPARED_STATEMENTS=false, for a pooler that
cannot keep them), it goes unnamed. The parameters go in PostgreSQL's text format (`_text`) and
the statement must cast each one (`$1::bigint`), so that one prepared statement serves every
call."""

import datetime as dt
import logging
import select
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from psycopg import errors, pq
from psycopg.adapt import Transformer

T = TypeVar("T")

logger = logging.getLogger("django.db.backends")

# On Django's connection wrapper: {statement name: the libpq connection it is prepared on}. A new
# connection is a new libpq connection, on which the statement is prepared again.
_PREPARED = "_pipeline_prepared"

_ROWS = pq.ExecStatus.TUPLES_OK
_FAILED = pq.ExecStatus.FATAL_ERROR
_SYNC = pq.ExecStatus.PIPELINE_SYNC


def call_then_commit(
    connection,
    *,
    name: bytes,
    statement: bytes,
    parameters: list,
    on_row: Callable[[tuple], T],
) -> T:
    """Run `statement` (one row) on Django's `connection` and end its transaction; return what
    `on_row(row)` returned, once the commit is durable. See the module docstring."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    started = time.monotonic()
    with connection.wrap_database_errors:
        answer = _run(connection, name, statement, parameters, on_row)
    if connection.queries_logged:
        _log(connection, statement, parameters, time.monotonic() - started)
    return answer


def _run(connection, name, statement, parameters, on_row):
    raw = connection.connection
    pgconn = raw.pgconn
    values = [_text(value) for value in parameters]
    prepared = connection.__dict__.setdefault(_PREPARED, {})
    # Within a transaction block the statement goes unnamed: psycopg deallocates every prepared
    # statement when it rolls one back (and after DDL), which would leave a name this module
    # believes prepared, and an error there would abort the caller's transaction.
    if raw.prepare_threshold is None or not raw.autocommit:
        return _pipeline(connection, pgconn, None, statement, values, on_row, prepare=False)
    if prepared.get(name) is pgconn:
        try:
            return _pipeline(connection, pgconn, name, statement, values, on_row, prepare=False)
        except errors.InvalidSqlStatementName:
            # Deallocated since (psycopg's DEALLOCATE ALL after a rollback or DDL). Nothing
            # ran, and in autocommit nothing is left open: prepare it again.
            prepared.pop(name, None)
    answer = _pipeline(connection, pgconn, name, statement, values, on_row, prepare=True)
    prepared[name] = pgconn
    return answer


def _pipeline(connection, pgconn, name, statement, values, on_row, *, prepare):
    """Send [BEGIN,] [the statement's preparation,] its execution, a flush request and Sync;
    read the results (`_results`)."""
    raw = connection.connection
    pgconn.enter_pipeline_mode()
    try:
        if not raw.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
            pgconn.send_query_params(b"BEGIN", None)  # as psycopg starts a transaction
        if prepare:
            pgconn.send_prepare(name, statement)
        if name is None:
            pgconn.send_query_params(statement, values)
        else:
            pgconn.send_query_prepared(name, values)
        pgconn.send_flush_request()
        pgconn.pipeline_sync()
        while pgconn.flush():
            _wait(pgconn, select.POLLOUT)
        return _results(raw, pgconn, on_row)
    finally:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF and pgconn.status == pq.ConnStatus.OK:
            pgconn.exit_pipeline_mode()


def _results(raw, pgconn, on_row):
    """Read every result up to the Sync's. The statement's row goes to `on_row` as soon as it
    arrives; the first error, or what `on_row` raised, is raised once the pipeline is done."""
    transformer = Transformer(raw)
    error = failure = answer = None
    answered = False
    while True:
        result = _next(pgconn)
        if result is None:
            continue  # the end of one command's results
        status = result.status
        if status == _SYNC:
            break
        if status == _FAILED:
            error = error or result
        elif status == _ROWS and not answered and error is None:
            answered = True
            transformer.set_pgresult(result)
            try:
                answer = on_row(transformer.load_row(0, tuple))
            except Exception as exc:  # noqa: BLE001 - raised below, after the pipeline is read
                failure = exc
    if error is not None:
        raise errors.error_from_result(error, encoding=raw.info.encoding)
    if failure is not None:
        raise failure
    if not answered:
        raise errors.ProgrammingError("the statement returned no row")
    return answer


def _text(value) -> bytes | None:
    """A parameter in PostgreSQL's text input format, for the kinds of values filing sends (a
    fifth of psycopg's dumpers' time, which find a dumper per value): None, booleans, numbers,
    strings, dates and aware times, and lists of numbers or None (arrays). Anything else is a
    programming error."""
    kind = value.__class__
    if value is None:
        return None
    if kind is bool:
        return b"t" if value else b"f"
    if kind is int or kind is Decimal:
        return str(value).encode()
    if kind is str:
        return value.encode()
    if kind is dt.date:
        return value.isoformat().encode()
    if kind is dt.datetime and value.tzinfo is not None:
        return value.isoformat().encode()
    if kind is list and all(item is None or item.__class__ in (int, Decimal) for item in value):
        return (
            "{" + ",".join("NULL" if item is None else str(item) for item in value) + "}"
        ).encode()
    raise TypeError(f"cannot send {kind.__name__} as a pipelined parameter")


def _next(pgconn):
    while pgconn.is_busy():
        _wait(pgconn, select.POLLIN)
        pgconn.consume_input()
    return pgconn.get_result()


def _wait(pgconn, event) -> None:
    poller = select.poll()
    poller.register(pgconn.socket, event | select.POLLERR | select.POLLHUP)
    poller.poll()


def _log(connection, statement: bytes, parameters: list, duration: float) -> None:
    sql = f"{statement.decode()} -- {parameters!r}"
    connection.queries_log.append({"sql": sql, "time": f"{duration:.3f}"})
    logger.debug(
        "(%.3f) %s; args=%s; alias=%s",
        duration,
        sql,
        parameters,
        connection.alias,
        extra={"duration": duration, "sql": sql, "params": parameters, "alias": connection.alias},
    )
