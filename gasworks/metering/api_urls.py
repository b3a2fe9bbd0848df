"""API v1 routes of the metering app, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from gasworks.metering import api

router = SimpleRouter()
router.register("meters", api.MeterViewSet, basename="meter")
router.register("readings", api.ReadingViewSet, basename="reading")

urlpatterns = [
    path("ingest/readings/", api.IngestView.as_view(), name="ingest-readings"),
    *router.urls,
]
