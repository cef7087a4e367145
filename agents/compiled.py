"""Querysets compiled to SQL once, for the few statements every request runs.

Django compiles a queryset to SQL each time it runs: for the membership lookup of every
organization-scoped request (three tables joined), the compilation cost several times the
query itself (issue 7, bench/README.md). `CompiledQuery` builds the queryset once per thread and
database, keeps its SQL and the compiler that knows how to turn rows into model instances, and then
only substitutes the parameters:

    MEMBERSHIP = CompiledQuery(
        lambda user_id, slug: Membership.objects.select_related("user")
        .filter(user_id=user_id, organization__slug=slug)
        .order_by("pk")[:1],
        kinds={"user_id": int, "slug": str},
    )
    MEMBERSHIP.first(user_id=7, slug="acme")

The builder is called once with a stand-in value per parameter, and each stand-in must reach the
SQL parameters unchanged (integers, strings, dates in the form the database adapter gives them;
a model instance would be transformed, and is refused when compiling). The rows are built as
ModelIterable builds them: from_db, select_related populators, annotations, the database's
converters. The answer is the queryset's answer; tests compare the two.

`CompiledValues` does the same for `values_list` querysets (grouped aggregates: the metrics of
progress, attainment and the dashboard), once per *shape*: the builder gets a hashable shape
(which filters and columns) and the parameters that shape uses. A `__startswith` value (a
materialized path) is a `LikePrefix` parameter: the database gets it escaped for LIKE and
followed by `%`, and it is substituted the same way.
"""

import datetime as dt
import functools
import threading
from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet
from django.db.models.base import ModelState
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.signals import post_init, pre_init

# Stand-ins unlikely to be a constant of a query (a count, an id of a fixed row, a flag).
_INT_STANDIN_BASE = -7_340_032_000_000
_STR_STANDIN_PREFIX = "\x00compiled-parameter:"
_DATE_STANDIN_BASE = dt.date(1, 2, 3)
_STANDIN_SPACING = 1_000_000  # more than any list's length
# A list parameter compiles once per length up to this many items; longer lists each time.
_LIST_LIMIT = 64


class CompiledQueryError(TypeError):
    """The builder transformed a parameter, so its SQL cannot be reused with other values."""


class LikePrefix:
    """The kind of a parameter given to a `__startswith` lookup (a str): the database gets it
    escaped for LIKE and followed by `%`, so it is substituted the same way."""


# How a slot's value reaches the SQL parameters.
_AS_IS, _AS_ISO_TEXT, _AS_LIKE_PREFIX = "as is", "ISO text", "LIKE prefix"


class _Statement:
    """A queryset's SQL, its parameters with stand-ins, and where each given value goes."""

    def __init__(self, compiler, sql: str, params, slots: list[tuple]):
        self.compiler = compiler
        self.sql = sql
        self.params = list(params)
        self.slots = slots  # (position in params, parameter name, index in a list, how)
        # What results_iter works out on every run, once.
        self.converters = compiler.get_converters(
            [column[0] for column in compiler.select[: compiler.col_count]]
        )

    def rows(self, values: dict, using: str) -> list:
        """The statement's rows for these values, through the database's converters."""
        connection = connections[using]
        params = list(self.params)
        for place, name, index, how in self.slots:
            value = values[name] if index is None else values[name][index]
            if how is _AS_ISO_TEXT:
                value = value.isoformat()
            elif how is _AS_LIKE_PREFIX:
                value = f"{connection.ops.prep_for_like_query(value)}%"
            params[place] = value
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if rows and self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        return rows


class _ModelStatement(_Statement):
    def __init__(self, compiler, sql: str, params, slots: list[tuple], using: str):
        super().__init__(compiler, sql, params, slots)
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        self.model = klass_info["model"]
        self.start, self.end = select_fields[0], select_fields[-1] + 1
        self.init_list = [f[0].target.attname for f in compiler.select[self.start : self.end]]
        self.annotations = compiler.annotation_col_map or {}
        self.related_populators = get_related_populators(klass_info, compiler.select, using)


