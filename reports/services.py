"""Writes about what happened: daily reports and their sales lines, sales entries, activities and
market feedback. Keyword-only and typed; each takes the organization and the acting member.

Field errors are Django's ValidationError (400), a missing power Django's PermissionDenied (403),
a state that forbids the change agents.errors.Conflict (409).
"""

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.audit import audit_record, audit_snapshot
from agents.compiled import CompiledQuery
from agents.errors import Conflict
from agents.models import Customer, Membership, Organization, Product, Role
from agents.products import inactive_product_message, product_check_sellable
from agents.selectors import WORKING_STATUSES
from notifications.services import notify_feedback_filed

from . import filing
from .models import (
    Activity,
    DailyReport,
    FeedbackComment,
    FeedbackStatus,
    MarketFeedback,
    SalesEntry,
    SalesSource,
    Urgency,
)
from .selectors import customer_is_visible_to

# Largest absolute value a money column holds (DecimalField max_digits=14, decimal_places=2).
MONEY_LIMIT = Decimal("1000000000000")
# An unlocked report stays open for this long unless the organization's policies say otherwise.
DEFAULT_UNLOCK_HOURS = 24
# Response deadlines by urgency (hours), unless policies["feedback_response_hours"] says otherwise.
DEFAULT_RESPONSE_HOURS = {
    Urgency.CRITICAL: 2,
    Urgency.HIGH: 24,
    Urgency.NORMAL: 72,
    Urgency.LOW: 168,
}
# Clocks of phones drift: an activity a few minutes "in the future" is still now.
CLOCK_SKEW = dt.timedelta(minutes=5)


# --- The editing window ---------------------------------------------------------------------


def _local_moment(organization: Organization, day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=organization.tzinfo)


def report_cutoff_at(*, organization: Organization, day: dt.date) -> dt.datetime:
    """A report for `day` first filed after this moment is late."""
    return _local_moment(organization, day, organization.report_cutoff)


def report_window_closes_at(*, organization: Organization, day: dt.date) -> dt.datetime:
    """After this moment (the cut-off on the following day) the report for `day` is locked."""
    return _local_moment(organization, day + dt.timedelta(days=1), organization.report_cutoff)


def report_unlock_hours(organization: Organization) -> int:
    try:
        return int(organization.policies.get("report_unlock_hours", DEFAULT_UNLOCK_HOURS))
    except (TypeError, ValueError, AttributeError):
        return DEFAULT_UNLOCK_HOURS


def daily_report_is_editable(
    *, organization: Organization, report: DailyReport, now: dt.datetime | None = None
) -> bool:
    """Open until the window closes, or for a while after a leader or an admin unlocked it.
    A time window rather than a one-edit pass, so that a client's retries stay harmless."""
    return daily_report_editable_check(organization=organization, now=now)(report)


def daily_report_editable_check(
    *, organization: Organization, now: dt.datetime | None = None
) -> Callable[[DailyReport], bool]:
    """`daily_report_is_editable` for many reports at one moment: each day's window is worked
    out once (a page of 200 reports holds a few days: issue 7, bench/README.md)."""
    now = now or timezone.now()
    open_days: dict[dt.date, bool] = {}

    def editable(report: DailyReport) -> bool:
        is_open = open_days.get(report.date)
        if is_open is None:
            closes_at = report_window_closes_at(organization=organization, day=report.date)
            is_open = open_days[report.date] = now <= closes_at
        if is_open:
            return True
        if report.unlocked_at is None:
            return False
        return now <= report.unlocked_at + dt.timedelta(hours=report_unlock_hours(organization))

    return editable


# --- Daily reports --------------------------------------------------------------------------

REPORT_COUNT_FIELDS = ("followups", "communication_minutes", "new_customers", "lost_customers")
REPORT_FIELDS = (*REPORT_COUNT_FIELDS, "orders", "summary", "plan_tomorrow", "problems")


@dataclass(frozen=True)
class SalesLine:
    product: Product
    quantity: int
    amount: Decimal
    collected: Decimal = Decimal("0.00")
    customer: Customer | None = None


