"""Who may change what on an account: the role a person plays on it decides (DESIGN.md).

Seeing is `visible_to(user)` (accounts_crm/access.py); these answer the next question, for a
row the person already sees. Views show buttons from them, services enforce them.

- Admin may do everything; finance reads clients and changes none of them.
- The account's team lead and its NAM manage the account: master data, account team, plans.
- Everyone on the active account team works on it: sites, contacts, activities.
- Creating a client: admin, or a team lead for a team they lead. Deleting one: admin.
- Creating or changing a team: admin (everyone signed in may read teams).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts_crm.access import is_admin

if TYPE_CHECKING:
    from accounts_crm.access import AnyUser
    from clients.models import Client, Team


def account_roles(user: AnyUser, client: Client) -> frozenset[str]:
    """The user's active roles on this client's account team (one query, kept per request)."""
    if not user.is_authenticated:
        return frozenset()
    cache: dict[int, frozenset[str]] = user.__dict__.setdefault("_crm_account_roles", {})
    if client.pk not in cache:
        from clients.models import AccountTeamMember

        cache[client.pk] = frozenset(
            AccountTeamMember.objects.active()
            .filter(client=client, user=user)
            .values_list("role", flat=True)
        )
    return cache[client.pk]


def leads_team_of(user: AnyUser, client: Client) -> bool:
    return user.is_authenticated and client.team.lead_id == user.pk


def can_manage_client(user: AnyUser, client: Client) -> bool:
    return is_admin(user) or leads_team_of(user, client) or "nam" in account_roles(user, client)


def can_work_on_client(user: AnyUser, client: Client) -> bool:
    return is_admin(user) or leads_team_of(user, client) or bool(account_roles(user, client))


def can_create_client(user: AnyUser, team: Team | None = None) -> bool:
    if is_admin(user):
        return True
    if not user.is_authenticated:
        return False
    if team is None:
        return user.led_teams.exists()
    return team.lead_id == user.pk


def can_delete_client(user: AnyUser) -> bool:
    return is_admin(user)


def can_manage_teams(user: AnyUser) -> bool:
    """Teams decide who sees which clients, so only an admin creates or changes them."""
    return is_admin(user)
