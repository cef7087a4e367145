from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import services
from agents.filters import CustomerFilter, MemberFilter, ProductFilter, RegionFilter
from agents.models import AgentLevel, CalendarDay, Customer, Membership, Product, Region
from agents.permissions import CATALOG_ACCESS, MANAGE, OWN_WRITE, READ
from agents.selectors import memberships_of_user_list

from .authentication import DeferredJWTMixin
from .base import OrgScopedMixin, OrgScopedModelViewSet, OrgScopedViewSet
from .serializers import (
    AgentLevelSerializer,
    CalendarDaySerializer,
    CalendarPrefillSerializer,
    CustomerSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    MemberWriteSerializer,
    MeSerializer,
    MyOrganizationSerializer,
    OrganizationCreatedSerializer,
    OrganizationCreateSerializer,
    OrganizationSettingsSerializer,
    ProductSerializer,
    RegionSerializer,
)

# --- Identity and sign-up -------------------------------------------------------------------------


class MeView(DeferredJWTMixin, APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        payload = {
            "id": user.pk,
            "username": user.username,
            "get_display_name": user.get_display_name(),
            "memberships": memberships_of_user_list(user=user),
        }
        return Response(MeSerializer(payload).data)


class OrganizationListView(DeferredJWTMixin, APIView):
    """The caller's organizations; POST signs up a new organization with the caller as owner."""

    @extend_schema(responses=MyOrganizationSerializer(many=True))
    def get(self, request):
        memberships = memberships_of_user_list(user=request.user)
        return Response(MyOrganizationSerializer(memberships, many=True).data)

    @extend_schema(
        request=OrganizationCreateSerializer, responses={201: OrganizationCreatedSerializer}
    )
    def post(self, request):
        serializer = OrganizationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_create(user=request.user, **serializer.validated_data)
        return Response(
            OrganizationCreatedSerializer(organization).data, status=status.HTTP_201_CREATED
        )


# --- Members --------------------------------------------------------------------------------------


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgScopedViewSet):
    """Members in the caller's scope. Owners and admins add members (creating their accounts)
    and change them; a new upline moves the member's whole subtree."""

    queryset = Membership.objects.select_related("user")
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["user__username", "user__display_name", "code"]
    ordering_fields = ["path", "joined_on", "code", "id"]
    ordering = ["path"]
    member_scope = ""
    http_method_names = ["get", "post", "patch", "head", "options"]
    access = {
        "list": READ,
        "retrieve": READ,
        "create": MANAGE,
        "partial_update": MANAGE,
    }

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberSerializer})
    def create(self, request, *args, **kwargs):
        serializer = MemberCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        member = services.member_create(
            organization=self.organization, actor=self.membership, **serializer.validated_data
        )
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberWriteSerializer, responses=MemberSerializer)
    def partial_update(self, request, *args, **kwargs):
        member = self.get_object()
        serializer = MemberWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        member = services.member_update(
            organization=self.organization,
            actor=self.membership,
            member=member,
            data=dict(serializer.validated_data),
        )
        member = self.get_queryset().get(pk=member.pk)
        return Response(MemberSerializer(member).data)


# --- Catalogs -------------------------------------------------------------------------------------


class RegionViewSet(OrgScopedModelViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    search_fields = ["name", "code"]
    ordering_fields = ["path", "name", "id"]
    ordering = ["path"]
    access = CATALOG_ACCESS

    def perform_create(self, serializer):
        serializer.instance = services.region_create(
            organization=self.organization, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.region_update(
            organization=self.organization,
            region=serializer.instance,
            data=dict(serializer.validated_data),
        )


class AgentLevelViewSet(OrgScopedModelViewSet):
    queryset = AgentLevel.objects.all()
    serializer_class = AgentLevelSerializer
    ordering_fields = ["rank", "name", "id"]
    ordering = ["rank"]
    access = CATALOG_ACCESS


class ProductViewSet(OrgScopedModelViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "category"]
    ordering_fields = ["sku", "name", "price", "id"]
    ordering = ["sku"]
    access = CATALOG_ACCESS


class CustomerViewSet(OrgScopedModelViewSet):
    """Customers whose owner is in the caller's scope (owners and admins: all). Agents write
    only their own customers; leaders those of their subtree."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id", "first_order_on"]
    ordering = ["name", "id"]
    member_scope = "owner"
    own_field = "owner"
    access = {
        "list": READ,
        "retrieve": READ,
        "create": OWN_WRITE,
        "partial_update": OWN_WRITE,
        "destroy": MANAGE,
    }


class CalendarDayViewSet(OrgScopedModelViewSet):
    """Exceptions to the working weekdays: holidays and make-up working days."""

    queryset = CalendarDay.objects.all()
    serializer_class = CalendarDaySerializer
    filterset_fields = {"date": ["gte", "lte", "exact"], "is_workday": ["exact"]}
    ordering = ["date"]
    access = {**CATALOG_ACCESS, "prefill": MANAGE}

    @extend_schema(
        request=CalendarPrefillSerializer,
        responses=inline_serializer(
            "CalendarPrefillResult", {"created": serializers.IntegerField()}
        ),
    )
    @action(detail=False, methods=["post"])
    def prefill(self, request, *args, **kwargs):
        """Copy a year's statutory holidays and make-up working days; edited days are kept."""
        serializer = CalendarPrefillSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            created = services.calendar_prefill(
                organization=self.organization, year=serializer.validated_data["year"]
            )
        return Response({"created": created})


# --- Settings -------------------------------------------------------------------------------------


class OrganizationSettingsView(OrgScopedMixin, generics.GenericAPIView):
    """The organization's settings and rules. Owners and admins only."""

    serializer_class = OrganizationSettingsSerializer
    access = {"get": MANAGE, "patch": MANAGE}
    http_method_names = ["get", "patch", "head", "options"]

    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.organization).data)

    def patch(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.organization, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_settings_update(
            organization=self.organization,
            actor=self.membership,
            data=dict(serializer.validated_data),
        )
        return Response(self.get_serializer(organization).data)
