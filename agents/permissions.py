"""Who may do what: the vocabulary each resource uses to declare its access rules in one place.

A viewset declares `access = {action: Rule}`. The tenancy machinery (agents/api/base.py) applies it:
a role outside `roles` gets 403; a role in `own_only` may act only on objects that are its own
(the view says what "own" means). Scope, which objects a member can see at all, is separate and
answers 404 (see agents/selectors.py).
"""

from dataclasses import dataclass, field

from .models import Role

MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
LEADERS = MANAGERS | {Role.LEADER}
EVERYONE = LEADERS | {Role.AGENT}


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    own_only: frozenset[str] = field(default_factory=frozenset)

    def allows(self, role: str) -> bool:
        return role in self.roles


READ = Rule(EVERYONE)
MANAGE = Rule(MANAGERS)
LEAD = Rule(LEADERS)
# Everyone may write, agents only their own objects.
OWN_WRITE = Rule(EVERYONE, own_only=frozenset({Role.AGENT}))

# The standard map for a catalog every member reads and only owners/admins change.
CATALOG_ACCESS = {
    "list": READ,
    "retrieve": READ,
    "create": MANAGE,
    "update": MANAGE,
    "partial_update": MANAGE,
    "destroy": MANAGE,
}