class _Compiler:
    """What CompiledQuery and CompiledValues share: stand-ins, compiling, the cache per thread,
    database and shape, and checking the values given."""

    def __init__(self, builder: Callable[..., QuerySet], *, kinds: dict[str, type]):
        self.builder = builder
        self.kinds = kinds
        self._local = threading.local()

    def _standins(self, names, lengths: dict[str, int]) -> dict[str, object]:
        standins = {}
        for number, (name, kind) in enumerate(self.kinds.items()):
            if name not in names:
                continue
            if kind is int:
                standins[name] = _INT_STANDIN_BASE - number * _STANDIN_SPACING
            elif kind is str or kind is LikePrefix:
                standins[name] = f"{_STR_STANDIN_PREFIX}{number}"
            elif kind is dt.date:
                standins[name] = _DATE_STANDIN_BASE + dt.timedelta(days=number)
            elif kind is list:
                base = _INT_STANDIN_BASE - number * _STANDIN_SPACING
                standins[name] = [base - 1 - i for i in range(lengths[name])]
            else:
                raise CompiledQueryError(
                    f"{name}: only int, str, LikePrefix, date and list of int compile"
                )
        return standins

    def _sql(self, queryset: QuerySet, using: str, standins: dict):
        """(compiler, sql, params, slots) of a queryset built with the stand-ins."""
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        wanted = {}  # stand-in value as it reaches the parameters -> (name, list index, how)
        for name, standin in standins.items():
            if isinstance(standin, list):
                wanted.update({value: (name, i, _AS_IS) for i, value in enumerate(standin)})
            elif self.kinds[name] is LikePrefix:
                # The stand-in has nothing LIKE escapes, so it arrives as itself and a %.
                wanted[f"{standin}%"] = (name, None, _AS_LIKE_PREFIX)
            else:
                wanted[standin] = (name, None, _AS_IS)
            if isinstance(standin, dt.date):  # SQLite's adapter gives dates as text
                wanted[standin.isoformat()] = (name, None, _AS_ISO_TEXT)
        slots = [
            (i, *wanted[value])
            for i, value in enumerate(params)
            if type(value) in (int, str, dt.date) and value in wanted
        ]
        missing = {key[:2] for key in wanted.values()} - {(name, i) for _, name, i, _ in slots}
        if missing:
            names = sorted({name for name, _ in missing})
            raise CompiledQueryError(f"parameters transformed by the queryset: {names}")
        return compiler, sql, params, slots

    def _statement(self, values: dict, using: str, shape):
        """The compiled statement for these values (None when a list is empty: `IN ()`
        matches nothing, and the queryset would not query)."""
        unknown = set(values) - set(self.kinds)
        if unknown:
            raise TypeError(f"unknown parameters {sorted(unknown)}; expected {sorted(self.kinds)}")
        lengths = {}
        for name, value in values.items():
            kind = self.kinds[name]
            if kind is list:
                value = values[name] = list(value)
                if not all(type(item) is int for item in value):
                    raise TypeError(f"{name} must be a list of int")
                if not value:
                    return None
                lengths[name] = len(value)
            elif type(value) is not (str if kind is LikePrefix else kind):
                # Exact types: not a bool for an int, nor a datetime for a date.
                raise TypeError(f"{name} must be {kind.__name__}")
        names = tuple(sorted(values))
        key = (using, connections[using].vendor, shape, names, *sorted(lengths.items()))
        if any(length > _LIST_LIMIT for length in lengths.values()):
            return self._compile(using, shape, names, lengths)  # rare shapes are not kept
        cache = self._local.__dict__.setdefault("compiled", {})
        statement = cache.get(key)
        if statement is None:
            statement = cache[key] = self._compile(using, shape, names, lengths)
        return statement


class CompiledQuery(_Compiler):
    """See the module docstring. `builder(**params)` returns the queryset; `kinds` names its
    parameters: `int`, `str`, `datetime.date`, `LikePrefix`, or `list` (of int, for `__in`:
    compiled once per length). Every parameter is given on every call."""

    def _compile(self, using: str, shape, names, lengths: dict[str, int]) -> _ModelStatement:
        standins = self._standins(names, lengths)
        queryset = self.builder(**standins)
        if (
            queryset._iterable_class is not ModelIterable
            or queryset._prefetch_related_lookups
            or queryset._known_related_objects
        ):
            raise CompiledQueryError("only plain model querysets (select_related) compile")
        return _ModelStatement(*self._sql(queryset, using, standins), using)

    def all(self, *, using: str = "default", **values) -> list:
        """The queryset's instances for these parameter values."""
        if set(values) != set(self.kinds):
            raise TypeError(f"expected the parameters {sorted(self.kinds)}, got {sorted(values)}")
        statement = self._statement(values, using, shape=None)
        if statement is None:
            return []
        found = []
        for row in statement.rows(values, using):
            obj = _from_db(
                statement.model, using, statement.init_list, row[statement.start : statement.end]
            )
            for populator in statement.related_populators:
                _populate(populator, row, obj)
            for attr_name, col_pos in statement.annotations.items():
                setattr(obj, attr_name, row[col_pos])
            found.append(obj)
        return found

    def first(self, *, using: str = "default", **values):
        """The first instance, or None (the builder orders and limits: it is its SQL)."""
        return next(iter(self.all(using=using, **values)), None)


