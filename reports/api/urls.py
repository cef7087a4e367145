"""Organization-scoped routes of the reports app, mounted under /api/v1/orgs/{org_slug}/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("daily-reports", views.DailyReportViewSet, basename="daily-reports")
router.register("activities", views.ActivityViewSet, basename="activities")
router.register("sales", views.SalesEntryViewSet, basename="sales")
router.register("feedback", views.FeedbackViewSet, basename="feedback")

urlpatterns = [
    path(
        "me/daily-reports/<str:date>/",
        views.MyDailyReportView.as_view(),
        name="me-daily-report",
    ),
    *router.urls,
]
