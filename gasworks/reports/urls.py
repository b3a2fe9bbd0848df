"""Pages of the reports app, mounted at /reports/."""

app_name = "reports"
urlpatterns: list = []
