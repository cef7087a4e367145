"""The audit trail: who changed what, when, from what to what.

Services call these helpers explicitly (never through signals), inside the transaction of the
change they record, so an entry exists exactly when the change was committed; a refused change
(400/403/409) rolls back and leaves nothing. One INSERT per recorded change, one bulk INSERT for
a service that changes many rows.

    before = audit_snapshot(plan, PLAN_AUDIT_FIELDS)
    ... change the plan ...
    audit_record(organization=org, actor=actor, action="plan.update", instance=plan,
                 before=before, after=audit_snapshot(plan, PLAN_AUDIT_FIELDS))

`changes` is `{field: [before, after]}` with JSON-safe values: decimals as strings, dates and times
ISO 8601, related objects as their ids.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _

from .models import AuditEntry, Membership, Organization


def audit_value(value):
    """A JSON-safe form of a field value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return str(Decimal(str(value)))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(key): audit_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [audit_value(item) for item in value]
    return str(value)


def audit_snapshot(instance: models.Model, fields: Iterable[str]) -> dict:
    """The audited fields of an instance, JSON-safe. Foreign keys are read as their ids (no
    query); a name that is not a model field is read as an attribute."""
    snapshot = {}
    for name in fields:
        try:
            field = instance._meta.get_field(name)
        except FieldDoesNotExist:
            snapshot[name] = audit_value(getattr(instance, name))
            continue
        attname = getattr(field, "attname", name)
        snapshot[name] = audit_value(getattr(instance, attname))
    return snapshot


def audit_diff(before: dict | None, after: dict | None) -> dict:
    """`{field: [before, after]}` for the fields whose value differs. A creation has no before
    (every field is [None, value]), a deletion no after."""
    before, after = before or {}, after or {}
    changes = {}
    for name in [*before, *(key for key in after if key not in before)]:
        old, new = audit_value(before.get(name)), audit_value(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def _actor_fields(actor: Membership | None, actor_display: str | None) -> tuple:
    """(actor, actor display). A superuser acting in the admin comes as an unsaved membership:
    the platform operator is nobody's member, so the entry keeps only their name."""
    if actor is None:
        return None, actor_display or _("system")
    if actor_display is None:
        name = actor.user.get_display_name() if actor.user_id else ""
        actor_display = name if actor.pk else _("%(name)s (platform operator)") % {"name": name}
    return (actor if actor.pk else None), actor_display[:200]


def audit_entry_build(
    *,
    organization: Organization,
    actor: Membership | None,
    action: str,
    instance: models.Model | None = None,
    object_type: str | None = None,
    object_id=None,
    object_repr: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    changes: dict | None = None,
    context: dict | None = None,
    actor_display: str | None = None,
    created_at: dt.datetime | None = None,
) -> AuditEntry:
    """An unsaved entry (for audit_record_many). The object is `instance`, or is named by
    object_type ("app_label.model"), object_id and object_repr."""
    member, display = _actor_fields(actor, actor_display)
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = instance.pk if object_id is None else object_id
        object_repr = str(instance) if object_repr is None else object_repr
    entry = AuditEntry(
        organization_id=organization.pk if isinstance(organization, Organization) else organization,
        actor=member,
        actor_display=display,
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:200],
        changes=audit_value(changes) if changes is not None else audit_diff(before, after),
        context=audit_value(context or {}),
    )
    if created_at is not None:
        entry.created_at = created_at
    return entry


def audit_record(*, only_if_changed: bool = False, **kwargs) -> AuditEntry | None:
    """Record one change (one INSERT); keyword arguments as audit_entry_build. With
    only_if_changed, a change that changed nothing (a retry, a no-op save) is not recorded."""
    entry = audit_entry_build(**kwargs)
    if only_if_changed and not entry.changes:
        return None
    entry.save()
    return entry


def audit_record_change(
    *,
    organization: Organization,
    actor: Membership | None,
    action: str,
    instance: models.Model,
    fields: Iterable[str],
    before: dict | None = None,
    deleted: bool = False,
    object_id=None,
    context: dict | None = None,
) -> AuditEntry | None:
    """Record the creation, change or deletion of `instance` (one INSERT): `before` is its
    audit_snapshot of `fields` before the change (none for a creation), the after side the
    snapshot now (none for a deletion, which passes the id the instance had as `object_id`).
    An "*.update" that changed nothing (a retry, a no-op save) records nothing."""
    return audit_record(
        organization=organization,
        actor=actor,
        action=action,
        instance=instance,
        object_id=object_id,
        before=before,
        after=None if deleted else audit_snapshot(instance, fields),
        context=context,
        only_if_changed=action.endswith(".update"),
    )


def audit_record_many(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Record many changes with one bulk INSERT (entries from audit_entry_build)."""
    entries = list(entries)
    if not entries:
        return []
    return AuditEntry.objects.bulk_create(entries, batch_size=1000)
