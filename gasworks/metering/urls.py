"""Pages of the metering app, mounted at /metering/."""

app_name = "metering"
urlpatterns: list = []
