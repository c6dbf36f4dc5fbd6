from django.urls import path

from accounts_crm import notification_views as views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("menu/", views.notification_menu, name="menu"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("preferences/", views.notification_preferences, name="preferences"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.notification_read, name="read"),
]
