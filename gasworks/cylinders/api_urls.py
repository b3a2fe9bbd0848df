"""API v1 routes of the cylinders app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from gasworks.cylinders import api, api_orders

router = SimpleRouter()
router.register("lpg-orders", api_orders.LpgOrderViewSet, basename="lpg-order")
router.register("lpg-returns", api_orders.CylinderReturnViewSet, basename="lpg-return")

urlpatterns = [
    path("cylinders/", api.CylinderListView.as_view(), name="api-cylinders"),
    path("cylinders/<str:code>/", api.CylinderDetailView.as_view(), name="api-cylinder"),
    path("cylinders/<str:code>/fillings/", api.FillingView.as_view(), name="api-cylinder-fillings"),
    *router.urls,
]
