"""Pages of the cylinders app, mounted at /cylinders/."""

from django.urls import path

from gasworks.cylinders import views

app_name = "cylinders"
urlpatterns = [
    path("", views.cylinder_list, name="list"),
    path("new/", views.cylinder_create, name="create"),
    path("c/<str:code>/", views.cylinder_detail, name="detail"),
    path("labels.pdf", views.label_sheet, name="labels"),
    path("scan/<str:code>/", views.scan, name="scan"),
    path("fill/", views.fill, name="fill"),
    path("residual/", views.residual, name="residual"),
    path("inspection/", views.due, name="due"),
    path("inspection/<str:code>/<str:verb>/", views.inspection_action, name="inspection-action"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("customers/<int:customer_id>/return/", views.cylinder_return, name="return"),
    path("prices/", views.prices, name="prices"),
    path("my/", views.my_orders, name="my-orders"),
]
