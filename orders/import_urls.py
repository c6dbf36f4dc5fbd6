from django.urls import path

from orders import import_views

# Included at /orders/imports/ (accounts_crm/urls.py): the catalogue and contract prices.
app_name = "order_imports"

urlpatterns = [
    path("", import_views.import_upload, name="import_upload"),
    path("<int:pk>/", import_views.import_job, name="import_preview"),
    path("<int:pk>/status/", import_views.import_job, {"partial": True}, name="import_status"),
    path("<int:pk>/apply/", import_views.import_apply, name="import_apply"),
    path("template/<str:kind>.csv", import_views.import_template, name="import_template"),
]
