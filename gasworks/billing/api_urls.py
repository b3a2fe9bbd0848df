"""API v1 routes of the billing app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from gasworks.billing import api

router = SimpleRouter()
router.register("tariffs", api.TariffViewSet, basename="tariff")
router.register("billing/runs", api.BillingRunViewSet, basename="billing-run")
router.register("bills", api.BillViewSet, basename="bill")

urlpatterns = router.urls
