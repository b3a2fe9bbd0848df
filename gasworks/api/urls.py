from django.urls import path
from rest_framework.routers import SimpleRouter

from gasworks.api import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("customers", views.CustomerViewSet, basename="customer")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    *router.urls,
]
