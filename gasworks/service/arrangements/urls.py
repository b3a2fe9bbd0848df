"""Pages of service.arrangements (joined into the service app's urls, under /service/)."""

from django.urls import path

from gasworks.service.arrangements import views

urlpatterns = [
    path("customers/<int:customer_pk>/arrangement/", views.create, name="arrangement-create"),
    path("customers/<int:customer_pk>/arrangement/preview/", views.preview, name="arrangement-preview"),
    path("arrangements/<int:pk>/", views.detail, name="arrangement-detail"),
    path("arrangements/<int:pk>/agreement/", views.agreement, name="arrangement-agreement"),
    path("arrangements/<int:pk>/cancel/", views.cancel, name="arrangement-cancel"),
]
