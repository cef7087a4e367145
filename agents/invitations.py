"""Invitations: how a person joins an organization, with or without an account yet.

An owner, an admin, or a leader (agents only, placed in the leader's own subtree) invites someone
by e-mail address and/or user name, with the role, upline, region, level and agent code they will
have. The invitee gets an e-mail with a link (settings.FRONTEND_INVITE_URL) through the
notifications outbox, and, if they already have an account and work in another organization, an
in-app notification there too. The link carries a random token; only its SHA-256 is stored, so
the token is shown once (in the create/resend answer) and cannot be read back. A resend issues a
new token (the old link stops working) and starts the validity period again.

Accepting (signed in) or registering (a new account) creates the membership on probation, placed
in the hierarchy like every other member (services.tree_node_place), in one transaction with the
claim of the invitation (a conditional UPDATE pending -> accepted), so a token works once.

Expiry is lazy: a pending invitation whose `expires_at` has passed is treated as expired
everywhere (the public endpoints answer 404, it cannot be accepted or revoked), and is marked
expired in bulk (one UPDATE) when the organization's invitations are listed or a new invitation
is created, or singly when its token is used. No scheduled job is needed.
"""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.direct import email_direct_queue
from notifications.models import NotificationKind
from notifications.services import notify_many, organization_language

from .audit import audit_record, audit_snapshot
from .errors import Conflict
from .models import (
    Invitation,
    InvitationStatus,
    Membership,
    MemberStatus,
    Organization,
    Role,
    User,
)
from .selectors import WORKING_STATUSES, memberships_of_user, subtree_q
from .services import _lock_organization, member_create_check, tree_node_place

INVITATION_FIELDS = ("email", "username", "role", "upline", "region", "level", "code", "expires_at")


# --- Tokens and links -----------------------------------------------------------------------------


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, invitation_token_hash(token)


def invitation_link(token: str) -> str:
    return settings.FRONTEND_INVITE_URL.replace("{token}", token)


def _expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.INVITATION_EXPIRY_DAYS)


# --- Reads ----------------------------------------------------------------------------------------


def invitations_expire(*, organization: Organization | None = None) -> int:
    """Mark pending invitations past their expiry as expired (one UPDATE). Returns how many."""
    stale = Invitation.objects.filter(
        status=InvitationStatus.PENDING, expires_at__lte=timezone.now()
    )
    if organization is not None:
        stale = stale.filter(organization=organization)
    return stale.update(status=InvitationStatus.EXPIRED)


def invitation_scope_q(*, membership: Membership) -> Q:
    """Which invitations a member sees: owners and admins all; leaders the invitations of agents
    whose upline is in their own subtree (themselves included). Not those for other roles even
    there: a resend shows the token, which would let a leader take an admin's invitation."""
    if membership.is_manager:
        return Q()
    return Q(role=Role.AGENT) & subtree_q(root=membership, prefix="upline__")


def invitation_for_token(token: str) -> Invitation | None:
    """The pending, unexpired invitation with this token, or None (unknown, expired, revoked and
    used alike: the answer says nothing about which). An expired one is marked so."""
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=invitation_token_hash(token), organization__is_active=True)
        .first()
    )
    if invitation is None or invitation.status != InvitationStatus.PENDING:
        return None
    if invitation.expires_at <= timezone.now():
        Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.EXPIRED
        )
        return None
    return invitation


def _existing_users(*, email: str, username: str) -> QuerySet[User]:
    q = Q(pk__in=[])
    if email:
        q |= Q(email__iexact=email)
    if username:
        q |= Q(username__iexact=username)
    return User.objects.filter(q)


# --- Inviting -------------------------------------------------------------------------------------


def _check_inviter(
    *, organization: Organization, actor: Membership, role: str, upline: Membership | None
) -> None:
    """Leaders invite agents only, into their own subtree; only an owner invites owners and
    admins (member_create_check); the rest as for a new member."""
    if actor.role == Role.LEADER:
        if role != Role.AGENT:
            raise PermissionDenied(_("Leaders can invite agents only."))
        if upline is None or not upline.path.startswith(actor.path):
            raise ValidationError({"upline": _("Choose an upline in your own team.")})
    elif actor.role not in (Role.OWNER, Role.ADMIN):
        raise PermissionDenied(_("Your role does not allow this."))