def _line_profit(line: SalesLine) -> Decimal:
    return line.amount - line.quantity * line.product.cost


def _check_sales_line(
    *,
    organization: Organization,
    member: Membership,
    line: SalesLine,
    errors: dict,
    kept_products: Collection[int] = (),
) -> None:
    """Adds the line's field errors to `errors`. The serializers check types and ranges; this
    is the domain's part (the same for reports, the API and imports). A deactivated product is
    refused unless it is in `kept_products` (a line the report already had)."""
    if line.product.organization_id != organization.pk:
        errors["product"] = [_("Unknown product.")]
    elif not line.product.is_active and line.product.pk not in kept_products:
        errors["product"] = [inactive_product_message()]
    if line.customer is not None and not customer_is_visible_to(
        member=member, customer=line.customer
    ):
        errors["customer"] = [_("Unknown customer, or not one of yours.")]
    if line.quantity < 0:
        errors["quantity"] = [_("Must not be negative.")]
    for name in ("amount", "collected"):
        value = getattr(line, name)
        if value < 0:
            errors[name] = [_("Must not be negative.")]
        elif value >= MONEY_LIMIT:
            errors[name] = [_("This amount is too large.")]
    if not errors and line.quantity == 0 and line.amount == 0 and line.collected == 0:
        errors["quantity"] = [_("A line needs a quantity, an amount or a collected amount.")]
    if not errors and abs(_line_profit(line)) >= MONEY_LIMIT:
        errors["quantity"] = [_("Quantity times the product's cost is too large.")]


def _check_report_day(*, organization: Organization, day: dt.date, now: dt.datetime) -> None:
    if day > now.astimezone(organization.tzinfo).date():
        raise ValidationError({"date": _("A report cannot be filed for a future date.")})


def _locked_report(*, organization: Organization, member: Membership, day: dt.date):
    """The member's report for the day, locked for the rest of the transaction, or None."""
    return _LOCKED_REPORT.first(organization_id=organization.pk, member_id=member.pk, day=day)


# Every report PUT runs it: compiled once (agents.compiled).
_LOCKED_REPORT = CompiledQuery(
    lambda organization_id, member_id, day: (
        DailyReport.objects.select_for_update()
        .filter(organization_id=organization_id, member_id=member_id, date=day)
        .order_by("pk")[:1]  # one row at most (unique): not the list's ordering
    ),
    kinds={"organization_id": int, "member_id": int, "day": dt.date},
)


# What an edit compares and updates in a stored line (the rest is the report's, unchanged).
_LINE_VALUES = (
    "product_id",
    "customer_id",
    "region_id",
    "quantity",
    "amount",
    "collected",
    "profit",
)


def _report_lines_stored(*, organization: Organization, report: DailyReport) -> list[SalesEntry]:
    """The report's stored lines in id order (the order they were sent), locked until the
    commit as the filing function locks them (migration 0004): a line deleted or changed by
    someone else meanwhile cannot make the edit miss it."""
    return list(
        SalesEntry.objects.select_for_update(no_key=True)
        .filter(organization=organization, daily_report=report)
        .order_by("pk")
    )


def _report_lines_keep(*, stored: list[SalesEntry], written: list[SalesEntry]) -> list[SalesEntry]:
    """Write the report's new lines `written` over its `stored` ones, as the filing function
    does (migration 0004): the n-th line sent updates the n-th stored line, which keeps its id
    and created_at, and only when it differs; lines beyond the stored ones are inserted, stored
    lines beyond those sent deleted. The lines as stored, in order."""
    kept = written[: len(stored)]
    changed = []
    for old, new in zip(stored, kept, strict=False):  # kept may be shorter
        new.pk, new.created_at = old.pk, old.created_at
        new._state.adding, new._state.db = False, old._state.db
        if any(getattr(old, name) != getattr(new, name) for name in _LINE_VALUES):
            changed.append(new)
    if changed:
        SalesEntry.objects.bulk_update(changed, _LINE_VALUES)
    gone = [old.pk for old in stored[len(written) :]]
    if gone:
        # Nothing refers to a SalesEntry and no signal watches its deletion, so QuerySet.delete
        # would end in this same single DELETE, after building a Collector to find that out (a
        # guard test fails the day that changes).
        SalesEntry.objects.filter(pk__in=gone)._raw_delete(SalesEntry.objects.db)
    return kept + SalesEntry.objects.bulk_create(written[len(stored) :])


