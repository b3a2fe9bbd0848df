"""Pages of service.desk (joined into the service app's urls, namespace "service")."""

from django.urls import path

from gasworks.service.desk import views

urlpatterns = [
    path("requests/", views.desk_list, name="desk-list"),
    path("requests/new/", views.desk_new, name="desk-new"),
    path("requests/<int:pk>/", views.desk_detail, name="desk-detail"),
    path("requests/<int:pk>/photos/<int:photo_pk>/", views.desk_photo, name="desk-photo"),
    path("requests/<int:pk>/<str:verb>/", views.desk_action, name="desk-action"),
    path("my-requests/", views.portal_requests, name="portal-requests"),
    path("my-requests/<int:pk>/withdraw/", views.portal_withdraw, name="portal-withdraw"),
]
