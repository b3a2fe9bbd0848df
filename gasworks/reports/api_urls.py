"""API v1 routes of the reports app, mounted under /api/v1/."""

from django.urls import path

from gasworks.reports import api

urlpatterns = [
    path("reports/exports/<int:pk>/", api.ExportStatusView.as_view(), name="api-report-export"),
    path("reports/exports/<int:pk>/file/", api.ExportFileView.as_view(), name="api-report-export-file"),
    path("reports/<slug:name>/", api.ReportView.as_view(), name="api-report"),
]
