"""API v1 routes of the safety app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from gasworks.safety import api

router = SimpleRouter()
router.register("inspections", api.InspectionViewSet, basename="inspection")
router.register("hazards", api.HazardViewSet, basename="hazard")
router.register("emergencies", api.EmergencyViewSet, basename="emergency")

urlpatterns = router.urls
