"""API v1 routes of the service app, mounted under /api/v1/: each subpackage's, joined."""

from importlib import import_module

from gasworks.service.apps import SUBPACKAGES

urlpatterns = [
    p for name in SUBPACKAGES for p in import_module(f"gasworks.service.{name}.api_urls").urlpatterns
]
