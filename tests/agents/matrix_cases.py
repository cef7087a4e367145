from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.agents.factories import (
    AgentLevelFactory,
    CalendarDayFactory,
    CustomerFactory,
    ProductFactory,
    RegionFactory,
)
from tests.matrix import Case, everyone, roles


def spreadsheet(text: str):
    """A multipart body with a CSV file (spreadsheet imports)."""
    return lambda world: {"file": SimpleUploadedFile("import.csv", text.encode(), "text/csv")}


def member(world) -> dict:
    return {"pk": world.agent.pk}


def region(world) -> dict:
    return {"pk": RegionFactory(organization=world.org, name="North").pk}


def level(world) -> dict:
    return {"pk": AgentLevelFactory(organization=world.org).pk}


def product(world) -> dict:
    return {"pk": ProductFactory(organization=world.org).pk}


def customer(world) -> dict:
    return {"pk": CustomerFactory(organization=world.org, owner=world.agent).pk}


def calendar_day(world) -> dict:
    return {"pk": CalendarDayFactory(organization=world.org).pk}


def audit_entry(world) -> dict:
    from agents.audit import audit_record

    entry = audit_record(
        organization=world.org,
        actor=world.owner,
        action="member.update",
        instance=world.agent,
        before={"status": "active"},
        after={"status": "suspended"},
    )
    return {"pk": entry.pk}


def invitation(world) -> dict:
    """A pending invitation placed in branch A (below the agent)."""
    from agents.invitations import invitation_create

    created, _token = invitation_create(
        organization=world.org, actor=world.owner, email="matrix@example.com", upline=world.agent
    )
    return {"pk": created.pk}


MANAGERS_ONLY = roles(403, admin=200, owner=200)
MANAGERS_CREATE = roles(403, admin=201, owner=201)
MANAGERS_DELETE = roles(403, admin=204, owner=204)
# Branch-A objects: the other branch cannot see them at all.
BRANCH_READ = roles(200, other_agent=404, other_leader=404)

CASES = [
    # members
    Case("members-list", "get", everyone(200)),
    Case(
        "members-list",
        "post",
        MANAGERS_CREATE,
        body=lambda w: {"username": "newbie", "password": "a-Long-pass-1", "upline": w.leader.pk},
    ),
    Case("members-detail", "get", BRANCH_READ, args=member),
    Case(
        "members-detail",
        "patch",
        roles(403, other_agent=404, other_leader=404, admin=200, owner=200),
        args=member,
        body=lambda w: {"code": "A-XYZ"},
    ),
    # regions, levels, products: organization-wide catalogs
    Case("regions-list", "get", everyone(200)),
    Case("regions-list", "post", MANAGERS_CREATE, body=lambda w: {"name": "South"}),
    Case("regions-detail", "get", everyone(200), args=region),
    Case("regions-detail", "patch", MANAGERS_ONLY, args=region, body=lambda w: {"code": "N"}),
    Case("regions-detail", "delete", MANAGERS_DELETE, args=region),
    Case("levels-list", "get", everyone(200)),
    Case("levels-list", "post", MANAGERS_CREATE, body=lambda w: {"name": "Gold", "rank": 9}),
    Case("levels-detail", "get", everyone(200), args=level),
    Case("levels-detail", "patch", MANAGERS_ONLY, args=level, body=lambda w: {"name": "Silver"}),
    Case("levels-detail", "delete", MANAGERS_DELETE, args=level),
    Case("products-list", "get", everyone(200)),
    Case(
        "products-list",
        "post",
        MANAGERS_CREATE,
        body=lambda w: {"sku": "NEW-1", "name": "Serum", "price": "99.00", "cost": "30.00"},
    ),
    Case("products-detail", "get", everyone(200), args=product),
    Case("products-detail", "patch", MANAGERS_ONLY, args=product, body=lambda w: {"price": "1.00"}),
    Case("products-detail", "delete", MANAGERS_DELETE, args=product),
    # customers: scoped by owner; agents write their own
    Case("customers-list", "get", everyone(200)),
    Case("customers-list", "post", everyone(201), body=lambda w: {"name": "Ms Li"}),
    Case("customers-detail", "get", BRANCH_READ, args=customer),
    Case(
        "customers-detail",
        "patch",
        roles(200, other_agent=404, other_leader=404),
        args=customer,
        body=lambda w: {"status": "active"},
    ),
    Case(
        "customers-detail",
        "delete",
        roles(403, other_agent=404, other_leader=404, admin=204, owner=204),
        args=customer,
    ),
    # calendar
    Case("calendar-days-list", "get", everyone(200)),
    Case(
        "calendar-days-list",
        "post",
        MANAGERS_CREATE,
        body=lambda w: {"date": "2026-12-31", "is_workday": False, "name": "Year end"},
    ),
    Case("calendar-days-detail", "get", everyone(200), args=calendar_day),
    Case(
        "calendar-days-detail",
        "patch",
        MANAGERS_ONLY,
        args=calendar_day,
        body=lambda w: {"name": "国庆节"},
    ),
    Case("calendar-days-detail", "delete", MANAGERS_DELETE, args=calendar_day),
    Case("calendar-days-prefill", "post", MANAGERS_ONLY, body=lambda w: {"year": 2026}),
    # spreadsheet imports: members and products by owners/admins; customers also by leaders,
    # for owners in their subtree (A-001 is unknown to the other leader: a row error, 400)
    Case(
        "members-import",
        "post",
        MANAGERS_CREATE,
        body=spreadsheet("code,username\nMX-1,matrix_import\n"),
        fmt="multipart",
    ),
    Case(
        "products-import",
        "post",
        MANAGERS_CREATE,
        body=spreadsheet("sku,name\nMX-1,Matrix\n"),
        fmt="multipart",
    ),
    Case(
        "customers-import",
        "post",
        roles(403, other_leader=400, leader=201, admin=201, owner=201),
        body=spreadsheet("name,owner\nMatrix Ltd,A-001\n"),
        fmt="multipart",
    ),
    # settings
    Case("settings", "get", MANAGERS_ONLY),
    Case("settings", "patch", MANAGERS_ONLY, body=lambda w: {"currency": "USD"}),
    # audit trail: owners and admins read it; nobody writes it through the API
    Case("audit-log-list", "get", MANAGERS_ONLY),
    Case("audit-log-detail", "get", MANAGERS_ONLY, args=audit_entry),
    # invitations: owners and admins; leaders for their own subtree; agents see none
    Case("invitations-list", "get", roles(403, leader=200, other_leader=200, admin=200, owner=200)),
    Case(
        "invitations-list",
        "post",
        roles(403, leader=201, other_leader=400, admin=201, owner=201),
        body=lambda w: {"email": "new@example.com", "upline": w.agent.pk},
    ),
    Case(
        "invitations-detail",
        "get",
        roles(404, leader=200, admin=200, owner=200),
        args=invitation,
    ),
    Case(
        "invitations-revoke",
        "post",
        roles(404, leader=200, admin=200, owner=200),
        args=invitation,
    ),
    Case(
        "invitations-resend",
        "post",
        roles(404, leader=200, admin=200, owner=200),
        args=invitation,
    ),
]

__all__ = ["CASES", "Decimal"]