def _report_lines(
    *, organization: Organization, report: DailyReport, lines: list[SalesLine], member
) -> list[SalesEntry]:
    return [
        SalesEntry(
            organization=organization,
            date=report.date,
            member=member,
            product=line.product,
            customer=line.customer,
            region_id=member.region_id,
            quantity=line.quantity,
            amount=line.amount,
            collected=line.collected,
            profit=_line_profit(line),
            source=SalesSource.REPORT,
            daily_report=report,
            recorded_by=member,
        )
        for line in lines
    ]


def daily_report_kept_products(
    *, organization: Organization, member: Membership, day: dt.date, products: list[Product]
) -> set[int]:
    """The deactivated ones among `products` that the member's stored report of the day already
    has: an edit may keep them (one query, only when a deactivated product is named)."""
    inactive = {product.pk for product in products if not product.is_active}
    if not inactive:
        return set()
    return set(
        SalesEntry.objects.filter(
            organization=organization,
            member=member,
            date=day,
            source=SalesSource.REPORT,
            product_id__in=inactive,
        ).values_list("product_id", flat=True)
    )


def daily_report_upsert(
    *,
    organization: Organization,
    member: Membership,
    day: dt.date,
    data: dict,
    lines: list[SalesLine],
    now: dt.datetime | None = None,
) -> tuple[DailyReport, bool]:
    """File or replace the member's report for `day`: (report, created). Idempotent: the same
    request gives the same report however often it is sent. Replacing writes the report's
    sales lines (SalesEntry, source "report") in the same transaction, over the stored ones by
    position: they keep their ids (_report_lines_keep).

    Before the day's cut-off on PostgreSQL, one call of a database function writes it
    (reports/filing.py: its upsert settles concurrent first filings itself). Otherwise (late,
    or SQLite) the report is read under a row lock, the rules and the audit applied, and
    concurrent first filings race on the unique (organization, member, date) constraint: the
    loser's insert fails, and it retries once as a replacement of the winner's row."""
    now = now or timezone.now()
    _check_report_day(organization=organization, day=day, now=now)
    unknown = set(data) - set(REPORT_FIELDS)
    if unknown:
        raise ValidationError({key: _("This field cannot be set.") for key in unknown})
    kept = daily_report_kept_products(
        organization=organization,
        member=member,
        day=day,
        products=[line.product for line in lines],
    )
    line_errors = []
    for line in lines:
        errors: dict = {}
        _check_sales_line(
            organization=organization, member=member, line=line, errors=errors, kept_products=kept
        )
        line_errors.append(errors)
    if any(line_errors):
        raise ValidationError({"lines": [ValidationError(errors) for errors in line_errors]})

    if filing.supported() and now <= report_cutoff_at(organization=organization, day=day):
        return _daily_report_file_on_time(
            organization=organization, member=member, day=day, data=data, lines=lines, now=now
        )
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _daily_report_write(
                    organization=organization,
                    member=member,
                    day=day,
                    data=data,
                    lines=lines,
                    now=now,
                )
        except IntegrityError:
            if attempt:
                raise Conflict(_("The report is being saved by another request; retry.")) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _report_values(data: dict) -> dict:
    """Every content field of a report: what a PUT leaves out is emptied."""
    return {
        name: data.get(name, "" if name in ("summary", "plan_tomorrow", "problems") else 0)
        for name in REPORT_FIELDS
    }


def _daily_report_file_on_time(*, organization, member, day, data, lines, now):
    """Before the cut-off: always editable, not late, not audited; one call of the filing
    function on PostgreSQL (reports/filing.py). The answer is built from what it returned."""
    values = _report_values(data)
    line_values = [
        filing.LineValues(
            line.product.pk,
            line.customer.pk if line.customer is not None else None,
            line.quantity,
            line.amount,
            line.collected,
            _line_profit(line),
        )
        for line in lines
    ]
    report, created = filing.report_file_on_time(
        organization_id=organization.pk,
        member_id=member.pk,
        region_id=member.region_id,
        day=day,
        values=values,
        lines=line_values,
        now=now,
    )
    report.organization, report.member = organization, member
    return report, created


