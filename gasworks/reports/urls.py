"""Pages of the reports app, mounted at /reports/."""

from django.urls import path

from gasworks.reports import views
from gasworks.reports.supply_balance import views as supply_views

app_name = "reports"
urlpatterns = [
    path("", views.report_index, name="index"),
    path("supply-balance/suspects/", supply_views.suspect_meters, name="supply-suspects"),
    path("<slug:name>/", views.report_page, name="report"),
    path("<slug:name>/print/", views.report_print, name="print"),
]
