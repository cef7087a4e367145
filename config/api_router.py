"""The REST API's URL tree: /api/v1/... Each app contributes its organization-scoped routes,
mounted under /api/v1/orgs/{org_slug}/ (the tenant is in the path)."""

from django.urls import include, path
from rest_framework_simplejwt.views import TokenRefreshView

from agents.api import invitations as invitation_views
from agents.api import views as agent_views
from agents.api.lockout import TokenObtainView
from agents.api.throttling import AuthRateThrottle

# Every organization-scoped URL pattern, by app. tests/test_permission_matrix.py enumerates these.
# The reports first: their daily-report PUT is the API's most frequent request, and Django tries
# the patterns in order (no two apps' patterns match the same path).
ORG_SCOPED_URLCONFS = [
    "reports.api.urls",
    "agents.api.urls",
    "plans.api.urls",
    "notifications.api.urls",
    "appraisals.api.urls",
]

org_patterns = [path("", include(module)) for module in ORG_SCOPED_URLCONFS]

app_name = "api"
urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path(
        "auth/token/refresh/",
        TokenRefreshView.as_view(throttle_classes=[AuthRateThrottle]),
        name="token-refresh",
    ),
    path("me/", agent_views.MeView.as_view(), name="me"),
    # The invitee's side of an invitation (agents/api/invitations.py): public, throttled.
    path(
        "invitations/<str:token>/",
        invitation_views.InvitationPublicView.as_view(),
        name="invitation-public",
    ),
    path(
        "invitations/<str:token>/accept/",
        invitation_views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path(
        "invitations/<str:token>/register/",
        invitation_views.InvitationRegisterView.as_view(),
        name="invitation-register",
    ),
    path("orgs/", agent_views.OrganizationListView.as_view(), name="orgs"),
    path("orgs/<slug:org_slug>/", include(org_patterns)),
]
