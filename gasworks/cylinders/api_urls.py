"""API v1 routes of the cylinders app, mounted under /api/v1/."""

from django.urls import path

from gasworks.cylinders import api

urlpatterns = [
    path("cylinders/", api.CylinderListView.as_view(), name="api-cylinders"),
    path("cylinders/<str:code>/", api.CylinderDetailView.as_view(), name="api-cylinder"),
    path("cylinders/<str:code>/fillings/", api.FillingView.as_view(), name="api-cylinder-fillings"),
]
