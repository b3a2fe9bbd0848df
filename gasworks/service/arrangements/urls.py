"""Pages of service.arrangements (joined into the service app's urls)."""

urlpatterns: list = []
