"""Pages of the safety app, mounted at /safety/."""

from django.urls import path

from gasworks.safety import views

app_name = "safety"
urlpatterns = [
    path("inspections/", views.inspection_list, name="inspection-list"),
    path("inspections/new/", views.inspection_create, name="inspection-create"),
    path("inspections/plan/", views.inspection_plan, name="inspection-plan"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection-detail"),
    path("inspections/<int:pk>/<str:verb>/", views.inspection_action, name="inspection-action"),
    path("hazards/", views.hazard_list, name="hazard-list"),
    path("hazards/overdue/", views.hazard_overdue, name="hazard-overdue"),
    path("hazards/new/", views.hazard_create, name="hazard-create"),
    path("hazards/<int:pk>/", views.hazard_detail, name="hazard-detail"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("hazards/<int:pk>/notice.pdf", views.hazard_notice, name="hazard-notice"),
    path("hazards/<int:pk>/<str:verb>/", views.hazard_action, name="hazard-action"),
    path("emergencies/", views.emergency_board, name="emergency-board"),
    path("emergencies/new/", views.emergency_create, name="emergency-create"),
    path("emergencies/<int:pk>/", views.emergency_detail, name="emergency-detail"),
    path("emergencies/<int:pk>/<str:verb>/", views.emergency_action, name="emergency-action"),
    path("portal/hazards/", views.portal_hazards, name="portal-hazards"),
    path("portal/emergency/", views.portal_emergency, name="portal-emergency"),
]
urlpatterns += [
    path("portal/inspections/", views.portal_inspections, name="portal-inspections"),
    path("crews/", views.crew_list, name="crew-list"),
    path("crews/new/", views.crew_create, name="crew-create"),
    path("crews/<int:pk>/", views.crew_edit, name="crew-edit"),
    path("areas/", views.area_list, name="area-list"),
    path("areas/new/", views.area_create, name="area-create"),
    path("areas/<int:pk>/", views.area_edit, name="area-edit"),
    path("areas/<int:pk>/delete/", views.area_delete, name="area-delete"),
    path("checklists/", views.checklist_list, name="checklist-list"),
    path("checklists/new/", views.checklist_new, name="checklist-new"),
    path("checklists/<int:pk>/", views.checklist_detail, name="checklist-detail"),
    path("checklists/<int:pk>/<str:verb>/", views.checklist_action, name="checklist-action"),
]
