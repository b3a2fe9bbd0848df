"""Pages of the desk app, mounted at /desk/."""

app_name = "desk"
urlpatterns: list = []
