"""API v1 routes of service.moveout (joined into the service app's api_urls)."""

urlpatterns: list = []
