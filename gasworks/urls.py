from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from gasworks.reports.views import dashboard
from gasworks.web.views import favicon

handler400 = "gasworks.api.errors.bad_request"
handler404 = "gasworks.api.errors.page_not_found"

urlpatterns = [
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
    path("api/v1/", include("gasworks.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up code as a script file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("metering/", include("gasworks.metering.urls")),
    path("billing/", include("gasworks.billing.urls")),
    path("payments/", include("gasworks.payments.urls")),
    path("cylinders/", include("gasworks.cylinders.urls")),
    path("safety/", include("gasworks.safety.urls")),
    path("notifications/", include("gasworks.notifications.urls")),
    path("service/", include("gasworks.service.urls")),
    path("reports/", include("gasworks.reports.urls")),
    path("", dashboard, name="home"),
    path("", include("gasworks.web.urls")),
]
# No /media/ route, not even with DEBUG: every stored file goes through a view that checks who
# asks (the photo views of metering, safety and service; the exports' download).
