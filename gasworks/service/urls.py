"""Pages of the service app, mounted at /service/: each subpackage's urlpatterns, joined."""

from importlib import import_module

from gasworks.service.apps import SUBPACKAGES

app_name = "service"
urlpatterns = [p for name in SUBPACKAGES for p in import_module(f"gasworks.service.{name}.urls").urlpatterns]
