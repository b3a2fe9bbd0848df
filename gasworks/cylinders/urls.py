"""Pages of the cylinders app, mounted at /cylinders/."""

app_name = "cylinders"
urlpatterns: list = []
