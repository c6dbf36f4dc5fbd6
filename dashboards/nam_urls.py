from django.urls import path

from dashboards import nam_views

app_name = "nam"

urlpatterns = [
    path("", nam_views.home, name="home"),
]
