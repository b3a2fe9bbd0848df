"""API v1 routes of service.arrangements (joined into the service app's api_urls)."""

from django.urls import path

from gasworks.service.arrangements import api

urlpatterns = [
    path(
        "customers/<int:pk>/arrangements/",
        api.CustomerArrangements.as_view(),
        name="api-customer-arrangements",
    ),
    path("arrangements/<int:pk>/cancel/", api.CancelArrangement.as_view(), name="api-arrangement-cancel"),
]
