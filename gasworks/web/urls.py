from django.urls import include, path

from gasworks.web import views

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/register/", views.register, name="register"),
    path("accounts/profile/", views.profile, name="profile"),
    path("portal/", views.portal, name="portal"),
    path("customers/", views.customer_list, name="customer-list"),
    path("customers/new/", views.customer_create, name="customer-create"),
    path("customers/<int:pk>/", views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer-edit"),
    path("customers/<int:pk>/transfer/", views.customer_transfer, name="customer-transfer"),
    path("customers/<int:pk>/<str:verb>/", views.customer_status, name="customer-status"),
    path("users/", views.user_list, name="user-list"),
    path("users/new/", views.user_create, name="user-create"),
    path("users/<int:pk>/", views.user_edit, name="user-edit"),
    path("system/parameters/", views.parameter_list, name="parameter-list"),
    path("system/audit/", views.audit_list, name="audit-list"),
]
