"""JSON text fields take JSON strings only.

DRF's CharField turns a JSON number into its text (`{"name": 12}` becomes "12"), so a client
that sends the wrong type gets a silent conversion instead of an error. The contract says bad input
is a 400 naming the field, so every CharField (and its subclasses: e-mail, slug, URL, regex) of
every serializer refuses numbers with "Not a valid string.", the message DRF already uses for
booleans. Form and multipart input are strings anyway, so this only changes JSON bodies.

Installed once from AgentsConfig.ready(); one patch instead of a base class that every
serializer and every explicitly declared field would have to remember.
"""

from decimal import Decimal

from rest_framework import serializers

_PATCHED = "_agentteams_strict"


def strict_char_fields_install() -> None:
    field = serializers.CharField
    if getattr(field, _PATCHED, False):
        return
    lenient = field.to_internal_value

    def to_internal_value(self, data):
        if isinstance(data, int | float | Decimal):  # bool is an int: DRF refuses it already
            self.fail("invalid")
        return lenient(self, data)

    field.to_internal_value = to_internal_value
    setattr(field, _PATCHED, True)
