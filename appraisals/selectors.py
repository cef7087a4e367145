"""Reads for appraisals. Every selector takes the organization (or an object of it) explicitly,
and the ones that feed scoring are set-based: a fixed number of queries for a whole cycle,
whatever the number of members."""

import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from django.db import close_old_connections, connection
from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet, Sum

from agents.models import Membership, Organization, Role
from agents.permissions import LEADERS
from agents.selectors import WORKING_STATUSES, member_scope_q

from .models import (
    Appraisal,
    AppraisalCycle,
    CriterionScore,
    CycleStatus,
)
from .scoring import PastResult, quantize

# --- Vocabulary ----------------------------------------------------------------------------------


def metric_keys() -> tuple[str, ...]:
    from reports.metrics import METRIC_KEYS  # the vocabulary lives in reports

    return METRIC_KEYS


def metric_is_additive(key: str) -> bool:
    from reports.metrics import METRICS

    return METRICS[key].additive


# --- Scope ---------------------------------------------------------------------------------------


def appraisal_scope_q(*, membership: Membership, prefix: str = "") -> Q:
    """Which appraisals a member may see: owners and admins all; leaders those of their subtree
    (their own included) and those they are the assigned reviewer of; agents only their own
    (agents may have a downline, but appraisals are between a member and their leaders)."""
    if membership.is_manager:
        return Q()
    if membership.role == Role.AGENT:
        return Q(**{f"{prefix}member": membership})
    return member_scope_q(membership=membership, prefix=f"{prefix}member__") | Q(
        **{f"{prefix}reviewer": membership}
    )


def appraisal_scores_prefetch() -> Prefetch:
    return Prefetch(
        "scores",
        queryset=CriterionScore.objects.select_related("criterion").order_by(
            "criterion__order", "criterion_id"
        ),
    )


# --- Opening a cycle -----------------------------------------------------------------------------


def eligible_members(*, cycle: AppraisalCycle) -> QuerySet[Membership]:
    """Members the cycle's template appraises: by role, status and level (no levels: any), who
    had joined by the end of the period."""
    eligibility = cycle.template.eligibility or {}
    members = Membership.objects.filter(
        organization_id=cycle.organization_id, joined_on__lte=cycle.end
    )
    if eligibility.get("roles"):
        members = members.filter(role__in=eligibility["roles"])
    members = members.filter(status__in=eligibility.get("statuses") or WORKING_STATUSES)
    if eligibility.get("levels"):
        members = members.filter(level_id__in=eligibility["levels"])
    return members.order_by("path")


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def reviewer_map(*, organization: Organization, members: Iterable[Membership]) -> dict[int, int]:
    """member id -> reviewer id: the nearest upline who is a leader, admin or owner and still
    works for the organization; else an owner (an admin if there is no owner); never the member
    themself. One query, whatever the number of members."""
    candidates = dict(
        Membership.objects.filter(
            organization=organization, role__in=LEADERS, status__in=WORKING_STATUSES
        )
        .order_by("id")
        .values_list("id", "role")
    )
    fallbacks = [pk for pk, role in candidates.items() if role == Role.OWNER] + [
        pk for pk, role in candidates.items() if role == Role.ADMIN
    ]
    reviewers = {}
    for member in members:
        uplines = _path_ids(member.path)[:-1]
        reviewer = next((pk for pk in reversed(uplines) if pk in candidates), None)
        if reviewer is None:
            reviewer = next((pk for pk in fallbacks if pk != member.pk), None)
        if reviewer is not None:
            reviewers[member.pk] = reviewer
    return reviewers


# --- Scoring inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberTarget:
    value: Decimal
    include_downline: bool