def _check_not_member(*, organization: Organization, email: str, username: str) -> None:
    users = _existing_users(email=email, username=username)
    statuses = set(
        Membership.objects.filter(organization=organization, user__in=users).values_list(
            "status", flat=True
        )
    )
    if statuses - {MemberStatus.LEFT}:
        raise Conflict(_("This person is already a member of the organization."))
    if statuses:
        raise Conflict(
            _("This person was a member before: change their membership's status instead.")
        )


def _check_no_pending(
    *, organization: Organization, email: str, username: str, exclude_pk=None
) -> None:
    """A pending invitation that has not expired blocks another for the same person."""
    pending = Invitation.objects.filter(
        organization=organization, status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
    ).exclude(pk=exclude_pk)
    if email and pending.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": _("A pending invitation for this address exists: resend it instead.")}
        )
    if username and pending.filter(username__iexact=username).exists():
        raise ValidationError(
            {"username": _("A pending invitation for this user name exists: resend it instead.")}
        )


def invitation_create_check(
    *,
    organization: Organization,
    actor: Membership,
    email: str = "",
    username: str = "",
    role: str = Role.AGENT,
    upline: Membership | None = None,
    code: str = "",
) -> tuple[str, str, Membership | None]:
    """Everything invitation_create would refuse, without writing (the admin's form calls it
    too): a ValidationError naming the field, PermissionDenied for a missing power, Conflict
    for someone who is (or was) a member. Returns the normalized email, username and upline."""
    email, username = (email or "").strip().lower(), (username or "").strip()
    if not email and not username:
        raise ValidationError(
            {"email": _("Give the invitee's e-mail address or user name (or both).")}
        )
    if actor.role == Role.LEADER and upline is None:
        upline = actor  # a leader's invitee joins their own team
    _check_inviter(organization=organization, actor=actor, role=role, upline=upline)
    member_create_check(organization=organization, actor=actor, role=role, upline=upline, code=code)
    if (
        code
        and Invitation.objects.filter(
            organization=organization, status=InvitationStatus.PENDING, code=code
        )
        .filter(expires_at__gt=timezone.now())
        .exists()
    ):
        raise ValidationError({"code": _("A pending invitation has this agent code.")})
    _check_not_member(organization=organization, email=email, username=username)
    _check_no_pending(organization=organization, email=email, username=username)
    return email, username, upline


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    actor: Membership,
    email: str = "",
    username: str = "",
    role: str = Role.AGENT,
    upline: Membership | None = None,
    region=None,
    level=None,
    code: str = "",
) -> tuple[Invitation, str]:
    """Invite someone; returns the invitation and its token (shown once, never stored).
    `actor` may be an unsaved membership (a platform operator in the admin)."""
    email, username, upline = invitation_create_check(
        organization=organization,
        actor=actor,
        email=email,
        username=username,
        role=role,
        upline=upline,
        code=code,
    )
    invitations_expire(organization=organization)  # stale ones must not meet the constraint
    token, token_hash = _new_token()
    try:
        with transaction.atomic():  # a concurrent twin meets the unique constraint here
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                username=username,
                role=role,
                upline=upline,
                region=region,
                level=level,
                code=code,
                invited_by=actor if actor.pk else None,
                token_hash=token_hash,
                expires_at=_expiry(),
            )
    except IntegrityError:
        _check_no_pending(organization=organization, email=email, username=username)
        raise
    audit_record(
        organization=organization,
        actor=actor,
        action="invitation.create",
        instance=invitation,
        after=audit_snapshot(invitation, INVITATION_FIELDS),
    )
    _invitation_send(invitation=invitation, token=token, inviter=actor)
    return invitation, token


@transaction.atomic
def invitation_revoke(
    *, organization: Organization, actor: Membership, invitation: Invitation
) -> Invitation:
    revoked = Invitation.objects.filter(
        organization=organization,
        pk=invitation.pk,
        status=InvitationStatus.PENDING,
        expires_at__gt=timezone.now(),
    ).update(status=InvitationStatus.REVOKED, revoked_at=timezone.now())
    invitation.refresh_from_db()
    if not revoked:
        raise Conflict(
            _("Only a pending invitation can be revoked; this one is %(status)s.")
            % {"status": _effective_status_label(invitation)}
        )
    audit_record(
        organization=organization,
        actor=actor,
        action="invitation.revoke",
        instance=invitation,
        changes={"status": [InvitationStatus.PENDING, InvitationStatus.REVOKED]},
    )
    return invitation


