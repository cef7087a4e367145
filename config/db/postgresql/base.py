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
request."""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
