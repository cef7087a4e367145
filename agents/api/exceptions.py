"""One exception handler for the whole API: whatever a client sends, the answer is a 4xx with a
message, never a 500 (the contract in ../shared/API.md, "Errors")."""

import json

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from agents.errors import Conflict as DomainConflict
from config.middleware import DATABASE_ERRORS, database_unavailable_response, log_database_error


class Conflict(exceptions.APIException):
    """409: the request is valid but not allowed in the object's current state."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def exception_handler(exc, context):
    if isinstance(exc, DATABASE_ERRORS):
        # The database is down or restarting (config/middleware.py): 503 with Retry-After.
        request = context.get("request")
        log_database_error(exc, request)
        unavailable = database_unavailable_response()
        return Response(
            json.loads(unavailable.content),
            status=unavailable.status_code,
            headers={"Retry-After": unavailable["Retry-After"]},
        )
    if isinstance(exc, RequestDataTooBig):
        # Django would answer a bare HTML 400; nothing was parsed, so nothing was written.
        exc = PayloadTooLarge(_("The request body is too large."))
    if isinstance(exc, DomainConflict):
        body = {"detail": exc.message}
        if exc.details is not None:
            body["details"] = exc.details
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        return _in_use(exc, context)
    return drf_exception_handler(exc, context)


def _in_use(exc, context) -> Response:
    """409 for a delete that would take facts with it (foreign keys to members, products,
    customers and regions are PROTECT): what still uses the object, counted by kind, and for
    what can be deactivated, the hint to do that instead."""
    counts: dict[str, int] = {}
    objects = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
    for obj in objects:
        name = str(obj._meta.verbose_name_plural)
        counts[name] = counts.get(name, 0) + 1
    view = context.get("view")
    model = getattr(getattr(view, "queryset", None), "model", None)
    if model is not None and any(field.name == "is_active" for field in model._meta.fields):
        detail = _(
            "This object is still in use and cannot be deleted; deactivate it instead "
            "(is_active: false)."
        )
    else:
        detail = _("This object is still in use and cannot be deleted.")
    return Response(
        {"detail": detail, "protected": counts},
        status=status.HTTP_409_CONFLICT,
    )
