"""API v1 routes of the desk app, mounted under /api/v1/."""

urlpatterns: list = []