def _daily_report_write(*, organization, member, day, data, lines, now):
    report = _locked_report(organization=organization, member=member, day=day)
    created = report is None
    if created:
        if now > report_window_closes_at(organization=organization, day=day):
            raise Conflict(_("The editing window for this day has closed."))
        report = DailyReport(
            organization=organization,
            member=member,
            date=day,
            submitted_at=now,
            is_late=now > report_cutoff_at(organization=organization, day=day),
        )
    elif not daily_report_is_editable(organization=organization, report=report, now=now):
        raise Conflict(
            _("This report is locked: ask your leader or an administrator to unlock it.")
        )
    # Edits after the day's cut-off are audited (on-time filing is the normal course).
    late = now > report_cutoff_at(organization=organization, day=day)
    stored = [] if created else _report_lines_stored(organization=organization, report=report)
    if late:
        before = None if created else _report_audit_state(report, stored=stored)
    for name, value in _report_values(data).items():
        setattr(report, name, value)
    report.updated_at = now
    report.save()  # an insert that lost a race raises IntegrityError here
    written = _report_lines_keep(
        stored=stored,
        written=_report_lines(organization=organization, report=report, lines=lines, member=member),
    )
    # The report comes back with the lines just written (ids included: RETURNING on PostgreSQL
    # and SQLite), so that answering with it reads nothing again (`report.lines.all()`).
    report._prefetched_objects_cache = {"lines": written}
    if late:
        audit_record(
            organization=organization,
            actor=member,
            action="daily_report.create" if created else "daily_report.update",
            instance=report,
            object_repr=f"{member} {day.isoformat()}",
            before=before,
            after=_report_audit_state(report, lines=lines),
            context={"member": member.pk, "date": day},
            only_if_changed=True,
        )
    return report, created


def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _report_audit_state(
    report: DailyReport,
    lines: list[SalesLine] | None = None,
    stored: list[SalesEntry] | None = None,
) -> dict:
    """What a late edit's audit entry compares: the counts, the texts and the sales lines, those
    given (`lines`) or the `stored` ones."""
    state = audit_snapshot(report, REPORT_FIELDS)
    if lines is None:
        state["lines"] = [
            {
                "product": row.product_id,
                "customer": row.customer_id,
                "quantity": row.quantity,
                "amount": _money(row.amount),
                "collected": _money(row.collected),
            }
            for row in stored
        ]
    else:
        state["lines"] = [
            {
                "product": line.product.pk,
                "customer": line.customer.pk if line.customer else None,
                "quantity": line.quantity,
                "amount": _money(line.amount),
                "collected": _money(line.collected),
            }
            for line in lines
        ]
    return state


def _is_above(*, actor: Membership, member: Membership) -> bool:
    """Whether actor is somewhere in member's upline chain."""
    return actor.pk != member.pk and bool(actor.path) and member.path.startswith(actor.path)


def daily_report_unlock(
    *,
    organization: Organization,
    actor: Membership,
    report: DailyReport,
    now: dt.datetime | None = None,
) -> DailyReport:
    """Reopen a locked report for `report_unlock_hours`. By a leader above the member or an
    owner/admin. Unlocking a report that is already unlocked changes nothing."""
    now = now or timezone.now()
    if not (actor.is_manager or _is_above(actor=actor, member=report.member)):
        raise PermissionDenied(_("Only a leader above the member or an administrator can unlock."))
    member = report.member
    with transaction.atomic():
        report = DailyReport.objects.select_for_update().get(pk=report.pk)
        if daily_report_is_editable(organization=organization, report=report, now=now):
            if report.unlocked_at is not None:
                return report  # unlocked already: a retry
            raise Conflict(_("This report is still open for editing."))
        before = audit_snapshot(report, ("unlocked_by", "unlocked_at"))
        report.unlocked_by = actor if actor.pk else None  # a platform operator has no membership
        report.unlocked_at = now
        report.save(update_fields=["unlocked_by", "unlocked_at"])
        audit_record(
            organization=organization,
            actor=actor,
            action="daily_report.unlock",
            instance=report,
            object_repr=f"{member} {report.date.isoformat()}",
            before=before,
            after=audit_snapshot(report, ("unlocked_by", "unlocked_at")),
            context={"member": report.member_id, "date": report.date},
        )
    return report