def cycle_targets(
    *, cycle: AppraisalCycle, member_ids: Iterable[int] | QuerySet, metrics: Iterable[str]
) -> dict[tuple[int, str], MemberTarget]:
    """(member id, metric) -> the member's target for the cycle's period, in one query.
    `member_ids` may be a queryset of ids (a subquery).

    A member's target for a metric is made of their base-tier targets of that metric that lie
    inside the period (start >= cycle start, end <= cycle end) and are not narrowed to a region,
    product or customer. A target broken down by period into children of the same member counts
    once: a child whose parent is itself counted is left out. Additive metrics add the counted
    targets up (e.g. three monthly targets make the quarter's); averages and ratios take their
    mean. The actual counts the member's downline when a counted target does
    (`include_downline`)."""
    from plans.models import Target, Tier

    metrics = list(metrics)
    if not metrics:
        return {}
    counted = Q(
        tier=Tier.BASE,
        metric__in=metrics,
        region__isnull=True,
        product__isnull=True,
        customer__isnull=True,
        start__gte=cycle.start,
        end__lte=cycle.end,
    )
    parent_counted = Q(
        parent__member_id=F("member_id"),
        parent__tier=Tier.BASE,
        parent__metric=F("metric"),
        parent__region__isnull=True,
        parent__product__isnull=True,
        parent__customer__isnull=True,
        parent__start__gte=cycle.start,
        parent__end__lte=cycle.end,
    )
    if not isinstance(member_ids, QuerySet):
        member_ids = list(member_ids)  # a queryset stays a subquery: no id list to send
    rows = (
        Target.objects.filter(
            counted, organization_id=cycle.organization_id, member_id__in=member_ids
        )
        .exclude(parent_counted)
        .order_by()
        .values("member_id", "metric")
        .annotate(
            total=Sum("value"),
            mean=Avg("value"),
            rows=Count("id"),
            downline=Count("id", filter=Q(include_downline=True)),
        )
    )
    targets = {}
    for row in rows:
        value = row["total"] if metric_is_additive(row["metric"]) else row["mean"]
        targets[(row["member_id"], row["metric"])] = MemberTarget(
            value=quantize(Decimal(value)), include_downline=row["downline"] > 0
        )
    return targets


def cycle_actuals(
    *,
    cycle: AppraisalCycle,
    own_metrics: Iterable[str],
    subtree_metrics: Iterable[str],
    subtree_roots: Iterable[int],
    ahead: "OwnFactsAhead | None" = None,
) -> tuple[dict[str, dict], dict[str, dict]]:
    """(own, subtree): {metric: {member id: value}} of each member's own facts, and of the
    subtrees of `subtree_roots`, over the cycle's period. A constant number of queries; the
    own facts come from `ahead` when it read them (OwnFactsAhead)."""
    from reports.metrics import metric_actuals_many

    own_metrics, subtree_metrics, roots = (
        list(own_metrics),
        list(subtree_metrics),
        set(subtree_roots),
    )
    organization = cycle.organization
    own = {}
    if own_metrics and ahead is not None:
        own = ahead.own_actuals(cycle=cycle, metrics=set(own_metrics))
    if own_metrics and not own:
        own = metric_actuals_many(
            organization=organization,
            metrics=own_metrics,
            start=cycle.start,
            end=cycle.end,
            group_by="member",
        )
    subtree = {}
    if subtree_metrics and roots:
        subtree = metric_actuals_many(
            organization=organization,
            metrics=subtree_metrics,
            start=cycle.start,
            end=cycle.end,
            group_by="subtree",
            roots=roots,
        )
    return own, subtree


_READERS: tuple[int, ThreadPoolExecutor] | None = None
_READERS_LOCK = threading.Lock()


def _facts_readers() -> ThreadPoolExecutor:
    """The thread that reads facts ahead, kept for the process (a worker runs roll-ups night
    after night) with its database connection; a new one in a process forked from one that had
    it (threads do not survive a fork). One: two roll-ups at once in one process (rare: the job
    scores cycles one after the other) read their facts in turn."""
    global _READERS
    with _READERS_LOCK:
        if _READERS is None or _READERS[0] != os.getpid():
            _READERS = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-facts"),
            )
        return _READERS[1]


class OwnFactsAhead:
    """The members' own facts of a cycle (as `cycle_actuals` answers them), read on a second
    database connection in a thread while the roll-up reads the stored scores and the targets
    on its own (issue 7: the facts statements are a third of a 10,000-member roll-up).

    Only for a caller outside any transaction, on PostgreSQL (`start` answers None otherwise):
    then every fact is committed, and a statement on another connection sees what one on the
    roll-up's connection would (read committed). Inside a transaction the caller may have
    written facts that another connection cannot see yet; SQLite has one writer and, in tests,
    one in-memory database per connection. The answer is used only if the cycle's period and
    metrics are still those asked for (`own_actuals`)."""

    def __init__(self, *, cycle: AppraisalCycle, metrics: set[str]):
        from reports.metrics import metric_actuals_many

        self.metrics, self.start, self.end = set(metrics), cycle.start, cycle.end
        organization = cycle.organization  # loaded here, not on the thread's connection

        def read() -> dict:
            # The thread's own connection, handled as a request handles its: dropped at the
            # start if too old or broken, kept at the end only under CONN_MAX_AGE (production:
            # the next roll-up of this worker reuses it and its prepared statements).
            close_old_connections()
            try:
                return metric_actuals_many(
                    organization=organization,
                    metrics=sorted(self.metrics),
                    start=self.start,
                    end=self.end,
                    group_by="member",
                )
            finally:
                close_old_connections()

        self._future = _facts_readers().submit(read)

    @classmethod
    def start(cls, *, cycle: AppraisalCycle, metrics: set[str]) -> "OwnFactsAhead | None":
        if not metrics or connection.vendor != "postgresql" or connection.in_atomic_block:
            return None
        return cls(cycle=cycle, metrics=metrics)

    def own_actuals(self, *, cycle: AppraisalCycle, metrics: set[str]) -> dict | None:
        """The facts read ahead, or None when they do not answer this question (the period
        or the metrics changed meanwhile). Waits for the thread; its errors are raised here."""
        if (cycle.start, cycle.end) != (self.start, self.end) or set(metrics) != self.metrics:
            self.discard()
            return None
        return self._future.result()

    def discard(self) -> None:
        """Not needed after all: let the thread finish on its own, never raising."""
        self._future.add_done_callback(lambda future: future.exception())


