"""Organization-scoped routes of the agents app, mounted under /api/v1/orgs/{org_slug}/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import audit, imports, invitations, views

router = SimpleRouter()
router.register("members", views.MemberViewSet, basename="members")
router.register("regions", views.RegionViewSet, basename="regions")
router.register("levels", views.AgentLevelViewSet, basename="levels")
router.register("products", views.ProductViewSet, basename="products")
router.register("customers", views.CustomerViewSet, basename="customers")
router.register("calendar-days", views.CalendarDayViewSet, basename="calendar-days")
router.register("audit-log", audit.AuditEntryViewSet, basename="audit-log")
router.register("invitations", invitations.InvitationViewSet, basename="invitations")

urlpatterns = [
    path("members/import/", imports.MemberImportView.as_view(), name="members-import"),
    path("products/import/", imports.ProductImportView.as_view(), name="products-import"),
    path("customers/import/", imports.CustomerImportView.as_view(), name="customers-import"),
    path("settings/", views.OrganizationSettingsView.as_view(), name="settings"),
    *router.urls,
]
