from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CylindersConfig(AppConfig):
    name = "gasworks.cylinders"
    label = "cylinders"
    verbose_name = _("LPG cylinders")