# --- Sales entries --------------------------------------------------------------------------


def _check_sales_date(*, organization: Organization, day: dt.date, now=None) -> None:
    today = (now or timezone.now()).astimezone(organization.tzinfo).date()
    if day > today:
        raise ValidationError({"date": _("A sale cannot be dated in the future.")})


def _check_may_record_for(*, actor: Membership, member: Membership, field: str) -> None:
    """Agents record only their own facts; leaders those of their subtree; managers anyone's."""
    if member.organization_id != actor.organization_id:
        raise ValidationError({field: _("Unknown member.")})
    if actor.is_manager:
        return
    if actor.role == Role.AGENT and member.pk != actor.pk:
        raise ValidationError({field: _("Agents can only record their own.")})
    if not member.path.startswith(actor.path):
        raise ValidationError({field: _("Unknown member.")})


def sales_entry_create(
    *,
    organization: Organization,
    actor: Membership,
    member: Membership,
    day: dt.date,
    line: SalesLine,
    source: str = SalesSource.API,
) -> SalesEntry:
    """Record one sale outside a daily report (an integration, a correction by a leader)."""
    if source == SalesSource.REPORT:
        raise ValueError("Report lines are written by daily_report_upsert.")
    _check_may_record_for(actor=actor, member=member, field="member")
    _check_sales_date(organization=organization, day=day)
    errors: dict = {}
    _check_sales_line(organization=organization, member=member, line=line, errors=errors)
    if errors:
        raise ValidationError(errors)
    return SalesEntry.objects.create(
        organization=organization,
        date=day,
        member=member,
        product=line.product,
        customer=line.customer,
        region_id=member.region_id,
        quantity=line.quantity,
        amount=line.amount,
        collected=line.collected,
        profit=_line_profit(line),
        source=source,
        recorded_by=actor,
    )


# --- Activities -----------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "member",
    "customer",
    "kind",
    "occurred_at",
    "duration_minutes",
    "outcome",
    "note",
)


def _check_activity(*, organization: Organization, actor: Membership, activity: Activity) -> None:
    _check_may_record_for(actor=actor, member=activity.member, field="member")
    if activity.occurred_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"occurred_at": _("An activity cannot be in the future.")})
    if activity.customer is not None and not customer_is_visible_to(
        member=activity.member, customer=activity.customer
    ):
        raise ValidationError({"customer": _("Unknown customer, or not one of yours.")})


def activity_create(*, organization: Organization, actor: Membership, data: dict) -> Activity:
    """Log an activity. Without a member it is the actor's own."""
    unknown = set(data) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ValidationError({key: _("This field cannot be set.") for key in unknown})
    data = dict(data)
    member = data.pop("member", None) or actor
    activity = Activity(organization=organization, member=member, **data)
    _check_activity(organization=organization, actor=actor, activity=activity)
    activity.full_clean(exclude=["organization", "member", "customer"])
    activity.save()
    return activity


def activity_update(
    *, organization: Organization, actor: Membership, activity: Activity, data: dict
) -> Activity:
    unknown = set(data) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ValidationError({key: _("This field cannot be set.") for key in unknown})
    data = dict(data)
    if data.get("member", activity.member) is None:
        data["member"] = activity.member
    for key, value in data.items():
        setattr(activity, key, value)
    _check_activity(organization=organization, actor=actor, activity=activity)
    activity.full_clean(exclude=["organization", "member", "customer"])
    activity.save()
    return activity


# --- Market feedback ------------------------------------------------------------------------

FEEDBACK_EDITABLE_FIELDS = (
    "category",
    "title",
    "body",
    "region",
    "product",
    "competitor",
    "urgency",
)


