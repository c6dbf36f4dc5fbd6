from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/<int:client_pk>/", views.order_create, name="order_create"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("<int:pk>/lines/add/", views.line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/edit/", views.line_edit, name="line_edit"),
    path("<int:pk>/lines/<int:line_pk>/delete/", views.line_delete, name="line_delete"),
    path("<int:pk>/lines/<int:line_pk>/delivery/", views.line_delivery, name="line_delivery"),
    path("<int:pk>/transition/", views.order_transition, name="order_transition"),
    path("<int:pk>/reorder/", views.order_reorder, name="order_reorder"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/new/<int:client_pk>/", views.contract_edit, name="contract_create"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/prices/new/", views.contract_price_edit, name="price_create"),
    path(
        "contracts/<int:pk>/prices/<int:price_pk>/edit/",
        views.contract_price_edit,
        name="price_edit",
    ),
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/new/<int:client_pk>/", views.opportunity_edit, name="opportunity_create"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/win/", views.opportunity_win, name="opportunity_win"),
    path(
        "suggestions/<int:client_pk>/opportunity/",
        views.suggestion_opportunity,
        name="suggestion_opportunity",
    ),
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_edit, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
]
