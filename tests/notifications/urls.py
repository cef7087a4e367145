"""The project's URLs plus one request path that notifies, standing in for any API write that
causes notifications (a daily report, a critical feedback...): the notifications are committed
with the request's change and enqueued on commit."""

from django.db import transaction
from django.urls import include, path
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from agents.selectors import membership_for_user
from notifications import services
from notifications.models import NotificationKind


@api_view(["PUT"])
def file_and_notify(request, org_slug, key):
    membership = membership_for_user(user=request.user, org_slug=org_slug)
    if membership is None:
        raise NotFound()
    with transaction.atomic():
        services.notify_many(
            organization=membership.organization,
            recipients=[membership],
            kind=NotificationKind.OTHER,
            title="Filed",
            body="Your report is filed.",
            dedupe_key_for=lambda member: f"filed:{key}:{member.pk}",
            webhook=lambda: f"{membership.display_name} filed {key}",
            webhook_key=f"filed:{key}",
        )
    return Response({"key": key}, status=201)


urlpatterns = [
    path("test/orgs/<slug:org_slug>/filed/<str:key>/", file_and_notify),
    path("", include("config.urls")),
]
