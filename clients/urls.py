from django.urls import include, path

app_name = "clients"

urlpatterns = [
    # Import of clients, sites and contacts from CSV/XLSX (clients/import_urls.py).
    path("import/", include("clients.import_urls")),
]
