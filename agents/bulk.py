"""Writing many rows at once, faster than Django's bulk_update.

`QuerySet.bulk_update` builds one `CASE WHEN pk = ... THEN ...` expression per row and field in
Python, which costs about a millisecond per row: 10,000 imported members took tens of seconds.
`bulk_update_rows` sends the same change as `UPDATE table SET ... FROM (VALUES ...)`, one
statement per batch, with the values as parameters (PostgreSQL, and SQLite from 3.33). Other
databases fall back to bulk_update.
"""

import sqlite3
from collections.abc import Iterable, Sequence

from django.db import connection, models

# Parameters per statement: below SQLite's historic limit of 999 variables.
MAX_PARAMS = 900


def _supported() -> bool:
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 33)


def bulk_update_rows(
    model: type[models.Model],
    objs: Sequence[models.Model],
    fields: Iterable[str],
    *,
    organization_id: int | None = None,
) -> int:
    """Write `fields` of every object (found by its pk) like `bulk_update(objs, fields)`;
    with `organization_id`, only rows of that organization are touched (every statement
    names the tenant). Returns the number of objects sent."""
    objs = list(objs)
    names = list(fields)
    if not objs or not names:
        return 0
    if not _supported():
        model._default_manager.bulk_update(objs, names, batch_size=MAX_PARAMS)
        return len(objs)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in names)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        # VALUES parameters have no type of their own in PostgreSQL: cast each to its column's.
        cells = [f"CAST(%s AS {field.cast_db_type(connection)})" for field in columns]
    else:
        cells = ["%s"] * len(columns)  # SQLite applies the column's affinity on assignment
    row_sql = f"({', '.join(cells)})"
    assignments = ", ".join(
        f"{quote(field.column)} = v.column{index}" for index, field in enumerate(columns[1:], 2)
    )
    where = f"{table}.{quote(meta.pk.column)} = v.column1"
    tenant = []
    if organization_id is not None:
        where += f" AND {table}.{quote(meta.get_field('organization').column)} = %s"
        tenant = [organization_id]
    per_statement = max(1, MAX_PARAMS // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            batch = objs[start : start + per_statement]
            params = [
                field.get_db_prep_save(getattr(obj, field.attname), connection)
                for obj in batch
                for field in columns
            ]
            values = ", ".join([row_sql] * len(batch))
            # Identifiers come from the model's meta, quoted; every value is a parameter.
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v WHERE {where}",  # noqa: S608
                [*params, *tenant],
            )
    return len(objs)
