from django.urls import path  # noqa: F401

app_name = "order_imports"

urlpatterns: list = []