def feedback_response_hours(*, organization: Organization, urgency: str) -> int:
    """Hours to respond to feedback of this urgency: the organization's policy
    `feedback_response_hours` ({"critical": 2, ...}) or the defaults."""
    policy = organization.policies.get("feedback_response_hours")
    if isinstance(policy, dict):
        try:
            hours = int(policy[urgency])
        except (KeyError, TypeError, ValueError):
            pass
        else:
            if hours > 0:
                return hours
    return DEFAULT_RESPONSE_HOURS[Urgency(urgency)]


def _respond_by(*, organization, urgency, since: dt.datetime) -> dt.datetime:
    hours = feedback_response_hours(organization=organization, urgency=urgency)
    return since + dt.timedelta(hours=hours)


def nearest_working_upline(member: Membership) -> Membership | None:
    """The member's nearest upline who still works for the organization (probation or active):
    one query over the ids in the member's path."""
    ancestor_ids = [int(part) for part in member.path.strip("/").split("/") if part][:-1]
    if not ancestor_ids:
        return None
    working = {
        upline.pk: upline
        for upline in Membership.objects.filter(
            organization_id=member.organization_id,
            pk__in=ancestor_ids,
            status__in=WORKING_STATUSES,
        ).select_related("user")
    }
    for pk in reversed(ancestor_ids):
        if pk in working:
            return working[pk]
    return None


def _first_manager(
    *, organization: Organization, exclude: set[int], roles: tuple[str, ...]
) -> Membership | None:
    """An administrator before an owner (owners are the last resort), oldest first."""
    return (
        Membership.objects.filter(
            organization=organization, role__in=roles, status__in=WORKING_STATUSES
        )
        .exclude(pk__in=exclude)
        .annotate(
            rank=Case(When(role=Role.ADMIN, then=Value(0)), default=1, output_field=IntegerField())
        )
        .order_by("rank", "pk")
        .first()
    )


def feedback_initial_assignee(
    *, organization: Organization, author: Membership
) -> Membership | None:
    upline = nearest_working_upline(author)
    if upline is not None:
        return upline
    return _first_manager(
        organization=organization, exclude={author.pk}, roles=(Role.ADMIN, Role.OWNER)
    )


