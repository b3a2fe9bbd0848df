"""API v1 routes of the arrangements app, mounted under /api/v1/."""

urlpatterns: list = []
