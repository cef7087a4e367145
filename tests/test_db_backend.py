"""The PostgreSQL backend's health check (config/db/postgresql/base.py): no round trip for an
idle connection, and a connection the server closed is replaced before the request's query."""

import select

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

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
