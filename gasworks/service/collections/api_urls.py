"""API v1 routes of service.collections (joined into the service app's api_urls)."""

urlpatterns: list = []
