"""Pages of the collections app, mounted at /collections/."""

app_name = "collections"
urlpatterns: list = []
