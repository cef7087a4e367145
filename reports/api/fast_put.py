"""The fast path of `PUT me/daily-reports/{date}/` (issue 7, bench/README.md): the request every
agent sends every day, answered without DRF's per-request machinery and with the lines' products
and customers checked in the filing call itself, two database round trips in all (the
membership, the filing) where the DRF view makes four.

It answers only the common case and hands everything else to the DRF view (`MyDailyReportView`),
which stays the one definition of the endpoint: a request is taken here only when it is a JSON
PUT with a bearer token, no query string and an Accept the JSON renderer answers; the caller is a
member whom the view's rules let in; the body passes a check that accepts a subset of what the
view's input serializer accepts, and gives the same values; the report is filed on time on
PostgreSQL; and the filing function finds its products, customers and profits in order. Anything
else, including every error, is answered by the view, which then decides everything again (the
400s name their fields as always). Nothing is written before the last check: the function writes
nothing when it refuses.

What is shared, so that the two cannot drift apart:
- authentication is the view's (DeferredJWTAuthentication), the tenancy its permission classes
  (`TenantAccess`: membership, role, suspension), the throttles its `get_throttles()`; the
  throttles count a request once (the view does not count again what was counted here);
- the body's rules are read from the view's input serializer (`DailyReportInputSerializer`):
  a field of a kind this module does not know turns the fast path off;
- the answer is the view's serializer (`DailyReportSerializer`) rendered by DRF's JSONRenderer,
  with the headers DRF adds.
tests/reports/test_fast_put.py files the same requests both ways and compares the answers and
what is stored; the endpoint's other tests run through here. `REPORTS_FAST_PUT=false` turns it
off.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings as drf_settings
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from agents.api.authentication import DeferredJWTAuthentication, DeferredUser
from reports import filing, services

# The view reads this from the request: the fast path checked its throttles (True), or the
# Throttled it got; the view then neither counts the request again nor answers differently.
THROTTLES_CHECKED = "_fast_put_throttles"

_JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})
_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
# Characters DRF's CharField refuses (ProhibitNullCharactersValidator,
# ProhibitSurrogateCharactersValidator): such a text goes to the view, which names the field.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# Money as the view's DecimalField(max_digits=14, decimal_places=2, min_value=0) reads it when
# nothing needs rounding: a plain decimal number, at most 12 digits before the point and 2 after.
_MONEY = re.compile(r"(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,2})?\Z")
_CENT = Decimal("0.01")


def daily_report_put(view_function):
    """The URL's view: the fast path, else `view_function` (the DRF view). Keeps the DRF
    view's attributes (`cls`, `initkwargs`, `csrf_exempt`), from which the schema is built."""

    @functools.wraps(view_function)
    def view(request, *args, **kwargs):
        if request.method == "PUT" and settings.REPORTS_FAST_PUT and filing.supported():
            response = _answer(request, view_function, kwargs)
            if response is not None:
                return response
        return view_function(request, *args, **kwargs)

    return view


def _answer(request, view_function, kwargs) -> HttpResponse | None:
    meta = request.META
    if (
        meta.get("QUERY_STRING")
        or meta.get("CONTENT_TYPE", "").lower() not in _JSON_TYPES
        or meta.get("HTTP_ACCEPT", "") not in _JSON_ACCEPTS
    ):
        return None
    rules = _rules()
    if rules is None:
        return None
    try:
        authenticated = DeferredJWTAuthentication().authenticate(request)
    except (APIException, InvalidToken, TokenError):
        return None
    if authenticated is None or type(authenticated[0]) is not DeferredUser:
        return None
    request.user = authenticated[0]
    view = view_function.cls(**view_function.initkwargs)  # as DRF's as_view() builds it
    view.setup(request, **kwargs)
    view.format_kwarg = None
    try:  # the view's permissions, as DRF checks them (TenantAccess sets view.membership)
        permissions = view.get_permissions()
        if not all(permission.has_permission(request, view) for permission in permissions):
            return None
    except APIException:
        return None
    if not hasattr(view, "membership"):
        return None  # a view whose permissions no longer resolve the tenant
    organization, member = view.organization, view.membership
    try:
        day = dt.date.fromisoformat(kwargs["date"])
    except ValueError:
        return None
    now = timezone.now()
    if day > now.astimezone(organization.tzinfo).date() or now > services.report_cutoff_at(
        organization=organization, day=day
    ):
        return None  # a future day (400) or not on time: the view's rules and audit
    body = _body(request, rules)
    if body is None:
        return None
    values, lines = body

    try:
        view.check_throttles(request)
    except APIException as throttled:
        setattr(request, THROTTLES_CHECKED, throttled)
        return None
    setattr(request, THROTTLES_CHECKED, True)

    def answer(report) -> tuple[dict, bytes]:
        # Built while the commit is made durable (filing.report_file_checked).
        serializer = view.get_serializer_class()(context=view.get_serializer_context())
        data = serializer.to_representation(report)
        return data, JSONRenderer().render(data)

    try:
        checked = filing.report_file_checked(
            organization_id=organization.pk,
            member_id=member.pk,
            region_id=member.region_id,
            manager=member.is_manager,
            path=member.path,
            money_limit=services.MONEY_LIMIT,
            day=day,
            values=values,
            kinds=rules.kinds,
            lines=lines,
            now=now,
            answer=answer,
        )
    except (OperationalError, InterfaceError):
        raise  # the database is unavailable: 503 (config/middleware.py), as from the view
    except DatabaseError:
        # Nothing was written (the call's transaction failed as a whole); say, a product
        # deleted since it was checked: the view decides again and answers.
        return None
    if checked is None:
        return None  # a product, customer or profit the view's 400 names
    created, (data, content) = checked
    response = HttpResponse(
        content,
        status=201 if created else 200,
        content_type="application/json",
    )
    response.data = data  # as a DRF Response has it (for tests and middleware that read it)
    headers = dict(view.default_response_headers)  # as APIView.finalize_response adds them
    vary = headers.pop("Vary", None)
    if vary is not None:
        patch_vary_headers(response, [vary])
    for name, value in headers.items():
        response[name] = value
    return response


