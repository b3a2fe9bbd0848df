"""Pages of service.collections (joined into the service app's urls)."""

urlpatterns: list = []
