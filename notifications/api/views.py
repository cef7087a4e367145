from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from agents.api.base import OrgScopedViewSet
from agents.permissions import READ
from notifications import services
from notifications.filters import NotificationFilter
from notifications.models import Notification

from .serializers import NotificationSerializer, ReadAllResultSerializer


class MyNotificationViewSet(mixins.ListModelMixin, OrgScopedViewSet):
    """The caller's own inbox in this organization, newest first (`?unread=true` for the unread
    ones). Every member has one; another member's notification does not exist for the caller
    (404)."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "head", "options"]
    access = {"list": READ, "read": READ, "read_all": READ}

    def scope_queryset(self, queryset):
        return queryset.filter(recipient=self.membership)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, *args, **kwargs):
        """Mark one notification read (again is harmless: the first read time stays)."""
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=ReadAllResultSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request, *args, **kwargs):
        """Mark every unread notification of the caller read."""
        updated = services.notifications_mark_all_read(
            organization=self.organization, recipient=self.membership
        )
        return Response({"updated": updated})
