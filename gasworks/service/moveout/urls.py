"""Pages of service.moveout (joined into the service app's urls)."""

urlpatterns: list = []