@transaction.atomic
def invitation_resend(
    *, organization: Organization, actor: Membership, invitation: Invitation
) -> tuple[Invitation, str]:
    """Send the invitation again with a new token (the previous link stops working) and a new
    validity period. An expired invitation is revived; an accepted or revoked one is final."""
    invitation = Invitation.objects.select_for_update().get(
        organization=organization, pk=invitation.pk
    )
    if invitation.status not in (InvitationStatus.PENDING, InvitationStatus.EXPIRED):
        raise Conflict(
            _("Only a pending or expired invitation can be sent again; this one is %(status)s.")
            % {"status": invitation.get_status_display()}
        )
    _check_not_member(
        organization=organization, email=invitation.email, username=invitation.username
    )
    if invitation.status == InvitationStatus.EXPIRED or invitation.is_expired:
        _check_no_pending(
            organization=organization,
            email=invitation.email,
            username=invitation.username,
            exclude_pk=invitation.pk,
        )
    invitations_expire(organization=organization)  # stale twins must not meet the constraint
    before = audit_snapshot(invitation, ("status", "expires_at"))
    token, invitation.token_hash = _new_token()
    invitation.status = InvitationStatus.PENDING
    invitation.expires_at = _expiry()
    invitation.send_count += 1
    invitation.last_sent_at = timezone.now()
    invitation.save(
        update_fields=["token_hash", "status", "expires_at", "send_count", "last_sent_at"]
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="invitation.resend",
        instance=invitation,
        before=before,
        after=audit_snapshot(invitation, ("status", "expires_at")),
        context={"send": invitation.send_count},
    )
    _invitation_send(invitation=invitation, token=token, inviter=actor)
    return invitation, token


def _effective_status_label(invitation: Invitation) -> str:
    if invitation.is_expired:
        return InvitationStatus.EXPIRED.label
    return invitation.get_status_display()


# --- Messages -------------------------------------------------------------------------------------


def _texts(*, invitation: Invitation, inviter_name: str, link: str) -> tuple[str, str]:
    """(subject, text) in the active language."""
    organization = invitation.organization
    expires = timezone.localtime(invitation.expires_at, organization.tzinfo)
    subject = _("Invitation to join %(organization)s") % {"organization": organization.name}
    body = _(
        "%(inviter)s invited you to join %(organization)s as %(role)s. The invitation is valid "
        "until %(expires)s.\n\nOpen this link to accept it:\n%(link)s"
    ) % {
        "inviter": inviter_name,
        "organization": organization.name,
        "role": Role(invitation.role).label,
        "expires": f"{expires:%Y-%m-%d %H:%M} ({organization.timezone})",
        "link": link,
    }
    return str(subject), str(body)


def _invitation_send(*, invitation: Invitation, token: str, inviter: Membership) -> None:
    """E-mail the link to the invitee; if they have an account and work in an organization, put
    it in their inbox there too (in the first one: inboxes are per organization). That
    notification's e-mail goes to the account's own address, which then gets no second copy.
    An invitation by user name only is e-mailed to the account's address, if any."""
    organization = invitation.organization
    link = invitation_link(token)
    inviter_name = inviter.user.get_display_name()
    send_key = f"invitation:{invitation.pk}:send:{invitation.send_count}"
    users = list(_existing_users(email=invitation.email, username=invitation.username)[:2])
    account = users[0] if len(users) == 1 else None
    address = invitation.email or (account.email.strip().lower() if account else "")
    if account is not None:
        home = memberships_of_user(user=account).filter(status__in=WORKING_STATUSES).first()
        if home is not None:
            home.user = account

            def subject(member):
                return _texts(invitation=invitation, inviter_name=inviter_name, link=link)[0]

            def text(member):
                return _texts(invitation=invitation, inviter_name=inviter_name, link=link)[1]

            notify_many(
                organization=home.organization,
                recipients=[home],
                kind=NotificationKind.OTHER,
                title=subject,
                body=text,
                link=link,
                dedupe_key_for=lambda member: f"{send_key}:member:{member.pk}",
            )
            if account.is_active and (account.email or "").strip().lower() == address:
                return  # the notification's own e-mail reaches this address
    if address:
        with translation.override(organization_language(organization)):
            subject, text = _texts(invitation=invitation, inviter_name=inviter_name, link=link)
        email_direct_queue(
            organization=organization,
            to=address,
            subject=subject,
            body=text,
            dedupe_key=f"{send_key}:mail",
        )


