from django.urls import path

from clients import import_views

# Included at /clients/import/ in the "clients" namespace (clients/urls.py).
urlpatterns = [
    path("", import_views.import_upload, name="import_upload"),
    path("<int:pk>/", import_views.import_job, name="import_preview"),
    path("<int:pk>/status/", import_views.import_job, {"partial": True}, name="import_status"),
    path("<int:pk>/apply/", import_views.import_apply, name="import_apply"),
    path("template/<str:kind>.csv", import_views.import_template, name="import_template"),
]
