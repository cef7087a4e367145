"""One exception handler for the whole API: whatever a client sends, the answer is a 4xx with a
message, never a 500 (the contract in ../shared/API.md, "Errors")."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from agents.errors import Conflict as DomainConflict


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
        return Response(
            {"detail": _("This object is still in use and cannot be deleted.")},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
