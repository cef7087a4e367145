"""The OpenAPI schema documents the error answers of ../shared/API.md ("Errors") on every
operation, so clients (and the schemathesis run in tests/test_fuzz_api.py) know which status codes
to expect: DRF's views answer them, but drf-spectacular only documents the success codes."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# {"field": ["message", ...], ...}; `non_field_errors` for cross-field errors; nested serializers
# nest the same shape, so values are left open.
_VALIDATION = {"type": "object", "additionalProperties": {}}

_ERRORS = {
    "400": ("Invalid input: the fields at fault and their messages.", _VALIDATION),
    "401": ("Not authenticated, or bad credentials.", _DETAIL),
    "403": ("A power the caller lacks on something they can see.", _DETAIL),
    "404": ("Outside the caller's organization or scope, or no such object.", _DETAIL),
    "409": ("Not allowed in the object's current state.", _DETAIL),
    "413": ("The request body is too large.", _DETAIL),
    "415": ("The request body is not in a media type the operation takes.", _DETAIL),
    "429": ("Too many requests (throttled or locked out).", _DETAIL),
    "503": (
        "The database is unavailable for a moment (restarting, failing over): nothing was "
        "written; retry after the seconds in the Retry-After header.",
        _DETAIL,
    ),
}
# Answers that tell the client when to retry carry Retry-After (config/middleware.py).
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
_EMPTY = {"type": "string", "maxLength": 0}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _blank_in_model(field) -> bool:
    """Whether a read-only field of a ModelSerializer comes from a blank=True string field."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.read_only or not field.source or "." in field.source:
        return False
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return False
    return isinstance(model_field, models.CharField) and model_field.blank


class AgentTeamsAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.TimeField):
            # Local wall-clock times ("20:00:00") carry no offset, while JSON Schema's "time"
            # format (RFC 3339 full-time) requires one: document what is really sent and taken.
            return {"type": "string", "format": "partial-time", "example": "20:00:00"}
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _insert_field_validators(self, field, schema):
        """drf-spectacular adds "" as a choice to a formatted string field that allows blank;
        DRF drops allow_blank from read-only fields, so the answers' fields built from a
        blank=True model field (an invitation by username has the e-mail "") get it here."""
        super()._insert_field_validators(field, schema)
        if (
            not getattr(field, "allow_blank", False)
            and schema.get("type") == "string"
            and "format" in schema
            and _blank_in_model(field)
        ):
            outer = {"readOnly", "writeOnly", "nullable", "deprecated", "description", "title"}
            inner = {key: schema.pop(key) for key in list(schema) if key not in outer}
            schema["anyOf"] = [inner, _EMPTY]  # "" is valid whether formats are checked or not

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        # Every operation may meet a database outage (503, config/middleware.py).
        codes = {"400", "401", "403", "429", "503"}
        if "{" in path:
            codes.add("404")
        if method in _WRITES:
            codes |= {"409", "413", "415"}
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and not parameter.get("required"):
                # django-filter and the paginator read `?name=` as "not given".
                parameter["allowEmptyValue"] = True
                parameter["schema"] = {"anyOf": [parameter["schema"], _EMPTY]}
        responses = operation.setdefault("responses", {})
        for code in sorted(codes):
            if code in responses:
                continue
            description, schema = _ERRORS[code]
            responses[code] = {
                "content": {"application/json": {"schema": schema}},
                "description": description,
            }
            if code == "503":
                responses[code]["headers"] = _RETRY_AFTER
        return operation
