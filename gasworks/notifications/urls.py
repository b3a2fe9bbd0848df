"""Pages of the notifications app, mounted at /notifications/."""

from django.urls import path

from gasworks.notifications import views

app_name = "notifications"
urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/resend/", views.resend, name="resend"),
    path("channels/", views.channel_list, name="channels"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template-new"),
    path("templates/<int:pk>/", views.template_edit, name="template-edit"),
    path("interruptions/", views.interruption_list, name="interruptions"),
    path("interruptions/new/", views.interruption_create, name="interruption-new"),
    path("interruptions/<int:pk>/cancel/", views.interruption_cancel, name="interruption-cancel"),
    path("inbox/", views.inbox, name="inbox"),
    path("preferences/", views.my_preferences, name="my-preferences"),
    path("customers/<int:customer_pk>/preferences/", views.customer_preferences, name="customer-preferences"),
]
