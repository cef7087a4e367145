"""Writes about organizations, people and catalogs. Keyword-only, typed; each takes the
organization and the acting member where it matters."""

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _

from .audit import (
    audit_diff,
    audit_entry_build,
    audit_record,
    audit_record_many,
    audit_snapshot,
)
from .calendar import statutory_exceptions
from .errors import Conflict
from .models import (
    CalendarDay,
    Membership,
    MemberStatus,
    Organization,
    PathNode,
    Region,
    Role,
    User,
)
from .permissions import MANAGERS
from .selectors import WORKING_STATUSES

# --- Trees ------------------------------------------------------------------------------------


def _lock_organization(organization: Organization) -> None:
    """Serialize hierarchy changes within one organization (no-op on SQLite, which serializes
    writers anyway), so two concurrent moves cannot build a cycle between them."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


def _tree_parent_field(node: PathNode) -> str:
    return "upline" if isinstance(node, Membership) else "parent"


def _too_deep() -> str:
    return _("The hierarchy would be too deep.")


def _check_room_below(*, parent: PathNode | None, error_field: str) -> None:
    """Refuse a new node under a parent whose path leaves no room for a child's id: the new id is
    larger than the parent's, so it takes at least as many characters (the exact check is in
    tree_node_place, once the id is known)."""
    if parent is None:
        return
    max_length = type(parent)._meta.get_field("path").max_length
    if len(parent.path) + len(str(parent.pk)) + 1 > max_length:
        raise ValidationError({error_field: _too_deep()})


def _check_move_depth(*, node: PathNode, new_parent: PathNode | None, error_field: str) -> None:
    """Refuse a move after which a path of the subtree would not fit the path column (600
    characters): a 400 on the field instead of the database's DataError. One query."""
    if not node.path:
        return
    model = type(node)
    max_length = model._meta.get_field("path").max_length
    new_path_length = len(new_parent.path if new_parent else "/") + len(str(node.pk)) + 1
    if new_path_length <= len(node.path):
        return  # no path of the subtree gets longer
    deepest = model.objects.filter(
        organization_id=node.organization_id, path__startswith=node.path
    ).aggregate(longest=Max(Length("path")))["longest"] or len(node.path)
    if deepest - len(node.path) + new_path_length > max_length:
        raise ValidationError({error_field: _too_deep()})


def tree_node_place(
    *, node: PathNode, parent: PathNode | None, error_field: str | None = None
) -> None:
    """Give a freshly inserted node its path under parent. A path that would not fit the path
    column is a ValidationError on the parent's field (the caller's transaction rolls back)."""
    path = f"{parent.path if parent else '/'}{node.pk}/"
    if len(path) > type(node)._meta.get_field("path").max_length:
        raise ValidationError({error_field or _tree_parent_field(node): _too_deep()})
    node.path = path
    node.depth = parent.depth + 1 if parent else 0
    type(node).objects.filter(pk=node.pk).update(path=node.path, depth=node.depth)


def _check_no_cycle(*, node: PathNode, new_parent: PathNode | None, error_field: str) -> None:
    if node.path and new_parent is not None and new_parent.path.startswith(node.path):
        raise ValidationError(
            {error_field: _("This would make a cycle: the new parent is inside the subtree.")}
        )


def tree_subtree_move(
    *, node: PathNode, new_parent: PathNode | None, field: str, error_field: str
) -> None:
    """Move node and its whole subtree under new_parent with one UPDATE. A move under the node
    itself or one of its descendants would make a cycle and is refused."""
    _check_no_cycle(node=node, new_parent=new_parent, error_field=error_field)
    old_path, old_depth = node.path, node.depth
    new_path = f"{new_parent.path if new_parent else '/'}{node.pk}/"
    new_depth = new_parent.depth + 1 if new_parent else 0
    model = type(node)
    model.objects.filter(organization_id=node.organization_id, pk=node.pk).update(
        **{f"{field}_id": new_parent.pk if new_parent else None}
    )
    model.objects.filter(organization_id=node.organization_id, path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + (new_depth - old_depth),
    )
    node.path, node.depth = new_path, new_depth
    setattr(node, field, new_parent)


