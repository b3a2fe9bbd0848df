"""API v1 routes of the cylinders app, mounted under /api/v1/."""

urlpatterns: list = []
