from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalsConfig(AppConfig):
    name = "appraisals"
    verbose_name = _("Appraisals")

    def ready(self):
        # The leader's dashboard (plans) shows the reviews waiting for them; plans does not
        # depend on appraisals, so appraisals registers the provider.
        from plans.dashboard import register_pending_reviews

        from .selectors import pending_reviews_for

        register_pending_reviews(pending_reviews_for)
