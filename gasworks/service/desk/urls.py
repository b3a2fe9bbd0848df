"""Pages of service.desk (joined into the service app's urls)."""

urlpatterns: list = []
