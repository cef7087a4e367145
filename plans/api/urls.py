"""Organization-scoped routes of the plans app, mounted under /api/v1/orgs/{org_slug}/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import imports, views

router = SimpleRouter()
router.register("plans", views.SalesPlanViewSet, basename="plans")
router.register("targets", views.TargetViewSet, basename="targets")
router.register("goals", views.QualitativeGoalViewSet, basename="goals")
router.register("budgets", views.BudgetLineViewSet, basename="budgets")
router.register("expenses", views.ExpenseViewSet, basename="expenses")
router.register("tasks", views.PlanTaskViewSet, basename="tasks")

urlpatterns = [
    path("targets/import/", imports.TargetImportView.as_view(), name="targets-import"),
    path("attainment/", views.AttainmentView.as_view(), name="attainment"),
    path("attainment/export/", views.AttainmentExportView.as_view(), name="attainment-export"),
    path("dashboard/today/", views.DashboardTodayView.as_view(), name="dashboard-today"),
    *router.urls,
]
