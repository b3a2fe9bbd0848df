"""API v1 routes of service.arrangements (joined into the service app's api_urls)."""

urlpatterns: list = []
