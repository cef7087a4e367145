"""Organization-scoped routes of the reports app, mounted under /api/v1/orgs/{org_slug}/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views
from .fast_put import daily_report_put

router = SimpleRouter()
router.register("daily-reports", views.DailyReportViewSet, basename="daily-reports")
router.register("activities", views.ActivityViewSet, basename="activities")
router.register("sales", views.SalesEntryViewSet, basename="sales")
router.register("feedback", views.FeedbackViewSet, basename="feedback")

urlpatterns = [
    path(
        "me/daily-reports/<str:date>/",
        # PUT: the common case answered without DRF's machinery (fast_put.py), else the view.
        daily_report_put(views.MyDailyReportView.as_view()),
        name="me-daily-report",
    ),
    *router.urls,
]
