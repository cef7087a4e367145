"""Organization-scoped routes of the appraisals app, mounted under /api/v1/orgs/{org_slug}/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register(
    "appraisal-templates", views.AppraisalTemplateViewSet, basename="appraisal-templates"
)
router.register("appraisal-cycles", views.AppraisalCycleViewSet, basename="appraisal-cycles")
router.register("appraisals", views.AppraisalViewSet, basename="appraisals")

urlpatterns = router.urls