# --- Organizations ------------------------------------------------------------------------------


def calendar_prefill(*, organization: Organization, year: int) -> int:
    """Copy the statutory holidays and make-up working days of a year into the organization's
    calendar. Days the organization already has (edited or prefilled) are kept: re-running it
    changes nothing. Returns how many days were added."""
    rows = [
        CalendarDay(organization=organization, date=day, is_workday=is_workday, name=name)
        for day, is_workday, name in statutory_exceptions(
            country=organization.country,
            workdays=organization.workdays,
            year=year,
            language=organization.language,
        )
    ]
    existing = set(
        CalendarDay.objects.filter(organization=organization, date__year=year).values_list(
            "date", flat=True
        )
    )
    new_rows = [row for row in rows if row.date not in existing]
    # Renews the calendar token, in the database and on `organization` (agents.models).
    CalendarDay.objects.bulk_create(new_rows, ignore_conflicts=True)
    return len(new_rows)


@transaction.atomic
def organization_create(
    *,
    user: User,
    slug: str,
    name: str,
    timezone: str = "Asia/Shanghai",
    currency: str = "CNY",
    language: str = "zh-hans",
) -> Organization:
    """Sign-up of a new tenant: the caller becomes its owner; its calendar is prefilled for this
    year and the next."""
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This slug is taken.")})
    organization = Organization(
        slug=slug, name=name, timezone=timezone, currency=currency, language=language
    )
    organization.full_clean()
    organization.save()
    owner = Membership.objects.create(
        organization=organization, user=user, role=Role.OWNER, status=MemberStatus.ACTIVE
    )
    tree_node_place(node=owner, parent=None)
    this_year = organization.local_today().year
    for year in (this_year, this_year + 1):
        calendar_prefill(organization=organization, year=year)
    return organization


SETTINGS_FIELDS = (
    "name",
    "timezone",
    "currency",
    "language",
    "country",
    "report_cutoff",
    "reminder_time",
    "workdays",
    "webhook_url",
    "webhook_secret",
    "policies",
)


# What the audit trail keeps of a settings change: the settings (the webhook secret only as
# whether one is set, never its value) and what a platform operator may change in the admin.
SETTINGS_AUDIT_FIELDS = (
    "slug",
    "is_active",
    *(name for name in SETTINGS_FIELDS if name != "webhook_secret"),
)


def _settings_audit_changes(before: Organization, after: Organization) -> dict:
    changes = audit_diff(
        audit_snapshot(before, SETTINGS_AUDIT_FIELDS), audit_snapshot(after, SETTINGS_AUDIT_FIELDS)
    )
    if before.webhook_secret != after.webhook_secret:
        changes["webhook_secret"] = [
            "(set)" if before.webhook_secret else "",
            "(new)" if after.webhook_secret else "",
        ]
    return changes


@transaction.atomic
def organization_settings_update(
    *,
    organization: Organization,
    actor: Membership | None,
    data: dict,
    context: dict | None = None,
) -> Organization:
    """Change the organization's settings, and record the change in the audit trail. The
    admin's form has set the new values on `organization` already: the before is re-read."""
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({key: _("This setting cannot be changed.") for key in unknown})
    before = Organization.objects.get(pk=organization.pk)
    calendar_changed = {"workdays", "country"} & set(data)
    for key, value in data.items():
        setattr(organization, key, value)
    organization.full_clean()
    organization.save()
    changes = _settings_audit_changes(before, organization)
    if changes:
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.settings",
            instance=organization,
            changes=changes,
            context=context,
        )
    if calendar_changed:
        # Holidays that now fall on a working weekday are added; edited days are kept.
        this_year = organization.local_today().year
        for year in (this_year, this_year + 1):
            calendar_prefill(organization=organization, year=year)
    return organization


# --- Members ------------------------------------------------------------------------------------


def _check_role_power(
    *, actor: Membership | None, member: Membership | None, new_role: str
) -> None:
    """Only an owner grants or changes the owner and admin roles, or edits an owner or admin.
    `actor=None` is the system (a job, a shell command, the platform operator): every power."""
    if actor is None or actor.role == Role.OWNER:
        return
    touches_managers = new_role in MANAGERS or (member is not None and member.role in MANAGERS)
    if touches_managers:
        raise PermissionDenied(_("Only an owner can manage owners and administrators."))


