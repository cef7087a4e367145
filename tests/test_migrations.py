"""Every migration applies to a database that holds data (issue 8).

The project's apps are migrated back to their first migrations; one row of every model that
exists at that point is written through the historical models (required fields filled by
type, foreign keys pointing at the rows of the same organization); then everything is migrated
forward to the latest migrations, computed from the migration graph (never a hard-coded name),
and every row must still be there with the values it was written with. Runs on SQLite and
PostgreSQL (DATABASE_URL)."""

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The project's own apps (those in this checkout), whatever apps are added later.
LOCAL_APPS = tuple(
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).resolve().is_relative_to(Path(__file__).resolve().parent.parent)
    and "site-packages" not in config.path
)
# Values that conditional check constraints need (applied when the field exists at that state).
OVERRIDES = {
    "reports.SalesEntry": {"source": "api"},  # "report" lines must point at a daily report
}

pytestmark = pytest.mark.django_db(transaction=True)


def _first_nodes(graph) -> list[tuple[str, str]]:
    return sorted(node for app in LOCAL_APPS for node in graph.root_nodes(app))


def _leaf_nodes(graph) -> list[tuple[str, str]]:
    return sorted(graph.leaf_nodes())


class RowWriter:
    """Writes one row of any historical model: required fields by type, choices by their first
    value, foreign keys to the row already written for that model (or a new one)."""

    def __init__(self, state_apps):
        self.apps = state_apps
        self.rows: dict[str, models.Model] = {}
        self.written: dict[str, dict] = {}
        self.counter = itertools.count(1)

    def row(self, model) -> models.Model:
        label = model._meta.label
        if label not in self.rows:
            values = {}
            for field in model._meta.concrete_fields:
                if field.primary_key or field.null or field.has_default():
                    continue
                values[field.attname if field.is_relation else field.name] = self.value(field)
            field_names = {field.name for field in model._meta.concrete_fields}
            values.update(
                (name, value)
                for name, value in OVERRIDES.get(label, {}).items()
                if name in field_names
            )
            row = model._default_manager.create(**values)
            self.rows[label] = row
            # As stored (auto_now, rounding): what must still be there after the migrations.
            self.written[label] = model._default_manager.filter(pk=row.pk).values().get()
        return self.rows[label]

    def value(self, field):
        n = next(self.counter)
        if field.is_relation:
            if field.related_model._meta.label == field.model._meta.label:
                raise AssertionError(f"{field} points at its own model and is required")
            return self.row(field.related_model).pk
        if field.choices:
            return field.choices[0][0]
        if isinstance(field, models.BooleanField):
            return False
        if isinstance(field, models.DecimalField):
            return Decimal("1")
        if isinstance(field, models.IntegerField | models.FloatField):
            return 1
        if isinstance(field, models.DateTimeField):
            return timezone.now()
        if isinstance(field, models.DateField):
            return dt.date(2026, 3, 2)
        if isinstance(field, models.TimeField):
            return dt.time(20, 0)
        if isinstance(field, models.DurationField):
            return dt.timedelta(minutes=1)
        if isinstance(field, models.JSONField):
            return {}
        if isinstance(field, models.SlugField):
            return f"s{n}"
        if isinstance(field, models.CharField | models.TextField):
            return f"v{n}"[: field.max_length or None]
        raise AssertionError(f"tests/test_migrations.py: no value for {field!r}")


def test_every_migration_applies_to_a_database_holding_data():
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    first = _first_nodes(graph)
    latest = _leaf_nodes(graph)
    assert first and latest

    executor.migrate(first)
    executor.loader.build_graph()
    state_apps = executor._create_project_state(with_applied_migrations=True).apps
    writer = RowWriter(state_apps)
    for model in state_apps.get_models():
        if model._meta.app_label in LOCAL_APPS and not model._meta.proxy and model._meta.managed:
            writer.row(model)
    assert len(writer.rows) >= 20, sorted(writer.rows)

    executor = MigrationExecutor(connection)
    executor.migrate(_leaf_nodes(executor.loader.graph))
    executor.loader.build_graph()
    assert executor.migration_plan(_leaf_nodes(executor.loader.graph)) == []
    now_apps = executor._create_project_state(with_applied_migrations=True).apps

    missing, changed = [], []
    for label, row in writer.rows.items():
        app_label, model_name = label.split(".")
        try:
            model = now_apps.get_model(app_label, model_name)
        except LookupError:
            continue  # a later migration removed the model on purpose
        current = model._default_manager.filter(pk=row.pk).values().first()
        if current is None:
            missing.append(label)
            continue
        for name, value in writer.written[label].items():
            if name in current and current[name] != value:
                changed.append((label, name, value, current[name]))
    assert missing == [], "rows lost by a migration"
    assert changed == [], "values changed by a migration"
