"""Pages of service.collections (joined into the service app's urls)."""

from django.urls import path

from gasworks.service.collections import views

urlpatterns: list = [
    path("collections/", views.board, name="collections"),
    path("collections/run/", views.run, name="collections-run"),
    path("collections/mine/", views.mine, name="collections-mine"),
]