def previous_results(
    *, cycle: AppraisalCycle, member_ids: Iterable[int], lookback: int
) -> dict[int, list[PastResult]]:
    """member id -> their results in the template's `lookback` previous finalized cycles, most
    recent first, one entry per cycle (PastResult(None, None) where they were not appraised).
    Two queries."""
    if lookback <= 0:
        return {}
    previous = list(
        AppraisalCycle.objects.filter(
            organization_id=cycle.organization_id,
            template_id=cycle.template_id,
            status=CycleStatus.FINALIZED,
            start__lt=cycle.start,
        )
        .order_by("-start")
        .values_list("id", flat=True)[:lookback]
    )
    if not previous:
        return {}
    found: dict[tuple[int, int], PastResult] = {}
    rows = Appraisal.objects.filter(
        organization_id=cycle.organization_id, cycle_id__in=previous, member_id__in=list(member_ids)
    ).values_list("member_id", "cycle_id", "grade", "final_outcome")
    for member_id, cycle_id, grade, outcome in rows:
        found[(member_id, cycle_id)] = PastResult(grade=grade, outcome=outcome)
    empty = PastResult(grade=None, outcome=None)
    return {
        member_id: [found.get((member_id, cycle_id), empty) for cycle_id in previous]
        for member_id in member_ids
    }


def missing_reviews(*, cycle: AppraisalCycle) -> list[dict]:
    rows = (
        Appraisal.objects.filter(
            organization_id=cycle.organization_id, cycle=cycle, reviewed_at__isnull=True
        )
        .select_related("member__user", "reviewer__user")
        .order_by("member__path")
    )
    return [
        {
            "appraisal": row.pk,
            "member": row.member_id,
            "display_name": row.member.display_name,
            "reviewer": row.reviewer_id,
            "reviewer_name": row.reviewer.display_name if row.reviewer else None,
        }
        for row in rows
    ]


# --- Leaderboard, roll-ups, history -------------------------------------------------------------


def effective_outcome(appraisal: Appraisal) -> str | None:
    return appraisal.final_outcome or appraisal.recommended_outcome


def cycle_leaderboard(*, cycle: AppraisalCycle, viewer: Membership) -> QuerySet[Appraisal]:
    """The cycle's appraisals the viewer may see, best first. Ranks are the cycle-wide ranks."""
    return (
        Appraisal.objects.filter(organization_id=cycle.organization_id, cycle=cycle)
        .filter(appraisal_scope_q(membership=viewer))
        .select_related("member__user", "region")
        .order_by(F("rank").asc(nulls_last=True), "-total_score", "member__path")
    )


def _bucket(grades: list[str]) -> dict:
    return {
        "count": 0,
        "total": Decimal(0),
        "grades": dict.fromkeys(grades, 0),
        "outcomes": {},
    }


def _add_to(bucket: dict, row: dict) -> None:
    bucket["count"] += 1
    bucket["total"] += row["total_score"]
    if row["grade"] is not None:
        bucket["grades"][row["grade"]] = bucket["grades"].get(row["grade"], 0) + 1
    outcome = row["final_outcome"] or row["recommended_outcome"]
    if outcome is not None:
        bucket["outcomes"][outcome] = bucket["outcomes"].get(outcome, 0) + 1


def _finish(bucket: dict, *, key, label: str) -> dict:
    from .models import Outcome

    count = bucket["count"]
    return {
        "key": key,
        "label": label,
        "count": count,
        "average_total": quantize(bucket["total"] / count) if count else None,
        "grades": bucket["grades"],
        "outcomes": {outcome: bucket["outcomes"].get(outcome, 0) for outcome in Outcome.values},
    }


