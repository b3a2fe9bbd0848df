"""API v1 routes of the collections app, mounted under /api/v1/."""

urlpatterns: list = []
