"""Organization-scoped routes of the notifications app, mounted under /api/v1/orgs/{org_slug}/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("me/notifications", views.MyNotificationViewSet, basename="my-notifications")

urlpatterns = router.urls
