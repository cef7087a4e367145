"""Writes about organizations, people and catalogs. Keyword-only, typed; each takes the
organization and the acting member where it matters."""

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from .audit import audit_record, audit_snapshot
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


def tree_node_place(*, node: PathNode, parent: PathNode | None) -> None:
    """Give a freshly inserted node its path under parent."""
    node.path = f"{parent.path if parent else '/'}{node.pk}/"
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


@transaction.atomic
def organization_settings_update(
    *, organization: Organization, actor: Membership, data: dict
) -> Organization:
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({key: _("This setting cannot be changed.") for key in unknown})
    calendar_changed = {"workdays", "country"} & set(data)
    for key, value in data.items():
        setattr(organization, key, value)
    organization.full_clean()
    organization.save()
    if calendar_changed:
        # Holidays that now fall on a working weekday are added; edited days are kept.
        this_year = organization.local_today().year
        for year in (this_year, this_year + 1):
            calendar_prefill(organization=organization, year=year)
    return organization


# --- Members ------------------------------------------------------------------------------------


def _check_role_power(*, actor: Membership, member: Membership | None, new_role: str) -> None:
    """Only an owner grants or changes the owner and admin roles, or edits an owner or admin."""
    if actor.role == Role.OWNER:
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
    *, organization: Organization, actor: Membership, member: Membership, data: dict
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


@transaction.atomic
def member_update(
    *, organization: Organization, actor: Membership, member: Membership, data: dict
) -> Membership:
    """Change a member. A new upline moves the member's whole subtree; a cycle is refused."""
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
