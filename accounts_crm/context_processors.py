from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import Role, roles_of

EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class NavEntry:
    """One navbar entry: shown to people holding one of `roles`, once its URL exists."""

    label: str | Promise
    url_name: str
    roles: frozenset[Role] = EVERYONE


# Order is the navbar's order. Entries whose URL does not resolve yet are skipped, so an app
# gets its navbar entry by mounting a URL with this name; nothing else has to change here.
NAV_ENTRIES: tuple[NavEntry, ...] = (
    NavEntry(_("Home"), "home"),
    NavEntry(_("Clients"), "clients:client_list"),
    NavEntry(_("My accounts"), "clients:my_accounts", frozenset({Role.ACCOUNT_STAFF})),
    NavEntry(_("My team's accounts"), "clients:team_accounts", frozenset({Role.TEAM_LEAD})),
    NavEntry(_("Teams"), "clients:team_list", frozenset({Role.TEAM_LEAD, Role.ADMIN})),
    NavEntry(
        _("Orders"),
        "orders:order_list",
        frozenset({Role.ACCOUNT_STAFF, Role.TEAM_LEAD, Role.FINANCE, Role.ADMIN}),
    ),
    NavEntry(
        _("Projects"),
        "projects:project_list",
        frozenset({Role.ACCOUNT_STAFF, Role.TEAM_LEAD, Role.ADMIN}),
    ),
    NavEntry(_("Billing"), "billing:invoice_list"),
    # The finance dashboard's home (a team lead who is not finance is shown the team dashboard
    # there too, but has the entry below) and the team lead dashboard: each entry for whom its
    # view lets in (dashboards/views.py; admin is always let in, superusers are admin).
    NavEntry(_("Dashboards"), "dashboards:index", frozenset({Role.FINANCE, Role.ADMIN})),
    NavEntry(_("Team dashboard"), "dashboards:team", frozenset({Role.TEAM_LEAD, Role.ADMIN})),
    NavEntry(_("API docs"), "api-docs"),
    NavEntry(_("Admin"), "admin:index", frozenset({Role.ADMIN})),
    NavEntry(_("Health"), "health", frozenset({Role.ADMIN})),
)


@dataclass(frozen=True)
class NavLink:
    label: str | Promise
    url: str
    active: bool


def nav_links(request: HttpRequest, roles: frozenset[Role]) -> list[NavLink]:
    links = []
    for entry in NAV_ENTRIES:
        if not roles & entry.roles:
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        links.append(NavLink(entry.label, url, active=False))
    # The longest matching URL is the active entry: on /clients/mine/ that is "My accounts",
    # not "Clients" too. "/" would otherwise be the prefix of every page.
    matches = [
        link.url
        for link in links
        if request.path == link.url or (link.url != "/" and request.path.startswith(link.url))
    ]
    current = max(matches, key=len, default=None)
    return [NavLink(link.label, link.url, link.url == current) for link in links]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The user's roles and navbar, for templates to show only what the role may use."""
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else frozenset()
    return {
        "user_roles": {role.value for role in roles},
        "user_role_labels": [role.label for role in Role if role in roles],
        "Role": Role,
        "nav_links": nav_links(request, roles),
    }


class NotificationBell:
    """The navbar bell's unread count: one query, run only if a template shows it (an htmx
    partial does not) and only for a signed-in person."""

    CAP = 99

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        from accounts_crm.notifications import notification_unread_count

        return notification_unread_count(user=self._user)

    @property
    def label(self) -> str:
        return f"{self.CAP}+" if self.count > self.CAP else str(self.count)


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_bell": NotificationBell(user)}
