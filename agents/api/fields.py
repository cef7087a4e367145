from rest_framework import serializers
from rest_framework.fields import empty

# The largest id a bigint column holds: a larger number sent as an id is a 400 on its field, not
# an overflow in the database driver (a 500).
ID_MAX = 2**63 - 1


def id_field(**kwargs) -> serializers.IntegerField:
    """An id given as a plain integer (looked up later, in bulk): 1 to ID_MAX."""
    return serializers.IntegerField(min_value=1, max_value=ID_MAX, **kwargs)


class OrgRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id that only accepts rows of the request's organization: an id of another
    organization is answered like an unknown id (400), so its existence leaks nothing.

    `scope` optionally narrows further with the serializer context, e.g. to the caller's subtree:
    scope(queryset, context) -> queryset."""

    def __init__(self, *, scope=None, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def run_validation(self, data=empty):
        # DRF takes "" for null in a relation (for HTML forms); this API takes JSON, where an id
        # is a number or null as the schema says: "" is a 400 naming the field.
        if isinstance(data, str) and data == "":
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().run_validation(data)

    def get_queryset(self):
        queryset = super().get_queryset()
        organization = self.context.get("organization")
        if organization is None:
            return queryset.none()
        queryset = queryset.filter(organization=organization)
        if self.scope is not None:
            queryset = self.scope(queryset, self.context)
        return queryset
