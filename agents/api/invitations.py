"""Invitations (agents/invitations.py): the organization's side under P/invitations/, and the
invitee's side under /api/v1/invitations/{token}/ (public: look, register; signed in: accept).

The token is in the answer to create and resend only, once; lists and details never carry it
(only its hash is stored)."""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from agents import invitations as services
from agents.models import AgentLevel, Invitation, InvitationStatus, Membership, Region, Role
from agents.permissions import LEAD

from .base import OrgScopedViewSet
from .fields import OrgRelatedField
from .serializers import MyMembershipSerializer
from .throttling import AuthRateThrottle


def invitable_uplines(queryset, context):
    """Owners and admins place invitees anywhere; leaders only in their own subtree."""
    membership = context["membership"]
    if membership.is_manager:
        return queryset
    return queryset.filter(path__startswith=membership.path)


class InvitationSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=InvitationStatus.choices,
        source="effective_status",
        read_only=True,
        help_text=gettext_lazy("A pending invitation past its expiry reads as expired."),
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "username",
            "role",
            "upline",
            "region",
            "level",
            "code",
            "status",
            "expires_at",
            "invited_by",
            "accepted_by",
            "accepted_at",
            "revoked_at",
            "send_count",
            "last_sent_at",
            "created_at",
        ]
        read_only_fields = fields


class InvitationSentSerializer(InvitationSerializer):
    """The answer to create and resend: the only place the token is ever shown."""

    token = serializers.CharField(read_only=True)
    invite_url = serializers.CharField(read_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token", "invite_url"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z", max_length=150, required=False, allow_blank=True
    )
    role = serializers.ChoiceField(choices=Role.choices, required=False, default=Role.AGENT)
    upline = OrgRelatedField(
        queryset=Membership.objects.all(),
        scope=invitable_uplines,
        required=False,
        allow_null=True,
    )
    region = OrgRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)
    level = OrgRelatedField(queryset=AgentLevel.objects.all(), required=False, allow_null=True)
    code = serializers.CharField(max_length=40, required=False, allow_blank=True)


def _sent(invitation: Invitation, token: str) -> dict:
    data = InvitationSerializer(invitation).data
    return {**data, "token": token, "invite_url": services.invitation_link(token)}


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    """Invitations to join the organization. Owners and admins invite anyone (only an owner
    invites owners and admins); leaders invite agents into their own subtree and see the
    invitations placed there."""

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    filterset_fields = {"status": ["exact"], "role": ["exact"]}
    search_fields = ["email", "username", "code"]
    ordering_fields = ["created_at", "expires_at", "id"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "head", "options"]
    access = {
        "list": LEAD,
        "retrieve": LEAD,
        "create": LEAD,
        "revoke": LEAD,
        "resend": LEAD,
    }

    def scope_queryset(self, queryset):
        if self.membership.role == Role.AGENT:
            return queryset.none()
        return queryset.filter(services.invitation_scope_q(membership=self.membership))

    def list(self, request, *args, **kwargs):
        services.invitations_expire(organization=self.organization)  # lazy expiry, one UPDATE
        return super().list(request, *args, **kwargs)

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSentSerializer})
    def create(self, request, *args, **kwargs):
        serializer = InvitationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        invitation, token = services.invitation_create(
            organization=self.organization, actor=self.membership, **serializer.validated_data
        )
        return Response(_sent(invitation, token), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        invitation = services.invitation_revoke(
            organization=self.organization, actor=self.membership, invitation=self.get_object()
        )
        return Response(InvitationSerializer(invitation).data)

    @extend_schema(request=None, responses=InvitationSentSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs):
        invitation, token = services.invitation_resend(
            organization=self.organization, actor=self.membership, invitation=self.get_object()
        )
        return Response(_sent(invitation, token))


# --- The invitee's side ------------------------------------------------------------------------

TOKEN_PARAMETER = OpenApiParameter(
    "token", str, OpenApiParameter.PATH, description="The token from the invitation link."
)


class InvitationPublicSerializer(serializers.Serializer):
    organization = serializers.CharField(source="organization.name")
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField()


class InvitationRegisterSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class InvitationJoinedSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    membership = MyMembershipSerializer()


def _invitation_or_404(token: str) -> Invitation:
    invitation = services.invitation_for_token(token)
    if invitation is None:
        raise NotFound()
    return invitation


class InvitationPublicView(APIView):
    """What an invitation offers, for the invitee's "join" page: the organization's name, the
    role and the expiry, nothing else. Unknown, used, revoked and expired tokens alike: 404."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(auth=[], parameters=[TOKEN_PARAMETER], responses=InvitationPublicSerializer)
    def get(self, request, token: str):
        invitation = _invitation_or_404(token)
        return Response(InvitationPublicSerializer(invitation).data)


class InvitationAcceptView(APIView):
    """The signed-in invitee joins: 201 with the new membership (on probation)."""

    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=None, parameters=[TOKEN_PARAMETER], responses={201: MyMembershipSerializer}
    )
    def post(self, request, token: str):
        invitation = _invitation_or_404(token)
        member = services.invitation_accept(invitation=invitation, user=request.user)
        return Response(MyMembershipSerializer(member).data, status=status.HTTP_201_CREATED)


class InvitationRegisterView(APIView):
    """An invitee without an account creates one and joins, in one step: 201 with tokens like
    /api/v1/auth/token/ and the new membership."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        auth=[],
        parameters=[TOKEN_PARAMETER],
        request=InvitationRegisterSerializer,
        responses={201: InvitationJoinedSerializer},
    )
    def post(self, request, token: str):
        invitation = _invitation_or_404(token)
        serializer = InvitationRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.invitation_register(invitation=invitation, **serializer.validated_data)
        refresh = RefreshToken.for_user(member.user)
        payload = {
            "access": str(refresh.access_token),
            "refresh": str(refresh),
            "membership": member,
        }
        return Response(InvitationJoinedSerializer(payload).data, status=status.HTTP_201_CREATED)
