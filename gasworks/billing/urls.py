"""Pages of the billing app, mounted at /billing/."""

from django.urls import path

from gasworks.billing import views

app_name = "billing"
urlpatterns = [
    path("tariffs/", views.tariff_list, name="tariff-list"),
    path("tariffs/new/", views.tariff_create, name="tariff-create"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run-cancel"),
    path("bills/", views.bill_list, name="bill-list"),
    path("bills/<int:pk>/", views.bill_detail, name="bill-detail"),
    path("bills/<int:pk>/pdf/", views.bill_pdf, name="bill-pdf"),
    path("reviews/", views.review_list, name="review-list"),
    path("reviews/<int:pk>/<str:verb>/", views.review_decide, name="review-decide"),
    path("overdue/", views.overdue_list, name="overdue-list"),
    path("adjustments/", views.adjustment_list, name="adjustment-list"),
    path("adjustments/new/<int:customer_pk>/", views.adjustment_create, name="adjustment-create"),
    path("adjustments/<int:pk>/<str:verb>/", views.adjustment_decide, name="adjustment-decide"),
    path("prepaid/", views.prepaid_list, name="prepaid-list"),
    path("ledger/<int:customer_pk>/", views.ledger_page, name="ledger"),
]
