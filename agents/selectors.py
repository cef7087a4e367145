"""Reads about organizations and people. Every selector takes the organization explicitly."""

from django.db.models import Q, QuerySet

from .compiled import CompiledQuery
from .models import Membership, MemberStatus, Organization

# Members who still work for the organization: they are due to report and can be appraised.
WORKING_STATUSES = (MemberStatus.PROBATION, MemberStatus.ACTIVE)


def membership_for_user(*, user, org_slug: str) -> Membership | None:
    """The caller's membership in the organization named by the slug, or None. Members who left
    are no longer members. The user is read with it (select_related): the API's bearer tokens
    leave it unread until here (agents.api.authentication)."""
    if not user or not user.is_authenticated:
        return None
    return _MEMBERSHIP_OF_USER.first(user_id=user.pk, org_slug=org_slug)


def _membership_of_user(*, user_id: int, org_slug: str):
    return (
        Membership.objects.select_related("organization", "user")
        .filter(organization__slug=org_slug, organization__is_active=True, user_id=user_id)
        .exclude(status=MemberStatus.LEFT)
        .order_by("pk")[:1]
    )


# Every organization-scoped request runs it: compiled once (agents.compiled).
_MEMBERSHIP_OF_USER = CompiledQuery(_membership_of_user, kinds={"user_id": int, "org_slug": str})


def memberships_of_user(*, user) -> QuerySet[Membership]:
    """The user's memberships in active organizations, with the organization, by its name.
    Members who left are no longer members."""
    return _memberships_of_user_id(user_id=user.pk)


def memberships_of_user_list(*, user) -> list[Membership]:
    """memberships_of_user's rows, through a compiled statement (GET me/ and orgs/ run it)."""
    return _MEMBERSHIPS_OF_USER.all(user_id=user.pk)


def _memberships_of_user_id(*, user_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user_id=user_id, organization__is_active=True)
        .exclude(status=MemberStatus.LEFT)
        .select_related("organization")
        .order_by("organization__name", "pk")
    )


_MEMBERSHIPS_OF_USER = CompiledQuery(_memberships_of_user_id, kinds={"user_id": int})


def subtree_q(*, root: Membership, prefix: str = "", include_root: bool = True) -> Q:
    """A filter for the members of root's subtree, as one indexed prefix match on the path.
    `prefix` is the lookup path from the queried model to its Membership (e.g. "owner__")."""
    q = Q(**{f"{prefix}path__startswith": root.path})
    if not include_root:
        q &= ~Q(**{f"{prefix}pk": root.pk})
    return q


def member_scope_q(*, membership: Membership, prefix: str = "") -> Q:
    """What a member may see of member-owned data: everything for owners and admins; for
    leaders and agents themselves and their whole downline."""
    if membership.is_manager:
        return Q()
    return subtree_q(root=membership, prefix=prefix)


def member_list(*, organization: Organization, viewer: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .filter(member_scope_q(membership=viewer))
        .select_related("user")
    )


def organization_admins(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(
        organization=organization, role__in=("owner", "admin"), status__in=WORKING_STATUSES
    ).select_related("user")
