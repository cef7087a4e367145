"""The PostgreSQL backend (config/db/postgresql/base.py): the health check costs no round trip
for an idle connection, a connection the server closed is replaced before the request's query,
and timestamps read by psycopg's C loader are what Django's loader reads."""

import datetime as dt
import select

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

from config.db.postgresql import base as postgresql_base

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="needs PostgreSQL (DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def select_one_calls(monkeypatch):
    """Counts the health checks that ran Django's `SELECT 1`."""
    calls = []
    real = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _next_request_checks() -> None:
    """What Django does between two requests of a persistent connection (CONN_MAX_AGE: the
    tests' is 0, which would close it anyway)."""
    connection.close_at = None
    connection.close_if_unusable_or_obsolete()
    connection.health_check_done = False


def test_the_backend_is_in_use():
    assert settings.DATABASES["default"]["ENGINE"] == "config.db.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_an_idle_connection_is_checked_without_a_query(select_one_calls):
    pid = _backend_pid()
    _next_request_checks()
    assert _backend_pid() == pid  # the same connection, reused
    assert connection.health_check_done  # checked before that query
    assert select_one_calls == []


def test_a_connection_the_server_closed_is_replaced_before_the_next_query(select_one_calls):
    pid = _backend_pid()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    socket = connection.connection.pgconn.socket
    poller = select.poll()
    poller.register(socket, select.POLLIN)
    assert poller.poll(5000)  # the server's goodbye has arrived
    _next_request_checks()
    assert _backend_pid() != pid  # a new connection answered, no error
    assert select_one_calls == [1]  # Django's check confirmed what the socket showed


TIMESTAMPS = [
    "2026-03-10 09:00:00+08",
    "2026-03-10 09:00:00.123456+08",
    "2026-12-31 23:59:59.999999-05:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59+00",
    "1969-07-20 20:17:40+00",
]


def _read(cursor) -> list:
    values = ", ".join(f"'{value}'::timestamptz" for value in TIMESTAMPS)
    cursor.execute(f"SELECT {values}, NULL::timestamptz")  # noqa: S608 - constants above
    return list(cursor.fetchone())


@pytest.mark.skipif(
    postgresql_base._C_TIMESTAMPTZ_LOADER is None, reason="psycopg's C implementation"
)
def test_timestamps_are_read_by_psycopgs_c_loader_as_django_reads_them():
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    with connection.cursor() as cursor:
        loader = connection.connection.adapters.get_loader(1184, Format.TEXT)  # timestamptz
        assert loader is postgresql_base.UTCTimestamptzLoader
        ours = _read(cursor)
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's own, on this cursor
        djangos = _read(cursor)
    assert ours == djangos
    assert [value.tzinfo for value in ours[:-1]] == [dt.UTC] * len(TIMESTAMPS)
    assert ours[0] == dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)
    assert ours[1].microsecond == 123456
    assert ours[-1] is None
