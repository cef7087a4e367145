"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a persistent connection before a request's first query
by running `SELECT 1`: a round trip on every request, a fifth of a cheap one's database time
(issue 7, bench/README.md). A connection that is idle between requests has nothing to read, so
the check here polls its socket instead, without waiting: nothing to read means usable. When
there is something (the server closed the connection: a restart, `pg_terminate_backend`, an
idle timeout; or, rarely, a notice), Django's `SELECT 1` decides as before.

What neither notices in advance is a peer that vanished without closing the connection (a host
that rebooted): `SELECT 1` learnt it from the reset its packet drew, here the request's first
query does and fails (503, config/middleware.py), and the connection is replaced for the next
request.

It also reads `timestamptz` values with psycopg's C loader (`UTCTimestamptzLoader`) where
Django registers a Python one: Django's loader parses each value in Python, then sets its time
zone to UTC, which the session's time zone already is (Django sets it when connecting); psycopg's
own loader gives the same aware datetimes (`datetime.timezone.utc`) about ten times faster. A page
of 200 daily reports holds 600 of them (issue 7, bench/README.md)."""

import datetime as dt
import select

from django.db.backends.postgresql import base
from psycopg import _cmodule, pq
from psycopg.adapt import Loader

# psycopg's C implementation (psycopg-binary or psycopg-c), None with the pure-Python one.
_C_TIMESTAMPTZ_LOADER = getattr(_cmodule._psycopg, "TimestamptzLoader", None)


class UTCTimestamptzLoader(Loader):
    """psycopg's C `timestamptz` loader, for a session whose time zone is UTC. `timezone` is
    what Django's `create_cursor` compares with the connection's time zone (its own loaders
    carry it); the C loader cannot be subclassed, so each instance hands its `load` over."""

    timezone = dt.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self.c_load = _C_TIMESTAMPTZ_LOADER(oid, context).load
        self.load = self.c_load  # what psycopg calls for each value: C, no Python frame

    def load(self, data):
        return self.c_load(data)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # The session's time zone is set to self.timezone when the connection is configured,
        # before any cursor reads a value.
        if _C_TIMESTAMPTZ_LOADER is not None and self.timezone == dt.UTC:
            connection.adapters.register_loader("timestamptz", UTCTimestamptzLoader)
        return connection

    def is_usable(self):
        if self.connection is None:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        try:
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
            waiting = poller.poll(0)
        except (OSError, ValueError, self.Database.Error):
            return False
        return not waiting or super().is_usable()
