import datetime

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from health_check.views import HealthCheckView

from accounts_crm import notification_api, views
from billing import api as billing_api
from clients import api as clients_api
from orders import api as orders_api
from projects import api as projects_api

health_checks = [
    "health_check.checks.Database",
    "health_check.checks.Cache",
    "accounts_crm.health.Broker",
    ("health_check.contrib.celery.Ping", {"timeout": datetime.timedelta(seconds=2)}),
    "accounts_crm.health.Beat",
]

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", include("clients.urls")),
    path("orders/", include("orders.urls")),
    path("orders/imports/", include("orders.import_urls")),
    path("projects/", include("projects.urls")),
    path("billing/", include("billing.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("my-book/", include("dashboards.nam_urls")),
    path("notifications/", include("accounts_crm.notification_urls")),
    path("api/v1/", include(clients_api.router.urls)),
    path("api/v1/", include(orders_api.router.urls)),
    path("api/v1/", include(projects_api.router.urls)),
    path("api/v1/", include(billing_api.router.urls)),
    path("api/v1/", include(notification_api.router.urls)),
    path("accounts/", include("django.contrib.auth.urls")),
    # Anyone may switch language, on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path(
        "health/", login_not_required(HealthCheckView.as_view(checks=health_checks)), name="health"
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

# API URLs that match no endpoint answer JSON in the API's error shape; pages keep the HTML 404.
handler404 = "accounts_crm.api.page_not_found"
