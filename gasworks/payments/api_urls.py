"""API v1 routes of the payments app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from gasworks.payments import api

router = SimpleRouter()
router.register("payments", api.PaymentViewSet, basename="payment")

urlpatterns = [
    path("payments/callbacks/<slug:gateway>/", api.CallbackView.as_view(), name="api-payment-callback"),
    *router.urls,
]