def _check_upline(*, upline: Membership | None, organization: Organization) -> None:
    if upline is None:
        return
    if upline.organization_id != organization.pk:
        raise ValidationError({"upline": _("Unknown member.")})
    if upline.status == MemberStatus.LEFT:
        raise ValidationError({"upline": _("This member has left the organization.")})


def _check_code_free(*, organization: Organization, code: str, member_id=None) -> None:
    if not code:
        return
    taken = Membership.objects.filter(organization=organization, code=code).exclude(pk=member_id)
    if taken.exists():
        raise ValidationError({"code": _("Another member has this agent code.")})


def member_create_check(
    *,
    organization: Organization,
    actor: Membership | None,
    role: str,
    upline: Membership | None,
    code: str,
) -> None:
    """What member_create would refuse about the membership, without writing (see
    member_change_check)."""
    if actor is not None:
        _check_role_power(actor=actor, member=None, new_role=role)
    _check_upline(upline=upline, organization=organization)
    _check_room_below(parent=upline, error_field="upline")
    _check_code_free(organization=organization, code=code)


@transaction.atomic
def member_create(
    *,
    organization: Organization,
    actor: Membership | None,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    role: str = Role.AGENT,
    upline: Membership | None = None,
    region=None,
    level=None,
    status: str = MemberStatus.ACTIVE,
    code: str = "",
    joined_on: dt.date | None = None,
) -> Membership:
    """Create a person's account and their membership. `actor` is None for system loads."""
    member_create_check(organization=organization, actor=actor, role=role, upline=upline, code=code)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = User(username=username, display_name=display_name, email=email)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    _lock_organization(organization)
    member = Membership.objects.create(
        organization=organization,
        user=user,
        role=role,
        upline=upline,
        region=region,
        level=level,
        status=status,
        code=code,
        joined_on=joined_on or organization.local_today(),
    )
    if upline is not None:
        upline.refresh_from_db(fields=["path", "depth"])
    tree_node_place(node=member, parent=upline)
    audit_record(
        organization=organization,
        actor=actor,
        action="member.create",
        instance=member,
        object_repr=user.get_display_name(),
        after=audit_snapshot(member, MEMBER_FIELDS),
    )
    return member


MEMBER_FIELDS = ("role", "upline", "region", "level", "status", "code", "joined_on")


def member_change_check(
    *, organization: Organization, actor: Membership | None, member: Membership, data: dict
) -> None:
    """Everything member_update would refuse, without writing anything: a ValidationError naming
    the field, PermissionDenied for a missing power, Conflict for the last owner. The admin's
    forms call it too, so the API and the admin apply one set of rules."""
    _check_role_power(actor=actor, member=member, new_role=data.get("role", member.role))
    leaving_owner = member.role == Role.OWNER and (
        data.get("role", Role.OWNER) != Role.OWNER
        or data.get("status", member.status) not in WORKING_STATUSES
    )
    if leaving_owner:
        other_owners = Membership.objects.filter(
            organization=organization, role=Role.OWNER, status__in=WORKING_STATUSES
        ).exclude(pk=member.pk)
        if not other_owners.exists():
            raise Conflict(_("An organization must keep at least one active owner."))
    if "code" in data:
        _check_code_free(organization=organization, code=data["code"], member_id=member.pk)
    new_upline = data.get("upline", member.upline)
    if "upline" in data and new_upline != member.upline:
        _check_upline(upline=new_upline, organization=organization)
        _check_no_cycle(node=member, new_parent=new_upline, error_field="upline")
        _check_move_depth(node=member, new_parent=new_upline, error_field="upline")


