"""Members from a spreadsheet: every row or none, with a dry-run preview.

Columns (by header, English or Chinese, any order; see MEMBER_COLUMNS): agent code (required: it is
how a row finds an existing member), username (required for new members), display name, role,
upline (the upline's agent code: an existing member's or one defined anywhere in the same file),
region (name, or path like "East/Shanghai" when a name repeats), level (name), status, joined on,
password (optional; new members without one get an unusable password and sign in after a reset).

A row whose agent code belongs to an existing member updates that member (an existing member
without a code is found by username and gets the code); any other row creates a person and their
membership. On an update an empty cell leaves the value as it is; passwords of existing people are
never changed by an import. The rules are the API's and the admin's (agents.services): only owners
and admins import members, only an owner touches administrators, nobody becomes an owner by import,
an owner's role and status are not changed here, an upline who left cannot take new members, and a
move that would make a cycle is refused. The whole organization's hierarchy paths are recomputed in
memory after the rows are applied and the changed rows written in bulk (agents/bulk.py), so the
materialized-path invariant
holds whatever order the rows come in. 10,000 rows take a handful of queries (plus one password
hash per row that has a password).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_entry_build, audit_record_many
from .bulk import bulk_update_rows
from .models import (
    AgentLevel,
    Membership,
    MemberStatus,
    Organization,
    Region,
    Role,
    User,
)
from .permissions import MANAGERS
from .selectors import WORKING_STATUSES, member_scope_q
from .services import _lock_organization
from .spreadsheets import (
    BATCH_SIZE,
    ImportRowsError,
    Progress,
    RowErrors,
    cell_reader,
    choice_lookup,
    data_rows,
    header_map,
    parse_choice,
    parse_date,
    parse_text,
    read_spreadsheet,
    split_header,
    text,
)

# --- What every import answers ------------------------------------------------------------------

CREATE = "create"
UPDATE = "update"


@dataclass
class ImportResult:
    """How many rows create and update, and (for a preview) each row: {"row", "action", "key",
    "values": {column: text}}."""

    created: int = 0
    updated: int = 0
    dry_run: bool = False
    columns: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    def add(self, *, row: int, action: str, key: str, values: dict) -> None:
        if action == CREATE:
            self.created += 1
        else:
            self.updated += 1
        shown = {name: "" if value is None else str(value) for name, value in values.items()}
        self.rows.append({"row": row, "action": action, "key": key, "values": shown})


def import_file(importer, *, data: bytes, filename: str, **kwargs) -> ImportResult:
    """Run an importer (members_import, products_import, ...) on an uploaded file's bytes."""
    rows = read_spreadsheet(data=data, filename=filename)
    return importer(rows=rows, **kwargs)


def normalize_code(value) -> str:
    return text(value).lower()


