from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.api.fields import OrgRelatedField, id_field
from agents.models import AgentLevel, MemberStatus, Role
from appraisals import scoring
from appraisals.models import (
    Appraisal,
    AppraisalCycle,
    AppraisalTemplate,
    Criterion,
    CriterionKind,
    CriterionScore,
    GradeBand,
    Outcome,
)
from appraisals.rules import criteria_id_errors
from appraisals.selectors import metric_keys
from appraisals.services import template_parts_validate

CENT = Decimal("0.01")


@extend_schema_field(OpenApiTypes.DECIMAL)
class MeasureField(serializers.DecimalField):
    """A measured value as a decimal string: two places (money, scores), more only where the
    value has them (e.g. a compliance ratio of 0.9375)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 22)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        value = Decimal(value)
        if value == value.quantize(CENT):
            return str(value.quantize(CENT))
        return format(value.normalize(), "f")


# --- Templates -----------------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    id = id_field(
        required=False,
        help_text=gettext_lazy("On update: the criterion to change; omit to add one."),
    )
    metric = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=gettext_lazy("A metric of the vocabulary, for quantitative criteria."),
    )
    weight = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal(100)
    )
    params = serializers.JSONField(
        required=False,
        help_text=(
            gettext_lazy(
                'ratio_to_target {"cap": 120}; bands {"bands": [[threshold, score], ...]}; linear '
                '{"floor", "ceiling"}; lower_is_better {"best", "worst"}; scale {"levels": 5, '
                '"descriptions": {"1": "...", ...}}.'
            )
        ),
    )
    order = serializers.IntegerField(required=False, min_value=0, max_value=32767)

    class Meta:
        model = Criterion
        fields = ["id", "name", "kind", "metric", "weight", "method", "params", "order"]

    def validate(self, attrs):
        attrs["metric"] = attrs.get("metric") or ""
        errors = scoring.validate_criterion(
            kind=attrs["kind"],
            method=attrs["method"],
            metric=attrs["metric"],
            metric_keys=metric_keys(),
        )
        try:
            attrs["params"] = scoring.validate_params(attrs["method"], attrs.get("params"))
        except DjangoValidationError as exc:
            errors["params"] = exc.messages
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class GradeBandSerializer(serializers.ModelSerializer):
    min_score = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=Decimal(0), max_value=Decimal(1000)
    )

    class Meta:
        model = GradeBand
        fields = ["grade", "min_score", "outcome"]


class EligibilitySerializer(serializers.Serializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False, max_length=4
    )
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=MemberStatus.choices), required=False, max_length=4
    )
    levels = serializers.ListField(child=id_field(), required=False, max_length=100)

    def validate_levels(self, value):
        organization = self.context["organization"]
        known = set(
            AgentLevel.objects.filter(organization=organization, pk__in=value).values_list(
                "pk", flat=True
            )
        )
        unknown = sorted(set(value) - known)
        if unknown:
            raise serializers.ValidationError(
                _("Unknown levels: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
            )
        return sorted(set(value))

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return {
            "roles": sorted(set(value.get("roles", [Role.LEADER, Role.AGENT]))),
            "statuses": sorted(
                set(value.get("statuses", [MemberStatus.PROBATION, MemberStatus.ACTIVE]))
            ),
            "levels": value.get("levels", []),
        }


class AppraisalTemplateSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True)
    grades = GradeBandSerializer(many=True)
    eligibility = EligibilitySerializer(required=False)
    rules = serializers.JSONField(
        required=False,
        help_text=(
            gettext_lazy(
                'Rules across cycles, first match wins, e.g. [{"if": {"grade": "D", "consecutive": '
                '2}, "then": "eliminate"}, {"if": {"grade": "A", "min_attainment": 100}, "then": '
                '"promote", "cooldown_cycles": 2}]. Conditions: grade (one or a list), '
                "consecutive, min_attainment, max_attainment, min_total, max_total."
            )
        ),
    )

    class Meta:
        model = AppraisalTemplate
        fields = [
            "id",
            "name",
            "description",
            "period_kind",
            "eligibility",
            "rules",
            "criteria",
            "grades",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness of the name is checked by the service (400 naming `name`).
        extra_kwargs = {"name": {"validators": []}}

    def validate(self, attrs):
        instance = self.instance
        if instance is not None and attrs.get("criteria") is not None:
            # An id names one of this template's criteria to change; any other id is refused
            # at its place in the list (not silently taken as a new criterion).
            unknown = criteria_id_errors(template=instance, items=attrs["criteria"])
            if unknown:
                raise serializers.ValidationError(
                    {
                        "criteria": [
                            {"id": [unknown[position]]} if position in unknown else {}
                            for position in range(len(attrs["criteria"]))
                        ]
                    }
                )
        if instance is None or "criteria" in attrs or "grades" in attrs or "rules" in attrs:
            criteria = attrs.get("criteria")
            if criteria is None:
                criteria = list(instance.criteria.values("name", "weight")) if instance else []
            grades = attrs.get("grades")
            if grades is None:
                grades = (
                    list(instance.grades.values("grade", "min_score", "outcome"))
                    if instance
                    else []
                )
            rules = attrs.get("rules", instance.rules if instance else [])
            errors = template_parts_validate(criteria=criteria, grades=grades, rules=rules)
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


# --- Cycles --------------------------------------------------------------------------------------


class AppraisalCycleSerializer(serializers.ModelSerializer):
    template = OrgRelatedField(queryset=AppraisalTemplate.objects.all())
    appraisal_count = serializers.IntegerField(read_only=True, default=0)
    reviewed_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = AppraisalCycle
        fields = [
            "id",
            "template",
            "name",
            "start",
            "end",
            "status",
            "review_deadline",
            "opened_at",
            "scored_at",
            "finalized_at",
            "finalized_by",
            "appraisal_count",
            "reviewed_count",
            "created_at",
        ]
        read_only_fields = [
            "status",
            "opened_at",
            "scored_at",
            "finalized_at",
            "finalized_by",
            "created_at",
        ]
        # Overlaps and the unique start are checked by the service (400 naming `start`).
        validators = []


class FinalizeSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Finalize although reviews are missing (owners and admins)."),
    )


class ScoreResultSerializer(serializers.Serializer):
    scores_changed = serializers.IntegerField()
    appraisals_changed = serializers.IntegerField()


class LeaderboardEntrySerializer(serializers.ModelSerializer):
    appraisal = serializers.IntegerField(source="pk")
    member_name = serializers.CharField(source="member.display_name")
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Appraisal
        fields = [
            "rank",
            "appraisal",
            "member",
            "member_name",
            "region",
            "total_score",
            "quantitative_score",
            "qualitative_score",
            "grade",
            "outcome",
        ]

    def get_outcome(self, obj) -> str | None:
        return obj.final_outcome or obj.recommended_outcome


class RollupEntrySerializer(serializers.Serializer):
    key = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("The region's or leader's id.")
    )
    label = serializers.CharField()
    count = serializers.IntegerField()
    average_total = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    grades = serializers.DictField(child=serializers.IntegerField())
    outcomes = serializers.DictField(child=serializers.IntegerField())


class RollupQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=[("region", "region"), ("team", "team")])


# --- Appraisals ----------------------------------------------------------------------------------


class CriterionScoreSerializer(serializers.ModelSerializer):
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)
    kind = serializers.CharField(source="criterion.kind", read_only=True)
    raw_value = MeasureField()
    target_value = MeasureField()
    comment = serializers.SerializerMethodField()

    class Meta:
        model = CriterionScore
        fields = [
            "criterion",
            "criterion_name",
            "kind",
            "raw_value",
            "target_value",
            "target_missing",
            "score",
            "weighted_score",
            "comment",
        ]
        read_only_fields = fields

    def get_comment(self, obj) -> str:
        if obj.comment or not obj.target_missing:
            return obj.comment
        return _("No target for this period: the criterion scores 0.")


class AppraisalSerializer(serializers.ModelSerializer):
    member_name = serializers.CharField(source="member.display_name", read_only=True)
    scores = CriterionScoreSerializer(many=True, read_only=True)
    notes = serializers.SerializerMethodField()

    class Meta:
        model = Appraisal
        fields = [
            "id",
            "cycle",
            "member",
            "member_name",
            "reviewer",
            "region",
            "level",
            "scores",
            "quantitative_score",
            "qualitative_score",
            "total_score",
            "attainment",
            "rank",
            "grade",
            "recommended_outcome",
            "recommendation_basis",
            "final_outcome",
            "reviewer_comment",
            "improvement_plan",
            "reviewed_at",
            "reviewed_by",
            "acknowledged_at",
            "acknowledgement_comment",
            "outcome_applied_at",
            "notes",
        ]
        read_only_fields = fields

    def get_notes(self, obj) -> list[str]:
        """What the reader should know to interpret the numbers."""
        notes = [
            _("No target was set for “%(criterion)s” in this period: it scores 0.")
            % {"criterion": score.criterion.name}
            for score in obj.scores.all()
            if score.target_missing
        ]
        if obj.reviewed_at is None and any(
            score.criterion.kind == CriterionKind.QUALITATIVE for score in obj.scores.all()
        ):
            notes.append(_("The qualitative criteria are waiting for the reviewer."))
        return notes


class ReviewScoreSerializer(serializers.Serializer):
    criterion = id_field()
    score = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AppraisalReviewSerializer(serializers.Serializer):
    """Validated against the appraisal's template (context["appraisal"])."""

    scores = ReviewScoreSerializer(many=True, required=False, default=list)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    improvement_plan = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    final_outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)

    def _criteria(self) -> dict[int, Criterion]:
        appraisal = self.context["appraisal"]
        return {c.pk: c for c in appraisal.cycle.template.criteria.all()}

    def validate_scores(self, value):
        criteria = self._criteria()
        errors, seen, failed = [], set(), False
        for item in value:
            error = {}
            criterion = criteria.get(item["criterion"])
            if criterion is None:
                error["criterion"] = [
                    _("Criterion %(id)s is not part of this appraisal's template.")
                    % {"id": item["criterion"]}
                ]
            elif criterion.kind != CriterionKind.QUALITATIVE:
                error["criterion"] = [
                    _("“%(name)s” (%(id)s) is quantitative: it is scored from the facts.")
                    % {"name": criterion.name, "id": criterion.pk}
                ]
            elif criterion.pk in seen:
                error["criterion"] = [_("“%(name)s” is scored twice.") % {"name": criterion.name}]
            else:
                levels = criterion.params.get("levels", 5)
                if not 1 <= item["score"] <= levels:
                    error["score"] = [
                        _("“%(name)s” is scored from 1 to %(levels)d.")
                        % {"name": criterion.name, "levels": levels}
                    ]
            if criterion is not None:
                seen.add(criterion.pk)
            failed = failed or bool(error)
            errors.append(error)
        if failed:
            raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs):
        appraisal = self.context["appraisal"]
        given = {item["criterion"] for item in attrs.get("scores", [])}
        scored = {score.criterion_id for score in appraisal.scores.all() if score.score is not None}
        missing = [
            criterion.name
            for criterion in self._criteria().values()
            if criterion.kind == CriterionKind.QUALITATIVE
            and criterion.pk not in given
            and criterion.pk not in scored
        ]
        if missing:
            raise serializers.ValidationError(
                {"scores": [_("Missing scores for: %(names)s.") % {"names": ", ".join(missing)}]}
            )
        return attrs


class AcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class HistoryEntrySerializer(serializers.Serializer):
    appraisal = serializers.IntegerField()
    cycle = serializers.IntegerField()
    cycle_name = serializers.CharField()
    template = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    status = serializers.CharField()
    total_score = serializers.DecimalField(max_digits=7, decimal_places=2)
    rank = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField(allow_null=True)
    final_outcome = serializers.CharField(allow_null=True)
    delta = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        allow_null=True,
        help_text=gettext_lazy("The change of the total score against the previous cycle."),
    )


class HistorySerializer(serializers.Serializer):
    member = serializers.IntegerField()
    member_name = serializers.CharField()
    results = HistoryEntrySerializer(many=True)


class HistoryQuerySerializer(serializers.Serializer):
    member = id_field(required=False)
    template = id_field(required=False)


class AppraisalExportQuerySerializer(serializers.Serializer):
    """`?cycle=` of the export: required, a cycle of the organization (else 400)."""

    cycle = OrgRelatedField(queryset=AppraisalCycle.objects.select_related("template"))
