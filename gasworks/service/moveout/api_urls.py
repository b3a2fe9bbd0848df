"""API v1 routes of service.moveout (joined into the service app's api_urls)."""

from django.urls import path

from gasworks.service.moveout import api

urlpatterns = [
    path("customers/<int:pk>/move-out/", api.MoveOutView.as_view(), name="api-customer-move-out"),
    path("customers/<int:pk>/transfer/", api.TransferView.as_view(), name="api-customer-transfer"),
]
