"""Who: the tenant (Organization), people (User, Membership) and the organization's catalogs.

Every tenant table carries `organization`, and every unique constraint includes it, so that the
data can be distributed by organization (Citus) and no query can match across tenants by accident.
"""

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")


def default_workdays() -> list[int]:
    return [1, 2, 3, 4, 5]  # ISO weekdays, Monday = 1


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


def validate_workdays(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= 7 for day in value
    ):
        raise ValidationError(_("Working days are ISO weekday numbers from 1 (Monday) to 7."))
    if len(set(value)) != len(value):
        raise ValidationError(_("Working days must not repeat."))


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    LEADER = "leader", _("Leader")
    AGENT = "agent", _("Agent")


class MemberStatus(models.TextChoices):
    PROBATION = "probation", _("On probation")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    LEFT = "left", _("Left")


class CustomerKind(models.TextChoices):
    CONSUMER = "consumer", _("Consumer")
    DEALER = "dealer", _("Dealer")
    RETAILER = "retailer", _("Retailer")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    LOST = "lost", _("Lost")


class User(AbstractUser):
    """A person. What they may do in an organization is on their Membership."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        help_text=_("Language for notifications; empty means the organization's language."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def get_display_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Organization(models.Model):
    """The tenant. Its settings and policies are the team's system of rules."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="CNY",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use an ISO 4217 code such as CNY."))],
    )
    country = models.CharField(
        _("holiday calendar country"),
        max_length=2,
        default="CN",
        blank=True,
        help_text=_("Statutory holidays of this country prefill the working calendar."),
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    workdays = models.JSONField(
        _("working weekdays"), default=default_workdays, validators=[validate_workdays]
    )
    report_cutoff = models.TimeField(
        _("daily report cut-off"),
        default=dt.time(23, 0),
        help_text=_("A day's report filed after this local time is late."),
    )
    reminder_time = models.TimeField(
        _("daily report reminder time"),
        default=dt.time(20, 0),
        help_text=_("Members who have not filed by this local time are reminded."),
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=200, blank=True)
    policies = models.JSONField(_("policies"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Replaced on every change of the organization's CalendarDay rows (CalendarDayQuerySet): the
    # key under which agents.calendar keeps the exceptions it read. Never shown or edited.
    calendar_token = models.UUIDField(_("calendar version"), default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_now(self) -> dt.datetime:
        return timezone.now().astimezone(self.tzinfo)

    def local_today(self) -> dt.date:
        return self.local_now().date()


class TenantModel(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )

    class Meta:
        abstract = True


class PathNode(TenantModel):
    """A node of a tree kept as a materialized path ("/3/17/42/", ids from the root), so that a
    whole subtree is one indexed prefix query and a move is one UPDATE."""

    path = models.CharField(max_length=600, editable=False, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)

    class Meta:
        abstract = True

    def is_descendant_of(self, other: "PathNode") -> bool:
        return bool(other.path) and self.path.startswith(other.path) and self.pk != other.pk


class Region(PathNode):
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=30, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent region"),
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "parent", "name"], name="region_unique_name_in_parent"
            ),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=Q(parent__isnull=True),
                name="region_unique_root_name",
            ),
        ]
        indexes = [
            models.Index(fields=["path"], name="region_path_idx", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.name


class AgentLevel(TenantModel):
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("Higher ranks are more senior."))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("agent level")
        verbose_name_plural = _("agent levels")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "rank"], name="level_unique_rank"),
            models.UniqueConstraint(fields=["organization", "name"], name="level_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(PathNode):
    """A user in an organization: role, place in the upline/downline hierarchy, region, level."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    status = models.CharField(
        _("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    upline = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="downline",
        verbose_name=_("upline"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("region"),
    )
    level = models.ForeignKey(
        AgentLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("level"),
    )
    code = models.CharField(_("agent code"), max_length=40, blank=True)
    joined_on = models.DateField(_("joined on"), default=dt.date.today)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="member_unique_user"),
            models.UniqueConstraint(
                fields=["organization", "code"],
                condition=~Q(code=""),
                name="member_unique_code",
            ),
            models.CheckConstraint(
                condition=~Q(upline=models.F("id")), name="member_not_own_upline"
            ),
        ]
        indexes = [
            models.Index(
                fields=["path"], name="member_path_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["organization", "role"], name="member_org_role_idx"),
            models.Index(fields=["organization", "upline"], name="member_org_upline_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_display_name()

    @property
    def is_manager(self) -> bool:
        """Owners and admins see and change everything in the organization."""
        return self.role in (Role.OWNER, Role.ADMIN)


class Product(TenantModel):
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    price = models.DecimalField(
        _("price"),
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    cost = models.DecimalField(
        _("cost"),
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    is_hero = models.BooleanField(_("hero product"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sku"], name="product_unique_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Customer(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.CONSUMER
    )
    owner = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("owner"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("region"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CustomerStatus.choices,
        default=CustomerStatus.PROSPECT,
    )
    first_order_on = models.DateField(_("first order on"), null=True, blank=True)
    lost_on = models.DateField(_("lost on"), null=True, blank=True)
    lost_reason = models.CharField(_("reason lost"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organization", "owner"], name="customer_org_owner_idx"),
            models.Index(fields=["organization", "status"], name="customer_org_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name


def calendar_changed(organization_ids, *, at_hand: Iterable[Organization | None] = ()) -> None:
    """Give the organizations' calendars a new token: what agents.calendar read of them before
    is not used again, in any process (each reads the token with the organization). The
    organization instances `at_hand` (those the written rows were given) get the new token
    too, so that their next read sees the change."""
    ids = {pk for pk in organization_ids if pk is not None}
    if not ids:
        return
    token = uuid.uuid4()
    Organization.objects.filter(pk__in=ids).update(calendar_token=token)
    for organization in at_hand:
        if organization is not None and organization.pk in ids:
            organization.calendar_token = token


def _organization_at_hand(day: "CalendarDay") -> Organization | None:
    """The organization instance a calendar day was given or has loaded (no query)."""
    return day._state.fields_cache.get("organization")


class CalendarDayQuerySet(models.QuerySet):
    """Every write of calendar days through the ORM (bulk ones included) renews the
    organizations' calendar tokens, in the same transaction as the write."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        created = super().bulk_create(objs, *args, **kwargs)
        calendar_changed(
            (obj.organization_id for obj in objs), at_hand=map(_organization_at_hand, objs)
        )
        return created

    def bulk_update(self, objs, *args, **kwargs):
        objs = list(objs)
        rows = super().bulk_update(objs, *args, **kwargs)
        calendar_changed(
            (obj.organization_id for obj in objs), at_hand=map(_organization_at_hand, objs)
        )
        return rows

    def update(self, **kwargs):
        organization_ids = set(self.values_list("organization_id", flat=True))
        rows = super().update(**kwargs)
        calendar_changed(organization_ids | {kwargs.get("organization_id")})
        return rows

    def delete(self):
        organization_ids = set(self.values_list("organization_id", flat=True))
        result = super().delete()
        calendar_changed(organization_ids)
        return result


class CalendarDay(TenantModel):
    """An exception to the organization's working weekdays: a holiday on a working weekday, or a
    make-up working day on a weekend. Prefilled from the statutory calendar, editable."""

    date = models.DateField(_("date"))
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    objects = CalendarDayQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "date"], name="calendar_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        calendar_changed({self.organization_id}, at_hand=[_organization_at_hand(self)])

    def delete(self, *args, **kwargs):
        organization_id, organization = self.organization_id, _organization_at_hand(self)
        result = super().delete(*args, **kwargs)
        calendar_changed({organization_id}, at_hand=[organization])
        return result


