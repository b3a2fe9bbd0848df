from django.urls import include, path
from rest_framework.routers import SimpleRouter

from gasworks.api import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("customers", views.CustomerViewSet, basename="customer")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    *router.urls,
    path("", include("gasworks.metering.api_urls")),
    path("", include("gasworks.billing.api_urls")),
    path("", include("gasworks.payments.api_urls")),
    path("", include("gasworks.cylinders.api_urls")),
    path("", include("gasworks.safety.api_urls")),
    path("", include("gasworks.notifications.api_urls")),
    path("", include("gasworks.service.api_urls")),
    path("", include("gasworks.reports.api_urls")),
]
