"""Pages of the arrangements app, mounted at /arrangements/."""

app_name = "arrangements"
urlpatterns: list = []
