"""Pages of the safety app, mounted at /safety/."""

app_name = "safety"
urlpatterns: list = []
