"""API v1 routes of the safety app, mounted under /api/v1/."""

urlpatterns: list = []
