from importlib import import_module

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
        # Each subpackage may set itself up (its roles' permissions) in a ready() of its own.
        for name in SUBPACKAGES:
            hook = getattr(import_module(f"gasworks.service.{name}"), "ready", None)
            if hook is not None:
                hook()
