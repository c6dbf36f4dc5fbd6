from django.urls import include, path

from clients import views

app_name = "clients"


def _child_urls(kind: str) -> list:
    """New / edit / delete pages of one kind of row under a client (sites, contacts, ...)."""
    name = views.CHILDREN[kind].name
    return [
        path(f"<int:pk>/{kind}/new/", views.child_edit, {"kind": kind}, name=f"{name}_create"),
        path(
            f"<int:pk>/{kind}/<int:child_pk>/edit/",
            views.child_edit,
            {"kind": kind},
            name=f"{name}_edit",
        ),
        path(
            f"<int:pk>/{kind}/<int:child_pk>/delete/",
            views.child_delete,
            {"kind": kind},
            name=f"{name}_delete",
        ),
    ]


urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("mine/", views.my_accounts, name="my_accounts"),
    path("team/", views.team_accounts, name="team_accounts"),
    path("new/", views.client_create, name="client_create"),
    path("<int:pk>/", views.client_detail, name="client_detail"),
    path("<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("<int:pk>/delete/", views.client_delete, name="client_delete"),
    path("<int:pk>/activities/log/", views.activity_log, name="activity_log"),
    path("<int:pk>/account-team/new/", views.member_add, name="member_add"),
    path("<int:pk>/account-team/<int:member_pk>/end/", views.member_end, name="member_end"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_edit, name="team_create"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
    *(url for kind in views.CHILDREN for url in _child_urls(kind)),
    # Import of clients, sites and contacts from CSV/XLSX (clients/import_urls.py).
    path("import/", include("clients.import_urls")),
]
