"""A database outage answers 503, never a 500 (issue 8, fault tolerance).

PostgreSQL restarting, failing over or refusing connections is not the client's fault and
usually short: the answer is 503 JSON with Retry-After, so that clients and load balancers retry,
and the process keeps serving: Django opens a new connection on the next request
(CONN_HEALTH_CHECKS drops a broken persistent one). The API's exception handler
(agents/api/exceptions.py) answers the same for API views; this middleware covers the rest
(the admin, plain Django views)."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger("agentteams.database")

RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        {"detail": _("The service is temporarily unavailable. Please try again shortly.")},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def log_database_error(exc: Exception, request) -> None:
    logger.error(
        "database unavailable: %s %s: %s: %s",
        request.method,
        request.path,
        exc.__class__.__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
    )


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            log_database_error(exception, request)
            return database_unavailable_response()
        return None
