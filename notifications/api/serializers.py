from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "created_at", "read_at"]
        read_only_fields = fields


class ReadAllResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField(help_text=_("How many notifications were marked read."))
