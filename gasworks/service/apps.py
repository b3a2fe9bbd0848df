from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The parts of the service app, each a subpackage gasworks/service/<name>/ with models.py,
# urls.py and api_urls.py (and whatever else it needs).
SUBPACKAGES = ["desk", "moveout", "collections", "arrangements"]


class ServiceConfig(AppConfig):
    name = "gasworks.service"
    label = "service"
    verbose_name = _("Service and collections")

    def ready(self):
        from gasworks.accounts import roles

        roles.admin_app(self.label)
        from gasworks.service.arrangements import wiring as arrangements

        arrangements.connect()
