"""Pages of the reports app, mounted at /reports/."""

from django.urls import path

from gasworks.reports import views
from gasworks.reports.supply_balance import views as supply_views

app_name = "reports"
urlpatterns = [
    path("", views.report_index, name="index"),
    path("supply-balance/suspects/", supply_views.suspect_meters, name="supply-suspects"),
    path("trends/", views.trends_fragment, name="trends"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/", views.export_page, name="export"),
    path("exports/<int:pk>/progress/", views.export_progress, name="export-progress"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("<slug:name>/", views.report_page, name="report"),
    path("<slug:name>/print/", views.report_print, name="print"),
    path("<slug:name>/export/", views.export_start, name="export-start"),
]
