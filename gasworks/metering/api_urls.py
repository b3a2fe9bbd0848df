"""API v1 routes of the metering app, mounted under /api/v1/."""

urlpatterns: list = []
