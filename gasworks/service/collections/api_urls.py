"""API v1 routes of service.collections (joined into the service app's api_urls)."""

from django.urls import path

from gasworks.service.collections import api

urlpatterns: list = [
    path("collections/runs/", api.CollectionRuns.as_view(), name="api-collections-runs"),
    path(
        "customers/<int:pk>/collection-steps/",
        api.CustomerSteps.as_view(),
        name="api-customer-collection-steps",
    ),
]
