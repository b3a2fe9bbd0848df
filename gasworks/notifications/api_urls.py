"""API v1 routes of the notifications app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from gasworks.notifications import api

router = SimpleRouter()
router.register("supply-interruptions", api.InterruptionViewSet, basename="supply-interruption")

urlpatterns = [
    *router.urls,
    path("customers/<int:pk>/messages/", api.CustomerMessages.as_view(), name="api-customer-messages"),
    path(
        "customers/<int:pk>/notification-preferences/",
        api.CustomerPreferences.as_view(),
        name="api-customer-preferences",
    ),
]