class AuditEntryQuerySet(models.QuerySet):
    """The audit trail is append-only: rows are never updated or deleted through the ORM's
    managers. (The organization's own deletion still removes them: cascades go through the base
    manager.)"""

    def update(self, **kwargs):
        raise TypeError("Audit entries are append-only.")

    def delete(self):
        raise TypeError("Audit entries are append-only.")


class AuditEntry(TenantModel):
    """Who changed what, when, from what to what: one row per audited change of a target, plan,
    late daily report, appraisal or member. Written explicitly by the services (agents/audit.py),
    in the transaction of the change; append-only."""

    actor = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_display = models.CharField(_("actor name"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created_idx"),
            models.Index(
                fields=["organization", "object_type", "object_id"], name="audit_org_object_idx"
            ),
            models.Index(fields=["organization", "action"], name="audit_org_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit entries are append-only.")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class Invitation(TenantModel):
    """An invitation to join the organization with the given role and place in the hierarchy,
    for a person named by e-mail address and/or user name (agents/invitations.py).

    Only a hash of the token is stored: the token itself is shown once (to the inviter, in the
    create or resend answer) and sent to the invitee. A pending invitation past `expires_at` is
    expired: the services treat it so and mark it lazily (see agents/invitations.py)."""

    email = models.EmailField(_("e-mail address"), blank=True)
    username = models.CharField(_("user name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.AGENT)
    upline = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("upline"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    level = models.ForeignKey(
        AgentLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("level"),
    )
    code = models.CharField(_("agent code"), max_length=40, blank=True)
    invited_by = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PENDING,
    )
    expires_at = models.DateTimeField(_("expires at"))
    accepted_by = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    send_count = models.PositiveSmallIntegerField(_("times sent"), default=1)
    last_sent_at = models.DateTimeField(_("last sent at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(username=""), name="invitation_names_invitee"
            ),
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=Q(status="pending") & ~Q(email=""),
                name="invitation_unique_pending_email",
            ),
            models.UniqueConstraint(
                "organization",
                Lower("username"),
                condition=Q(status="pending") & ~Q(username=""),
                name="invitation_unique_pending_username",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="invitation_org_status_idx"),
        ]

    def __str__(self) -> str:
        return self.email or self.username

    @property
    def is_expired(self) -> bool:
        return self.status == InvitationStatus.EXPIRED or (
            self.status == InvitationStatus.PENDING and self.expires_at <= timezone.now()
        )

    @property
    def effective_status(self) -> str:
        """The status, with a pending invitation past its expiry read as expired."""
        return InvitationStatus.EXPIRED if self.is_expired else self.status