class CompiledValues(_Compiler):
    """`values_list(...)` querysets (aggregates grouped by their columns included), compiled
    once per shape: `builder(shape, **params)` returns the queryset, where `shape` (hashable)
    says which filters and columns it has and the parameters are those that shape uses, a
    subset of `kinds`. `rows(shape, **params)` answers the queryset's tuples."""

    def _compile(self, using: str, shape, names, lengths: dict[str, int]) -> _Statement:
        standins = self._standins(names, lengths)
        queryset = self.builder(shape, **standins)
        query = queryset.query
        if queryset._iterable_class is not ValuesListIterable or query.extra_select:
            raise CompiledQueryError("only values_list querysets (not flat, no extra) compile")
        # ValuesListIterable reorders the columns when the annotations are not last.
        fields = [
            *queryset._fields,
            *(name for name in query.annotation_select if name not in queryset._fields),
        ]
        if queryset._fields and fields != [*query.values_select, *query.annotation_select]:
            raise CompiledQueryError("name the values before the annotations")
        return _Statement(*self._sql(queryset, using, standins))

    def rows(self, shape, *, using: str = "default", **values) -> list[tuple]:
        statement = self._statement(values, using, shape)
        if statement is None:
            return []
        return [tuple(row) for row in statement.rows(values, using)]


def _bare_instance(model, using: str, attnames, values):
    """An instance with its state set directly, the way unpickling builds one."""
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = using
    fields = obj.__dict__
    fields.update(zip(attnames, values, strict=True))
    fields["_state"] = state
    return obj


@functools.cache
def _concrete_attnames(model) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def _from_db(model, using: str, attnames: list[str], values):
    """`model.from_db(using, attnames, values)`; without `__init__` when every concrete field
    is given (which from_db then takes in the concrete fields' order) and no init signal has
    receivers (see instances_from_values)."""
    concrete = _concrete_attnames(model)
    if (
        len(values) != len(concrete)
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
    ):
        return model.from_db(using, attnames, values)
    return _bare_instance(model, using, concrete, values)


def _populate(populator, row, from_obj) -> None:
    """`RelatedPopulator.populate` (Django 5.2), building the related instance with _from_db."""
    if populator.reorder_for_init:
        obj_data = populator.reorder_for_init(row)
    else:
        obj_data = row[populator.cols_start : populator.cols_end]
    if obj_data[populator.pk_idx] is None:
        obj = None
    else:
        obj = _from_db(populator.model_cls, populator.db, populator.init_list, obj_data)
        for nested in populator.related_populators:
            _populate(nested, row, obj)
    populator.local_setter(from_obj, obj)
    if obj is not None:
        populator.remote_setter(obj, from_obj)


class BareModelIterable(ModelIterable):
    """ModelIterable (Django 5.2) with its instances built by `_from_db` and `_populate`: without
    `Model.__init__` where no init signal listens, for list pages of hundreds of rows (about 4 µs
    a row of a 200-report page: issue 7, bench/README.md). Use it with `bare_instances(qs)`.
    Querysets with known related objects (from a related manager) take ModelIterable's path."""

    def __iter__(self):
        queryset = self.queryset
        if queryset._known_related_objects:
            yield from super().__iter__()
            return
        db = queryset.db
        compiler = queryset.query.get_compiler(using=db)
        results = compiler.execute_sql(chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size)
        select, klass_info = compiler.select, compiler.klass_info
        annotations = (compiler.annotation_col_map or {}).items()
        model = klass_info["model"]
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        related_populators = get_related_populators(klass_info, select, db)
        for row in compiler.results_iter(results):
            obj = _from_db(model, db, init_list, row[start:end])
            for populator in related_populators:
                _populate(populator, row, obj)
            for attr_name, col_pos in annotations:
                setattr(obj, attr_name, row[col_pos])
            yield obj


def bare_instances(queryset: QuerySet) -> QuerySet:
    """The queryset, its instances built by BareModelIterable (a model queryset; values() and
    values_list() querysets are returned unchanged)."""
    if queryset._iterable_class is ModelIterable:
        queryset = queryset._chain()
        queryset._iterable_class = BareModelIterable
    return queryset


def instances_from_values(model, attnames: tuple[str, ...], rows, *, using: str = "default"):
    """Model instances from `values_list(*attnames)` rows, as unpickling builds them (the state
    set directly, `Model.__init__` skipped), for the hundreds of rows of one answer: `from_db`
    spent about 20 µs a row in `__init__`, most of the lines' share of a 200-report page
    (issue 7, bench/README.md). The other fields are deferred, as with `only(*attnames)`. A model
    with pre_init or post_init receivers is built by `from_db`, which sends them."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return [model.from_db(using, attnames, row) for row in rows]
    return [_bare_instance(model, using, attnames, row) for row in rows]