@transaction.atomic
def feedback_create(*, organization: Organization, actor: Membership, data: dict) -> MarketFeedback:
    """File feedback: assigned to the author's nearest working upline (or an administrator),
    with a response deadline that follows the urgency. Critical feedback alerts the assignee and
    the administrators at once, through the outbox committed with it."""
    unknown = set(data) - set(FEEDBACK_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({key: _("This field cannot be set.") for key in unknown})
    product_check_sellable(data.get("product"))
    now = timezone.now()
    urgency = data.get("urgency") or Urgency.NORMAL
    feedback = MarketFeedback(
        organization=organization,
        author=actor,
        **{**data, "urgency": urgency},
        assignee=feedback_initial_assignee(organization=organization, author=actor),
        respond_by=_respond_by(organization=organization, urgency=urgency, since=now),
    )
    if "region" not in data:
        feedback.region_id = actor.region_id
    feedback.save()
    notify_feedback_filed(feedback=feedback)
    return feedback


def feedback_update(
    *, organization: Organization, actor: Membership, feedback: MarketFeedback, data: dict
) -> MarketFeedback:
    """The author may edit their feedback while it is open. A new urgency moves the deadline
    (counted from the filing, or from the last escalation)."""
    unknown = set(data) - set(FEEDBACK_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({key: _("This field cannot be changed.") for key in unknown})
    if feedback.author_id != actor.pk:
        raise PermissionDenied(_("Only the author can edit feedback."))
    with transaction.atomic():
        feedback = MarketFeedback.objects.select_for_update().get(pk=feedback.pk)
        if feedback.status != FeedbackStatus.OPEN:
            raise Conflict(_("Feedback can only be edited while it is open."))
        # The product it already names may stay, even if it was deactivated since.
        product_check_sellable(data.get("product"), kept_ids={feedback.product_id})
        for key, value in data.items():
            setattr(feedback, key, value)
        if "urgency" in data:
            feedback.respond_by = _respond_by(
                organization=organization,
                urgency=feedback.urgency,
                since=feedback.escalated_at or feedback.created_at,
            )
        feedback.save()
    return feedback


def feedback_can_handle(*, actor: Membership, feedback: MarketFeedback) -> bool:
    """The assignee, anyone above the author, and owners/admins handle feedback."""
    return (
        actor.is_manager
        or feedback.assignee_id == actor.pk
        or _is_above(actor=actor, member=feedback.author)
    )


def feedback_acknowledge(
    *, organization: Organization, actor: Membership, feedback: MarketFeedback
) -> MarketFeedback:
    if not feedback_can_handle(actor=actor, feedback=feedback):
        raise PermissionDenied(_("Only the assignee or someone above the author can do this."))
    with transaction.atomic():
        feedback = MarketFeedback.objects.select_for_update().get(pk=feedback.pk)
        if feedback.status != FeedbackStatus.OPEN:
            raise Conflict(_("Only open feedback can be acknowledged."))
        feedback.status = FeedbackStatus.ACKNOWLEDGED
        feedback.acknowledged_at = timezone.now()
        feedback.acknowledged_by = actor
        feedback.save()
    return feedback


def feedback_resolve(
    *, organization: Organization, actor: Membership, feedback: MarketFeedback, resolution: str
) -> MarketFeedback:
    if not feedback_can_handle(actor=actor, feedback=feedback):
        raise PermissionDenied(_("Only the assignee or someone above the author can do this."))
    if not resolution.strip():
        raise ValidationError({"resolution": _("Say how it was resolved.")})
    with transaction.atomic():
        feedback = MarketFeedback.objects.select_for_update().get(pk=feedback.pk)
        if feedback.status == FeedbackStatus.RESOLVED:
            raise Conflict(_("This feedback is resolved already."))
        feedback.status = FeedbackStatus.RESOLVED
        feedback.resolved_at = timezone.now()
        feedback.resolved_by = actor
        feedback.resolution = resolution.strip()
        feedback.save()
    return feedback


def _escalation_target(*, organization: Organization, feedback: MarketFeedback):
    current = feedback.assignee
    not_the_author = {feedback.author_id}
    if current is None:
        return _first_manager(
            organization=organization, exclude=not_the_author, roles=(Role.ADMIN, Role.OWNER)
        )
    upline = nearest_working_upline(current)
    if upline is not None:
        return upline
    if current.role == Role.OWNER:
        return None  # the top of the organization
    roles = (Role.OWNER,) if current.role == Role.ADMIN else (Role.ADMIN, Role.OWNER)
    return _first_manager(
        organization=organization, exclude=not_the_author | {current.pk}, roles=roles
    )


def feedback_escalate(
    *,
    organization: Organization,
    feedback: MarketFeedback,
    from_level: int | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Hand open feedback to the assignee's next working upline (an administrator, then an
    owner, above the top of the hierarchy), one level up, with a new response deadline.
    Idempotent per level: with `from_level`, feedback already escalated past that level is left
    alone, so a retried job escalates once. Returns whether it escalated."""
    now = now or timezone.now()
    with transaction.atomic():
        feedback = (
            MarketFeedback.objects.select_for_update(of=("self",))
            .select_related("assignee")
            .get(pk=feedback.pk, organization=organization)
        )
        if feedback.status != FeedbackStatus.OPEN:
            return False
        if from_level is not None and feedback.escalation_level != from_level:
            return False
        target = _escalation_target(organization=organization, feedback=feedback)
        if target is None:
            return False
        feedback.assignee = target
        feedback.escalation_level += 1
        feedback.escalated_at = now
        feedback.respond_by = _respond_by(
            organization=organization, urgency=feedback.urgency, since=now
        )
        feedback.save()
    return True


def feedback_comment_create(
    *, organization: Organization, actor: Membership, feedback: MarketFeedback, body: str
) -> FeedbackComment:
    if not body.strip():
        raise ValidationError({"body": _("Write something.")})
    return FeedbackComment.objects.create(
        organization=organization, feedback=feedback, author=actor, body=body.strip()
    )
