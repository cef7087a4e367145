"""XLSX export of appraisal results: one cycle's appraisals the caller may see (the scope and
filters of `P/appraisals/`), one line per member with every criterion's score as a column, the
quantitative, qualitative and total scores, rank, grade, outcomes and the acknowledgement.

A constant number of queries whatever the number of appraisals: the count, the cycle's criteria,
and the appraisals with their member, user and region, each criterion's score being a subquery of
that statement (criteria are few; members are many)."""

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.models import Organization
from agents.xlsx import Column, ExportFile, Kind, Sheet, ensure_within_cap, write_workbook

from .models import Appraisal, AppraisalCycle, Criterion, CriterionScore, Outcome

LEADING_COLUMNS = [
    Column(gettext_lazy("Member"), Kind.TEXT, width=18),
    Column(gettext_lazy("Agent code"), Kind.TEXT, width=12),
    Column(gettext_lazy("Region"), Kind.TEXT, width=14),
]
TRAILING_COLUMNS = [
    Column(gettext_lazy("Quantitative score"), Kind.DECIMAL),
    Column(gettext_lazy("Qualitative score"), Kind.DECIMAL),
    Column(gettext_lazy("Total score"), Kind.DECIMAL),
    Column(gettext_lazy("Rank"), Kind.INT, width=8),
    Column(gettext_lazy("Grade"), Kind.TEXT, width=8),
    Column(gettext_lazy("Recommended outcome"), Kind.TEXT, width=14),
    Column(gettext_lazy("Final outcome"), Kind.TEXT, width=14),
    Column(gettext_lazy("Acknowledged at"), Kind.DATETIME),
]

FILTER_LABELS = {
    "member": gettext_lazy("Member"),
    "reviewer": gettext_lazy("Reviewer"),
    "grade": gettext_lazy("Grade"),
    "final_outcome": gettext_lazy("Final outcome"),
    "reviewed": gettext_lazy("Reviewed"),
    "acknowledged": gettext_lazy("Acknowledged by the member"),
}


def _outcome_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(Outcome(value).label)
    except ValueError:
        return value


def cycle_criteria(cycle: AppraisalCycle) -> list[Criterion]:
    return list(
        Criterion.objects.filter(
            organization_id=cycle.organization_id, template_id=cycle.template_id
        ).order_by("order", "id")
    )


def appraisals_for_export(
    queryset: QuerySet[Appraisal], criteria: list[Criterion]
) -> QuerySet[Appraisal]:
    """The appraisals with each criterion's score (`score_<criterion id>`) in one statement."""
    scores = {
        f"score_{criterion.pk}": Subquery(
            CriterionScore.objects.filter(
                appraisal=OuterRef("pk"), criterion_id=criterion.pk
            ).values("score")[:1]
        )
        for criterion in criteria
    }
    return (
        queryset.prefetch_related(None).select_related("member__user", "region").annotate(**scores)
    )


def _row(appraisal: Appraisal, criteria: list[Criterion]) -> tuple:
    member = appraisal.member
    return (
        member.user.get_display_name(),
        member.code,
        appraisal.region.name if appraisal.region_id else "",
        *(getattr(appraisal, f"score_{criterion.pk}") for criterion in criteria),
        appraisal.quantitative_score,
        appraisal.qualitative_score,
        appraisal.total_score,
        appraisal.rank,
        appraisal.grade or "",
        _outcome_label(appraisal.recommended_outcome),
        _outcome_label(appraisal.final_outcome),
        appraisal.acknowledged_at,
    )


def _columns(criteria: list[Criterion]) -> list[Column]:
    return [
        *LEADING_COLUMNS,
        *(
            Column(
                _("%(criterion)s (%(weight)s%%)")
                % {"criterion": criterion.name, "weight": f"{criterion.weight.normalize():f}"},
                Kind.DECIMAL,
            )
            for criterion in criteria
        ),
        *TRAILING_COLUMNS,
    ]


def _sheet(cycle: AppraisalCycle, queryset: QuerySet[Appraisal], by_rank: bool) -> Sheet:
    criteria = cycle_criteria(cycle)
    appraisals = appraisals_for_export(queryset.filter(cycle=cycle), criteria)
    if by_rank:
        appraisals = appraisals.order_by(F("rank").asc(nulls_last=True), "member__path", "id")
    return Sheet(
        title=str(cycle),
        columns=_columns(criteria),
        rows=(_row(appraisal, criteria) for appraisal in appraisals.iterator(chunk_size=2000)),
    )


def _cycle_filters(cycle: AppraisalCycle) -> list[tuple[str, str]]:
    return [
        (_("Cycle"), str(cycle)),
        (_("Template"), cycle.template.name),
        (_("Period"), f"{cycle.start.isoformat()} – {cycle.end.isoformat()}"),
        (_("Status"), str(cycle.get_status_display())),
    ]


def appraisals_export(
    *,
    organization: Organization,
    cycle: AppraisalCycle,
    queryset: QuerySet[Appraisal],
    filters: list[tuple[str, str]] = (),
    by_rank: bool = True,
) -> ExportFile:
    """The workbook of one cycle's appraisals among `queryset` (already scoped and filtered);
    by rank unless `by_rank` is false (then in the queryset's order)."""
    ensure_within_cap(queryset.filter(cycle=cycle).count())
    title = _("Appraisal results: %(cycle)s") % {"cycle": cycle}
    return write_workbook(
        organization=organization,
        title=title,
        sheets=[_sheet(cycle, queryset, by_rank)],
        filters=[*_cycle_filters(cycle), *filters],
        basename=_("Appraisal results-%(cycle)s") % {"cycle": cycle},
        ascii_basename=f"appraisals-{cycle.pk}",
    )


def appraisals_selection_export(
    *, organization: Organization, queryset: QuerySet[Appraisal]
) -> ExportFile:
    """For the admin: the selected appraisals of one organization, one sheet per cycle."""
    ensure_within_cap(queryset.count())
    cycle_ids = set(queryset.values_list("cycle_id", flat=True))
    cycles = (
        AppraisalCycle.objects.filter(organization=organization, pk__in=cycle_ids)
        .select_related("template")
        .order_by("start", "id")
    )
    return write_workbook(
        organization=organization,
        title=_("Appraisal results"),
        sheets=[_sheet(cycle, queryset, True) for cycle in cycles],
        basename=_("Appraisal results"),
        ascii_basename="appraisals",
    )