class RegionLookup:
    """Regions by name (when unique) or by path of names ("East/Shanghai", "华东 > 上海")."""

    def __init__(self, organization: Organization):
        rows = list(
            Region.objects.filter(organization=organization).values_list("pk", "name", "parent_id")
        )
        names = {pk: name for pk, name, _parent in rows}
        parents = {pk: parent for pk, _name, parent in rows}
        self.by_path: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        self.label: dict[int, str] = {}
        for pk, name, _parent in rows:
            chain, node, seen = [], pk, set()
            while node is not None and node not in seen:
                seen.add(node)
                chain.append(names[node])
                node = parents.get(node)
            label = "/".join(reversed(chain))
            self.label[pk] = label
            self.by_path[self._key(label)] = pk
            self.by_name.setdefault(name.strip().lower(), []).append(pk)

    @staticmethod
    def _key(value: str) -> str:
        for separator in (">", "／", "\\"):
            value = value.replace(separator, "/")
        return "/".join(part.strip().lower() for part in value.split("/") if part.strip())

    def find(self, value) -> int:
        raw = text(value)
        key = self._key(raw)
        if "/" in key:
            if key in self.by_path:
                return self.by_path[key]
            raise ValueError(_("Unknown region."))
        found = self.by_name.get(key, [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(_("Unknown region."))
        raise ValueError(_("Several regions have this name: use its path, like East/Shanghai."))


def members_by_code(
    *, organization: Organization, actor: Membership | None
) -> dict[str, tuple[int, str, str]]:
    """Agent code (lower case) -> (pk, path, status) of the members in the actor's scope (all for
    the system). Another organization's codes, or codes outside the scope, are simply unknown."""
    members = Membership.objects.filter(organization=organization).exclude(code="")
    if actor is not None:
        members = members.filter(member_scope_q(membership=actor))
    return {
        code.strip().lower(): (pk, path, status)
        for pk, code, path, status in members.values_list("pk", "code", "path", "status")
    }


# --- Members ------------------------------------------------------------------------------------

MEMBER_COLUMNS = {
    "code": ("agent code", "code", "agent", "代理编号", "编号", "工号"),
    "username": ("username", "user", "login", "用户名", "账号"),
    "display_name": ("display name", "name", "姓名", "名称", "显示名"),
    "role": ("role", "角色"),
    "upline": ("upline", "upline code", "upline agent code", "上级", "上级编号", "上线"),
    "region": ("region", "区域", "地区"),
    "level": ("level", "等级", "级别"),
    "status": ("status", "状态"),
    "joined_on": ("joined on", "joined", "join date", "加入日期", "入职日期"),
    "password": ("password", "密码"),
}
MEMBER_PREVIEW = [
    "username",
    "display_name",
    "role",
    "upline",
    "region",
    "level",
    "status",
    "joined_on",
]


@dataclass
class _Existing:
    pk: int
    user_id: int
    username: str
    display_name: str
    code: str
    role: str
    status: str
    upline_id: int | None
    region_id: int | None
    level_id: int | None
    joined_on: dt.date


@dataclass
class _MemberRow:
    row: int
    code: str
    existing: _Existing | None
    values: dict  # model field -> value, only what the row sets
    upline_code: str | None = None  # lower case; None: no upline given
    password: str = ""


def _load_members(organization: Organization) -> list[_Existing]:
    rows = Membership.objects.filter(organization=organization).values_list(
        "pk",
        "user_id",
        "user__username",
        "user__display_name",
        "code",
        "role",
        "status",
        "upline_id",
        "region_id",
        "level_id",
        "joined_on",
    )
    return [_Existing(*row) for row in rows]


def _role_errors(
    *, actor: Membership | None, existing: _Existing | None, role: str | None, status: str | None
) -> str | None:
    """Why the actor may not give this row this role or status (the rules of
    services.member_change_check, applied without a query per row)."""
    if role == Role.OWNER and (existing is None or existing.role != Role.OWNER):
        return _("Nobody becomes an owner by import.")
    owner_changes = (role is not None and role != Role.OWNER) or (
        status is not None and status not in WORKING_STATUSES
    )
    if existing is not None and existing.role == Role.OWNER and owner_changes:
        return _("An owner's role and status are changed in the admin or the API.")
    if actor is None or actor.role == Role.OWNER:
        return None
    touches_managers = (role in MANAGERS) or (existing is not None and existing.role in MANAGERS)
    if touches_managers:
        return _("Only an owner can manage owners and administrators.")
    return None


def _parse_member_row(
    *,
    row: int,
    cells: list,
    positions: dict[str, int],
    ctx: dict,
    errors: dict,
) -> _MemberRow | None:
    cell = cell_reader(cells, positions)
    code = text(cell("code"))
    if not code:
        errors["code"] = _("This value is required.")
        return None
    if len(code) > 40:
        errors["code"] = _("At most %(count)d characters.") % {"count": 40}
        return None
    existing = ctx["by_code"].get(code.lower())
    username = text(cell("username"))
    if existing is None and username:
        candidate = ctx["by_username"].get(username.lower())
        if candidate is not None and not candidate.code:
            existing = candidate  # a member without a code gets this one
        elif candidate is not None:
            errors["username"] = _(
                "This username belongs to the member with agent code %(code)s."
            ) % {"code": candidate.code}
    values: dict = {}
    if existing is None:
        if not username:
            errors["username"] = _("A new member needs a username.")
        elif len(username) > 150:
            errors["username"] = _("At most %(count)d characters.") % {"count": 150}
        else:
            try:
                User.username_validator(username)
            except ValidationError as exc:
                errors["username"] = " ".join(exc.messages)
        values["username"] = username
        values["code"] = code
    elif username and username.lower() != existing.username.lower():
        errors["username"] = _("The username of an existing member is not changed by import.")

    def parse(key, parser):
        raw = cell(key)
        if text(raw) == "" or key in errors:
            return
        try:
            values[key] = parser(raw)
        except ValueError as exc:
            errors[key] = str(exc)

    parse("display_name", lambda raw: parse_text(raw, max_length=150))
    parse("role", lambda raw: parse_choice(raw, ctx["roles"], Role.choices))
    parse("status", lambda raw: parse_choice(raw, ctx["statuses"], MemberStatus.choices))
    parse("region", ctx["regions"].find)
    parse("level", lambda raw: _find_level(raw, ctx["levels"]))
    parse("joined_on", parse_date)
    message = _role_errors(
        actor=ctx["actor"], existing=existing, role=values.get("role"), status=values.get("status")
    )
    if message:
        errors["role"] = message
    upline_code = normalize_code(cell("upline")) or None
    if upline_code is not None and upline_code == code.lower():
        errors["upline"] = _("A member cannot be their own upline.")
    password = text(cell("password")) if existing is None else ""
    if password and "username" not in errors:
        try:
            validate_password(password, user=User(username=username))
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if errors:
        return None
    return _MemberRow(row, code, existing, values, upline_code, password)


def _find_level(raw, levels: dict[str, int]) -> int:
    found = levels.get(text(raw).lower())
    if found is None:
        raise ValueError(_("Unknown level."))
    return found


def _check_uplines(
    *, parsed: list[_MemberRow], existing: list[_Existing], by_code: dict, errors: RowErrors
) -> None:
    """Every upline code is known (in the organization or the file), has not left, and the
    final hierarchy has no cycle."""
    in_file = {item.code.lower(): item for item in parsed}
    # The final upline of every node: file rows by their code, others by ("pk", id).
    node_of_pk = {
        member.pk: member.code.lower() if member.code.lower() in in_file else ("pk", member.pk)
        for member in existing
    }
    parent: dict = {}
    for member in existing:
        node = node_of_pk[member.pk]
        parent[node] = node_of_pk.get(member.upline_id) if member.upline_id else None
    bad_rows = set()
    for item in parsed:
        if item.upline_code is None:
            if item.existing is None:
                parent[item.code.lower()] = None
            continue  # an update without an upline keeps it
        target = in_file.get(item.upline_code)
        if target is not None:
            status = target.values.get("status") or (
                target.existing.status if target.existing else MemberStatus.ACTIVE
            )
            parent[item.code.lower()] = item.upline_code
        elif item.upline_code in by_code:
            upline = by_code[item.upline_code]
            status = upline.status
            parent[item.code.lower()] = node_of_pk[upline.pk]
        else:
            errors.add(item.row, "upline", _("Unknown agent code."))
            bad_rows.add(item.row)
            continue
        if status == MemberStatus.LEFT:
            errors.add(item.row, "upline", _("This member has left the organization."))
            bad_rows.add(item.row)
    for item in parsed:
        if item.row in bad_rows:
            continue
        start = item.code.lower()
        node, steps = parent.get(start), 0
        while node is not None and steps <= len(parent):
            if node == start:
                errors.add(
                    item.row,
                    "upline",
                    _("This would make a cycle: the new upline is inside the member's subtree."),
                )
                break
            node, steps = parent.get(node), steps + 1


def members_import(
    *,
    organization: Organization,
    actor: Membership | None,
    rows: Iterable[list],
    dry_run: bool = False,
    progress: Progress = None,
) -> ImportResult:
    """Create or update members from rows (header first), all or none. `actor` None is a system
    import. Raises ImportRowsError listing every bad row, PermissionDenied when the actor may not
    import members; returns the counts (and, for a dry run, the preview; nothing is written)."""
    if actor is not None and not actor.is_manager:
        raise PermissionDenied(_("Only owners and administrators import members."))
    header, iterator = split_header(rows)
    positions, header_errors = header_map(header, MEMBER_COLUMNS, ("code",))
    if header_errors:
        raise ImportRowsError(header_errors)
    with transaction.atomic():
        if not dry_run:
            _lock_organization(organization)
        existing = _load_members(organization)
        ctx = {
            "actor": actor,
            "by_code": {m.code.strip().lower(): m for m in existing if m.code},
            "by_username": {m.username.lower(): m for m in existing},
            "roles": choice_lookup(Role.choices),
            "statuses": choice_lookup(MemberStatus.choices),
            "regions": RegionLookup(organization),
            "levels": {
                name.strip().lower(): pk
                for pk, name in AgentLevel.objects.filter(organization=organization).values_list(
                    "pk", "name"
                )
            },
        }
        errors = RowErrors()
        parsed: list[_MemberRow] = []
        seen_codes: dict[str, int] = {}
        seen_usernames: dict[str, int] = {}
        unchecked_uplines: list[tuple[int, str]] = []
        for row, cells in data_rows(iterator, errors=errors, progress=progress):
            row_errors: dict = {}
            item = _parse_member_row(
                row=row, cells=cells, positions=positions, ctx=ctx, errors=row_errors
            )
            code = text(cell_reader(cells, positions)("code")).lower()
            if code and code in seen_codes:
                row_errors["code"] = _("This agent code is also on row %(row)d.") % {
                    "row": seen_codes[code]
                }
            seen_codes.setdefault(code, row)
            if item is not None and item.existing is None:
                username = item.values["username"].lower()
                if username in seen_usernames:
                    row_errors["username"] = _("This username is also on row %(row)d.") % {
                        "row": seen_usernames[username]
                    }
                seen_usernames.setdefault(username, row)
            if row_errors:
                errors.add_all(row, row_errors)
                upline = normalize_code(cell_reader(cells, positions)("upline"))
                if upline and "upline" not in row_errors:
                    unchecked_uplines.append((row, upline))
            elif item is not None:
                parsed.append(item)
        # Bad rows' upline codes are still checked, so that every mistake shows at once.
        for row, upline in unchecked_uplines:
            if upline not in ctx["by_code"] and upline not in seen_codes:
                errors.add(row, "upline", _("Unknown agent code."))
        _check_taken_usernames(parsed=parsed, errors=errors)
        _check_uplines(parsed=parsed, existing=existing, by_code=ctx["by_code"], errors=errors)
        errors.raise_if_any()
        result = _member_preview(parsed=parsed, ctx=ctx, dry_run=dry_run)
        if not dry_run:
            _write_members(organization=organization, actor=actor, parsed=parsed, existing=existing)
    return result


def _check_taken_usernames(*, parsed: list[_MemberRow], errors: RowErrors) -> None:
    wanted = {item.values["username"].lower(): item for item in parsed if item.existing is None}
    if not wanted:
        return
    taken = (
        User.objects.annotate(lower_username=Lower("username"))
        .filter(lower_username__in=list(wanted))
        .values_list("lower_username", flat=True)
    )
    for username in taken:
        errors.add(wanted[username].row, "username", _("This username is taken."))


def _member_preview(*, parsed: list[_MemberRow], ctx: dict, dry_run: bool) -> ImportResult:
    result = ImportResult(dry_run=dry_run, columns=MEMBER_PREVIEW)
    level_names = {pk: name for name, pk in ctx["levels"].items()}
    for item in parsed:
        values = item.values
        shown = {
            "username": values.get("username", item.existing.username if item.existing else ""),
            "display_name": values.get("display_name"),
            "role": values.get("role"),
            "upline": _upline_label(item.upline_code, ctx["by_code"]),
            "region": ctx["regions"].label.get(values["region"]) if "region" in values else None,
            "level": level_names.get(values["level"]) if "level" in values else None,
            "status": values.get("status"),
            "joined_on": values.get("joined_on"),
        }
        result.add(
            row=item.row,
            action=UPDATE if item.existing else CREATE,
            key=item.code,
            values=shown,
        )
    return result


def _upline_label(code: str | None, by_code: dict) -> str | None:
    if code is None:
        return None
    existing = by_code.get(code)
    return existing.code if existing is not None else code.upper()


def _write_members(
    *,
    organization: Organization,
    actor: Membership | None,
    parsed: list[_MemberRow],
    existing: list[_Existing],
) -> None:
    now = timezone.now()
    today = organization.local_today()
    new_rows = [item for item in parsed if item.existing is None]
    users = [
        User(
            username=item.values["username"],
            display_name=item.values.get("display_name", ""),
            password=make_password(item.password or None),
            date_joined=now,
        )
        for item in new_rows
    ]
    User.objects.bulk_create(users, batch_size=BATCH_SIZE)
    if users and users[0].pk is None:  # a backend that does not return ids
        by_name = dict(
            User.objects.filter(username__in=[u.username for u in users]).values_list(
                "username", "pk"
            )
        )
        for user in users:
            user.pk = by_name[user.username]
    memberships = []
    for item, user in zip(new_rows, users, strict=True):
        values = item.values
        memberships.append(
            Membership(
                organization=organization,
                user_id=user.pk,
                code=item.code,
                role=values.get("role", Role.AGENT),
                status=values.get("status", MemberStatus.ACTIVE),
                region_id=values.get("region"),
                level_id=values.get("level"),
                joined_on=values.get("joined_on") or today,
                created_at=now,
                updated_at=now,
            )
        )
    Membership.objects.bulk_create(memberships, batch_size=BATCH_SIZE)
    if memberships and memberships[0].pk is None:
        by_user = dict(
            Membership.objects.filter(
                organization=organization, user_id__in=[u.pk for u in users]
            ).values_list("user_id", "pk")
        )
        for membership in memberships:
            membership.pk = by_user[membership.user_id]
    pk_of_code = {m.code.lower(): m.pk for m in existing if m.code}
    pk_of_code.update({m.code.lower(): m.pk for m in memberships})

    changed, renamed = [], []
    field_map = {"region": "region_id", "level": "level_id"}
    for item in parsed:
        if item.existing is None:
            continue
        member = Membership(pk=item.existing.pk, organization=organization)
        for name in ("role", "status", "region", "level", "joined_on", "code"):
            current = getattr(item.existing, field_map.get(name, name))
            setattr(member, field_map.get(name, name), item.values.get(name, current))
        # A code matched case-insensitively keeps its spelling; a member without one gets it.
        member.code = item.existing.code or item.code
        member.updated_at = now
        changed.append(member)
        if "display_name" in item.values:
            renamed.append(User(pk=item.existing.user_id, display_name=item.values["display_name"]))
    bulk_update_rows(
        Membership,
        changed,
        ["role", "status", "region", "level", "joined_on", "code", "updated_at"],
        organization_id=organization.pk,
    )
    bulk_update_rows(User, renamed, ["display_name"])

    uplines = {m.pk: m.upline_id for m in existing}
    for membership in memberships:
        uplines[membership.pk] = None
    for item in parsed:
        if item.upline_code is not None:
            uplines[pk_of_code[item.code.lower()]] = pk_of_code[item.upline_code]
    try:
        rebuild_member_paths(organization=organization, uplines=uplines)
    except HierarchyTooDeep as exc:
        row_of_pk = {pk_of_code[item.code.lower()]: item.row for item in parsed}
        rows = sorted({row_of_pk[pk] for pk in exc.member_ids if pk in row_of_pk}) or [1]
        raise ImportRowsError(
            [
                {"row": row, "field": "upline", "message": _("The hierarchy would be too deep.")}
                for row in rows
            ]
        ) from exc
    _audit_members(organization=organization, actor=actor, parsed=parsed, pk_of_code=pk_of_code)


def _audit_members(
    *, organization: Organization, actor: Membership | None, parsed: list, pk_of_code: dict
) -> None:
    """One audit entry per created or updated member (as member_create / member_update record
    them), written with one bulk INSERT."""
    entries = []
    for item in parsed:
        changes = {
            name: [None, value]
            for name, value in item.values.items()
            if name not in ("username", "display_name")
        }
        if item.upline_code is not None:
            changes["upline"] = [None, pk_of_code[item.upline_code]]
        entries.append(
            audit_entry_build(
                organization=organization,
                actor=actor,
                action="member.update" if item.existing else "member.create",
                object_type=Membership._meta.label_lower,
                object_id=pk_of_code[item.code.lower()],
                object_repr=item.code,
                changes=changes,
                context={"import": True},
            )
        )
    audit_record_many(entries)


def rebuild_member_paths(*, organization: Organization, uplines: dict[int, int | None]) -> int:
    """Give every member of the organization the upline in `uplines` (pk -> upline pk; members
    not named keep theirs) and the materialized path and depth that follow from it, writing only
    the rows that change. Returns how many changed. The caller has checked there is no cycle."""
    current = {
        pk: (upline_id, path, depth)
        for pk, upline_id, path, depth in Membership.objects.filter(
            organization=organization
        ).values_list("pk", "upline_id", "path", "depth")
    }
    final = {pk: uplines.get(pk, upline_id) for pk, (upline_id, _p, _d) in current.items()}
    children: dict[int | None, list[int]] = {}
    for pk, upline_id in final.items():
        children.setdefault(upline_id, []).append(pk)
    changed, too_long = [], []
    max_length = Membership._meta.get_field("path").max_length
    stack = [(pk, "/", 0) for pk in children.get(None, [])]
    while stack:
        pk, parent_path, depth = stack.pop()
        path = f"{parent_path}{pk}/"
        if len(path) > max_length:
            too_long.append(pk)
            continue
        if current[pk] != (final[pk], path, depth):
            changed.append(Membership(pk=pk, upline_id=final[pk], path=path, depth=depth))
        stack.extend((child, path, depth + 1) for child in children.get(pk, []))
    if too_long:
        raise HierarchyTooDeep(too_long)
    bulk_update_rows(
        Membership, changed, ["upline", "path", "depth"], organization_id=organization.pk
    )
    return len(changed)


class HierarchyTooDeep(Exception):
    """Some members would sit deeper than a hierarchy path can hold (nothing was written)."""

    def __init__(self, member_ids: list[int]):
        super().__init__(f"{len(member_ids)} members too deep")
        self.member_ids = member_ids
