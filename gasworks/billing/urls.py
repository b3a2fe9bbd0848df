"""Pages of the billing app, mounted at /billing/."""

app_name = "billing"
urlpatterns: list = []
