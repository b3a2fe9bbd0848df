"""Pages of the payments app, mounted at /payments/."""

from django.urls import path

from gasworks.payments import views

app_name = "payments"
urlpatterns = [
    path("all/", views.payment_list, name="list"),
    path("counter/", views.counter, name="counter"),
    path("counter/<int:pk>/", views.counter_customer, name="counter-customer"),
    path("<int:pk>/", views.payment_detail, name="detail"),
    path("<int:pk>/receipt.pdf", views.payment_receipt, name="receipt"),
    path("<int:pk>/refund/", views.refund_create, name="refund"),
    path("refunds/", views.refund_list, name="refunds"),
    path("refunds/<int:pk>/retry/", views.refund_retry, name="refund-retry"),
    path("refunds/<int:pk>/<slug:verdict>/", views.refund_decide, name="refund-decide"),
    path("shift/", views.shift_mine, name="shift"),
    path("shifts/", views.shift_list, name="shifts"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift-detail"),
    path("cards/customer/<int:customer_pk>/", views.card_list, name="cards"),
    path("cards/<int:pk>/topup/", views.card_topup, name="card-topup"),
    path("cards/<int:pk>/rewrite/", views.card_rewrite, name="card-rewrite"),
    path("cards/<int:pk>/replace/", views.card_replace, name="card-replace"),
    path("my/", views.my_payments, name="my"),
    path("pay/", views.pay_bill, name="pay-bill"),
    path("order/<str:order_no>/qr/", views.qr_pay, name="qr-pay"),
    path("order/<str:order_no>/status/", views.order_status, name="order-status"),
    path("sandbox/<str:order_no>/", views.sandbox_pay, name="sandbox-pay"),
]
