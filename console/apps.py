from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The leaders' admin dashboard: a composition of every app's selectors, drawn as
    server-side SVG inside the Django admin. Nothing imports this app."""

    name = "console"
    verbose_name = _("Dashboard")

    def ready(self):
        from django.contrib import admin

        # The admin index gets a card that leads to the dashboard (the template extends the
        # stock index, so the app list is unchanged).
        admin.site.index_template = "console/admin_index.html"
