"""API v1 routes of the billing app, mounted under /api/v1/."""

urlpatterns: list = []
