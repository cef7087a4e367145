"""`field__any_of=[...]`: a column that is one of many integers, in one parameter.

Django's `__in` writes, and compiles, one parameter per value: for the lines of a page of 200
daily reports, compiling the 200 parameters and the statement PostgreSQL then plans afresh (a
new number of values is a new statement) cost several times the query (issue 7,
bench/README.md). On PostgreSQL `any_of` sends the values as one array, `= ANY(%s)`, so the
statement is the same whatever their number; elsewhere it is `__in`.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import ForeignKey, IntegerField, Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        values = list(self.rhs)
        if not all(type(value) is int for value in values):
            raise TypeError("any_of takes integers")
        return values

    def as_sql(self, compiler, connection):
        return In(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs_sql} = ANY(%s)", (*lhs_params, self.rhs)


def any_of_install() -> None:
    """Register the lookup on integer columns and foreign keys (AgentsConfig.ready)."""
    IntegerField.register_lookup(AnyOf)
    ForeignKey.register_lookup(AnyOf)
