"""API v1 routes of the reports app, mounted under /api/v1/."""

from django.urls import path

from gasworks.reports import api

urlpatterns = [
    path("reports/<slug:name>/", api.ReportView.as_view(), name="api-report"),
]
