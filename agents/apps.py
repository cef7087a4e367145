from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Organizations and agents")

    def ready(self):
        from .api.strict import strict_char_fields_install
        from .lookups import any_of_install

        strict_char_fields_install()
        any_of_install()
