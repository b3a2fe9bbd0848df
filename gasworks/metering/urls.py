"""Pages of the metering app, mounted at /metering/."""

from django.urls import path

from gasworks.metering import views

app_name = "metering"
urlpatterns = [
    path("meters/", views.meter_list, name="meter-list"),
    path("meters/new/", views.meter_create, name="meter-create"),
    path("meters/<int:pk>/", views.meter_detail, name="meter-detail"),
    path("meters/<int:pk>/replace/", views.meter_replace, name="meter-replace"),
    path("meters/<int:pk>/remove/", views.meter_remove, name="meter-remove"),
    path("meters/<int:pk>/device-key/", views.meter_device_key, name="meter-device-key"),
    path("readings/new/", views.reading_create, name="reading-create"),
    path("readings/export/", views.reading_export, name="reading-export"),
    path("readings/import/", views.reading_import, name="reading-import"),
    path("readings/import/<int:pk>/", views.reading_import_preview, name="reading-import-preview"),
    path("readings/<int:pk>/photo/", views.reading_photo, name="reading-photo"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/<int:pk>/<str:decision>/", views.review_decide, name="review-decide"),
    path("routes/", views.route_list, name="route-list"),
    path("routes/new/", views.route_create, name="route-create"),
    path("routes/<int:pk>/", views.route_walk, name="route-walk"),
    path("routes/<int:pk>/edit/", views.route_edit, name="route-edit"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/close/", views.alert_close, name="alert-close"),
    path("dead-letters/", views.dead_letter_list, name="dead-letter-list"),
    path("portal/reading/", views.portal_reading, name="portal-reading"),
]