# --- Joining --------------------------------------------------------------------------------------


def _check_invitee(*, invitation: Invitation, user: User) -> None:
    if invitation.email and (user.email or "").strip().lower() != invitation.email:
        raise PermissionDenied(_("This invitation was sent to another e-mail address."))
    if invitation.username and user.username.lower() != invitation.username.lower():
        raise PermissionDenied(_("This invitation is for another user name."))


def _join(*, invitation: Invitation, user: User) -> Membership:
    """Claim the invitation and create the membership (inside the caller's transaction)."""
    organization = invitation.organization
    _lock_organization(organization)
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, status=InvitationStatus.PENDING, expires_at__gt=now
    ).update(status=InvitationStatus.ACCEPTED, accepted_at=now)
    if not claimed:
        raise Http404  # used a moment ago, revoked or expired: like an unknown token
    existing = Membership.objects.filter(organization=organization, user=user).first()
    if existing is not None:
        if existing.status == MemberStatus.LEFT:
            raise Conflict(
                _(
                    "You were a member of this organization before: ask an administrator to "
                    "reactivate your membership."
                )
            )
        raise Conflict(_("You are already a member of this organization."))
    upline = invitation.upline
    if upline is not None:
        upline.refresh_from_db(fields=["path", "depth", "status"])
    try:
        member_create_check(
            organization=organization,
            actor=None,
            role=invitation.role,
            upline=upline,
            code=invitation.code,
        )
    except ValidationError as exc:
        raise Conflict(
            _("This invitation can no longer be accepted; ask for a new one."),
            details=getattr(exc, "message_dict", {"non_field_errors": exc.messages}),
        ) from exc
    member = Membership.objects.create(
        organization=organization,
        user=user,
        role=invitation.role,
        upline=upline,
        region=invitation.region,
        level=invitation.level,
        code=invitation.code,
        status=MemberStatus.PROBATION,
        joined_on=organization.local_today(),
    )
    tree_node_place(node=member, parent=upline)
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=member)
    invitation.status, invitation.accepted_at, invitation.accepted_by = (
        InvitationStatus.ACCEPTED,
        now,
        member,
    )
    audit_record(
        organization=organization,
        actor=member,
        action="invitation.accept",
        instance=invitation,
        changes={"status": [InvitationStatus.PENDING, InvitationStatus.ACCEPTED]},
        context={"member": member.pk, "invited_by": invitation.invited_by_id},
    )
    audit_record(
        organization=organization,
        actor=member,
        action="member.create",
        instance=member,
        object_repr=user.get_display_name(),
        after=audit_snapshot(
            member, ("role", "upline", "region", "level", "status", "code", "joined_on")
        ),
        context={"invitation": invitation.pk},
    )
    return member


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """A signed-in user accepts: 403 if the invitation names someone else, 409 if they are a
    member already, 404 if the token was used, revoked or expired meanwhile."""
    _check_invitee(invitation=invitation, user=user)
    return _join(invitation=invitation, user=user)


@transaction.atomic
def invitation_register(
    *, invitation: Invitation, username: str, password: str, display_name: str = ""
) -> Membership:
    """Someone without an account: create it and the membership in one transaction. The account
    gets the invitation's e-mail address (the link reached them there)."""
    if invitation.username and username.lower() != invitation.username.lower():
        raise ValidationError({"username": _("Use the user name you were invited with.")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    if invitation.email and User.objects.filter(email__iexact=invitation.email).exists():
        raise Conflict(
            _("An account with this e-mail address exists: sign in and accept the invitation.")
        )
    user = User(username=username, display_name=display_name, email=invitation.email)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    return _join(invitation=invitation, user=user)
