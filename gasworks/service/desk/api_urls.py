"""API v1 routes of service.desk (joined into the service app's api_urls)."""

from rest_framework.routers import SimpleRouter

from gasworks.service.desk import api

router = SimpleRouter()
router.register("service-requests", api.ServiceRequestViewSet, basename="service-request")

urlpatterns = router.urls