def cycle_rollup(*, cycle: AppraisalCycle, viewer: Membership, group_by: str) -> list[dict]:
    """Average total, grade distribution and counts per outcome (the final outcome, else the
    recommended one), over the appraisals the viewer may see.

    - region: per region of the member when the cycle opened, each region including its
      sub-regions; members without a region form a bucket with key null.
    - team: per leader, over the leader and their whole subtree (nested teams overlap: a member
      counts for every leader above them).

    Three queries: the template's grades, the appraisals (one row each, values only) and the
    regions or leaders; the tree roll-up runs over the materialized paths in memory."""
    from agents.models import Region

    grades = list(cycle.template.grades.order_by("-min_score").values_list("grade", flat=True))
    rows = list(
        Appraisal.objects.filter(organization_id=cycle.organization_id, cycle=cycle)
        .filter(appraisal_scope_q(membership=viewer))
        .values(
            "total_score",
            "grade",
            "final_outcome",
            "recommended_outcome",
            "member__path",
            "region__path",
        )
    )
    buckets: dict = defaultdict(lambda: _bucket(grades))
    if group_by == "region":
        for row in rows:
            keys = _path_ids(row["region__path"]) if row["region__path"] else [None]
            for key in keys:
                _add_to(buckets[key], row)
        names = dict(
            Region.objects.filter(
                organization_id=cycle.organization_id, pk__in=[k for k in buckets if k]
            ).values_list("id", "name")
        )
        ordered = sorted(buckets, key=lambda key: (key is None, names.get(key, ""), key or 0))
        return [_finish(buckets[key], key=key, label=names.get(key, "")) for key in ordered]

    leaders = {
        member.pk: member
        for member in Membership.objects.filter(
            organization_id=cycle.organization_id, role=Role.LEADER
        )
        .filter(member_scope_q(membership=viewer))
        .select_related("user")
    }
    for row in rows:
        for key in _path_ids(row["member__path"]):
            if key in leaders:
                _add_to(buckets[key], row)
    ordered = sorted(buckets, key=lambda key: leaders[key].path)
    return [_finish(buckets[key], key=key, label=leaders[key].display_name) for key in ordered]


def member_history(
    *, organization: Organization, member: Membership, template_id: int | None = None
) -> list[dict]:
    """The member's appraisals across cycles, oldest first, each with the change of the total
    score against the previous entry (the trend). One query."""
    appraisals = (
        Appraisal.objects.filter(organization=organization, member=member)
        .select_related("cycle__template")
        .order_by("cycle__start", "cycle_id")
    )
    if template_id is not None:
        appraisals = appraisals.filter(cycle__template_id=template_id)
    entries = []
    previous = None
    for appraisal in appraisals:
        cycle = appraisal.cycle
        entries.append(
            {
                "appraisal": appraisal.pk,
                "cycle": cycle.pk,
                "cycle_name": str(cycle),
                "template": cycle.template_id,
                "start": cycle.start,
                "end": cycle.end,
                "status": cycle.status,
                "total_score": appraisal.total_score,
                "rank": appraisal.rank,
                "grade": appraisal.grade,
                "final_outcome": effective_outcome(appraisal)
                if cycle.status == CycleStatus.FINALIZED
                else appraisal.final_outcome,
                "delta": appraisal.total_score - previous if previous is not None else None,
            }
        )
        previous = appraisal.total_score
    return entries


PENDING_REVIEWS_LIMIT = 100


def pending_reviews_for(*, organization: Organization, viewer: Membership) -> list[dict]:
    """The reviews waiting for the viewer: appraisals of open cycles assigned to them and not
    reviewed yet, earliest deadline first (for the leader's dashboard, plans.dashboard). One
    query."""
    rows = (
        Appraisal.objects.filter(
            organization=organization,
            reviewer=viewer,
            cycle__status=CycleStatus.OPEN,
            reviewed_at__isnull=True,
        )
        .exclude(member=viewer)
        .select_related("member__user", "cycle")
        .order_by(F("cycle__review_deadline").asc(nulls_last=True), "cycle_id", "member__path")
    )[:PENDING_REVIEWS_LIMIT]
    return [
        {
            "appraisal": row.pk,
            "cycle": row.cycle_id,
            "member": row.member_id,
            "display_name": row.member.display_name,
            "review_deadline": row.cycle.review_deadline,
        }
        for row in rows
    ]
