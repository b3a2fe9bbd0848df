"""API v1 routes of service.desk (joined into the service app's api_urls)."""

urlpatterns: list = []