@transaction.atomic
def member_update(
    *, organization: Organization, actor: Membership | None, member: Membership, data: dict
) -> Membership:
    """Change a member. A new upline moves the member's whole subtree; a cycle is refused.
    `actor=None` is the system (every power; the audit trail says "system"); the API always
    passes the caller, the admin its acting member (agents.admin_base.admin_actor)."""
    data = dict(data)
    display_name = data.pop("display_name", None)
    unknown = set(data) - set(MEMBER_FIELDS)
    if unknown:
        raise ValidationError({key: _("This field cannot be changed.") for key in unknown})
    member_name = member.display_name  # for the audit trail: the refresh drops the cached user
    _lock_organization(organization)
    member.refresh_from_db()
    if data.get("upline") is not None:
        data["upline"].refresh_from_db(fields=["path", "depth"])
    member_change_check(organization=organization, actor=actor, member=member, data=data)
    before = audit_snapshot(member, MEMBER_FIELDS)
    if "upline" in data and data["upline"] != member.upline:
        tree_subtree_move(
            node=member, new_parent=data["upline"], field="upline", error_field="upline"
        )
    for key in ("role", "region", "level", "status", "code", "joined_on"):
        if key in data:
            setattr(member, key, data[key])
    member.save(
        update_fields=["role", "region", "level", "status", "code", "joined_on", "updated_at"]
    )
    if display_name is not None:
        member.user.display_name = display_name
        member.user.save(update_fields=["display_name"])
    audit_record(
        organization=organization,
        actor=actor,
        action="member.update",
        instance=member,
        object_repr=member.display_name if display_name is not None else member_name,
        before=before,
        after=audit_snapshot(member, MEMBER_FIELDS),
        only_if_changed=True,
    )
    return member


@transaction.atomic
def members_delete(*, members: list, actor_for, context: dict | None = None) -> None:
    """Delete memberships outright (the admin only: the API never deletes a member, one sets
    status "left"), each recorded in the audit trail with what it was; one bulk INSERT.
    `actor_for(organization)` gives the acting member in each member's organization. A member
    that facts or a downline still point at is protected (the admin refuses before this)."""
    entries = [
        audit_entry_build(
            organization=member.organization,
            actor=actor_for(member.organization),
            action="member.delete",
            instance=member,
            object_repr=member.display_name,
            before={"user": member.user_id, **audit_snapshot(member, MEMBER_FIELDS)},
            context=context,
        )
        for member in members
    ]
    Membership.objects.filter(pk__in=[member.pk for member in members]).delete()
    audit_record_many(entries)


# --- Regions --------------------------------------------------------------------------------------


@transaction.atomic
def region_create(
    *, organization: Organization, name: str, parent: Region | None = None, code: str = ""
) -> Region:
    region_change_check(
        organization=organization,
        region=Region(organization=organization),
        data={"name": name, "parent": parent},
    )
    region = Region.objects.create(organization=organization, name=name, parent=parent, code=code)
    tree_node_place(node=region, parent=parent)
    return region


def region_change_check(*, organization: Organization, region: Region, data: dict) -> None:
    """Everything region_create / region_update would refuse, without writing (see
    member_change_check). `region` may be unsaved (a new region)."""
    parent = data.get("parent", region.parent)
    name = data.get("name", region.name)
    if parent is not None and parent.organization_id != organization.pk:
        raise ValidationError({"parent": _("Unknown region.")})
    if region.pk is not None and "parent" in data and parent != region.parent:
        _check_no_cycle(node=region, new_parent=parent, error_field="parent")
        _check_move_depth(node=region, new_parent=parent, error_field="parent")
    elif region.pk is None:
        _check_room_below(parent=parent, error_field="parent")
    siblings = Region.objects.filter(organization=organization, parent=parent, name=name)
    if siblings.exclude(pk=region.pk).exists():
        raise ValidationError({"name": _("A region with this name exists at this level.")})


@transaction.atomic
def region_update(*, organization: Organization, region: Region, data: dict) -> Region:
    _lock_organization(organization)
    region.refresh_from_db()
    if data.get("parent") is not None:
        data["parent"].refresh_from_db(fields=["path", "depth"])
    region_change_check(organization=organization, region=region, data=data)
    parent = data.get("parent", region.parent)
    if "parent" in data and parent != region.parent:
        tree_subtree_move(node=region, new_parent=parent, field="parent", error_field="parent")
    region.name = data.get("name", region.name)
    region.code = data.get("code", region.code)
    region.save(update_fields=["name", "code"])
    return region