def _body(request, rules: _Rules) -> tuple[dict, list[tuple]] | None:
    """The report's values and its lines (product, customer, quantity, amount, collected), as
    the view's input serializer gives them; None unless the body is plainly valid."""
    try:
        body = json.loads(request.body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RequestDataTooBig):  # UnicodeDecodeError and JSONDecodeError included
        return None
    if type(body) is not dict or not body.keys() <= rules.report_names:
        return None
    values = {}
    for name, (low, high) in rules.counts.items():
        value = body.get(name, 0)
        if type(value) is not int or not low <= value <= high:
            return None
        values[name] = value
    for name, limit in rules.texts.items():
        value = body.get(name, "")
        if type(value) is not str:
            return None
        value = value.strip()
        if len(value) > limit or _REFUSED_CHARACTERS.search(value):
            return None
        values[name] = value
    given = body.get("lines", [])
    if type(given) is not list or len(given) > rules.max_lines:
        return None
    lines = []
    for line in given:
        if type(line) is not dict or not line.keys() <= rules.line_names:
            return None
        product, customer = line.get("product"), line.get("customer")
        quantity = line.get("quantity")
        amount, collected = _money(line.get("amount")), _money(line.get("collected", "0"))
        if (
            not _is_id_value(product, rules.id_max)
            or (customer is not None and not _is_id_value(customer, rules.id_max))
            or type(quantity) is not int
            or not 0 <= quantity <= rules.max_quantity
            or amount is None
            or collected is None
            or not (quantity or amount or collected)  # the view's "a line needs ..." 400
        ):
            return None
        lines.append((product, customer, quantity, amount, collected))
    return values, lines


def _is_id_value(value, id_max: int) -> bool:
    return type(value) is int and 1 <= value <= id_max


def _money(value) -> Decimal | None:
    if type(value) is str and _MONEY.match(value):
        return Decimal(value).quantize(_CENT)
    if type(value) is int and 0 <= value < 10**12:
        return Decimal(value).quantize(_CENT)
    return None


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")  # as DRF's JSONParser with STRICT_JSON


class _Rules:
    """The input serializer's rules, read from its fields."""

    def __init__(self, counts, texts, max_lines, line_names, id_max, max_quantity):
        self.counts = counts
        self.texts = texts
        self.report_names = frozenset({*counts, *texts, "lines"})
        # The SQL types of the report's values, for the filing call.
        self.kinds = {**dict.fromkeys(counts, "integer"), **dict.fromkeys(texts, "text")}
        self.max_lines = max_lines
        self.line_names = line_names
        self.id_max = id_max
        self.max_quantity = max_quantity


@functools.cache
def _rules() -> _Rules | None:
    """The rules of `DailyReportInputSerializer`, read from its fields; None (no fast path)
    when a field is not of the kinds and options this module checks as the serializer does."""
    from reports.api.serializers import DailyReportInputSerializer

    fields = DailyReportInputSerializer(context={}).fields
    counts, texts = {}, {}
    lines = fields.get("lines")
    for name, field in fields.items():
        if name == "lines":
            continue
        if (
            type(field) is serializers.IntegerField
            and field.min_value == 0
            and field.default == 0
            and not field.allow_null
        ):
            counts[name] = (field.min_value, field.max_value)
        elif (
            type(field) is serializers.CharField
            and field.allow_blank
            and field.trim_whitespace
            and field.default == ""
            and not field.allow_null
            and field.max_length is not None
            and field.min_length is None
        ):
            texts[name] = field.max_length
        else:
            return None
    if set(counts) | set(texts) != set(services.REPORT_FIELDS):
        return None
    if not isinstance(lines, serializers.ListSerializer) or lines.allow_null:
        return None
    line = lines.child.fields
    product, customer, quantity = line.get("product"), line.get("customer"), line.get("quantity")
    if (
        set(line) != {"product", "customer", "quantity", "amount", "collected"}
        or not _is_id(product)
        or not _is_id(customer)
        or not customer.allow_null
        or type(quantity) is not serializers.IntegerField
        or quantity.min_value != 0
        or quantity.allow_null
        or not all(_is_money(line[name]) for name in ("amount", "collected"))
        or line["collected"].default != Decimal("0.00")
        or not line["amount"].required
        or not lines.max_length
    ):
        return None
    return _Rules(
        counts=counts,
        texts=texts,
        max_lines=lines.max_length,
        line_names=frozenset(line),
        id_max=product.max_value,
        max_quantity=quantity.max_value,
    )


def _is_id(field) -> bool:
    return type(field) is serializers.IntegerField and field.min_value == 1 and field.max_value


def _is_money(field) -> bool:
    return (
        type(field) is serializers.DecimalField
        and field.max_digits == 14
        and field.decimal_places == 2
        and field.min_value == 0
        and field.max_value is None
        and not field.allow_null
        and not field.localize
        and drf_settings.COERCE_DECIMAL_TO_STRING
    )
