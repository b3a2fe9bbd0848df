"""Pages of service.moveout (joined into the service app's urls, mounted at /service/)."""

from django.urls import path

from gasworks.service.moveout import views

urlpatterns = [
    path("moveout/customers/<int:customer_pk>/", views.start, name="moveout-start"),
    path("moveout/<int:pk>/", views.detail, name="moveout-detail"),
]
