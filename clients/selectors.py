"""Reads of clients and what hangs off them. Every one starts from `visible_to(user)`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat
from django.shortcuts import get_object_or_404
from pghistory.models import Events

from accounts_crm.access import AnyUser, get_visible_or_404
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team


def client_ids_in_scope(user: AnyUser) -> QuerySet:
    """Ids of the clients `user` works on: active account-team membership or a team they lead.

    Used as a subquery by `AccessQuerySet.visible_to`; evaluated on every request, so someone
    removed from an account team loses access on their next request.
    """
    on_account_team = AccountTeamMember.objects.active().filter(user=user).values("client_id")
    return Client.objects.filter(Q(pk__in=on_account_team) | Q(team__lead=user)).values("pk")


def _active_nam() -> QuerySet:
    return AccountTeamMember.objects.active().filter(
        client=OuterRef("pk"), role=AccountTeamMember.Role.NAM
    )


def client_list(*, user: AnyUser) -> QuerySet[Client]:
    """Visible clients with what a list row shows: NAM, team, group head. Three joins, no N+1."""
    nam = _active_nam()
    return (
        Client.objects.visible_to(user)
        .select_related("team", "parent")
        .annotate(
            nam_id=Subquery(nam.values("user_id")[:1]),
            nam_name=Subquery(
                nam.annotate(
                    full_name=Concat("user__first_name", Value(" "), "user__last_name")
                ).values("full_name")[:1]
            ),
            # Only the subsidiaries the user may see: totals never count hidden rows.
            subsidiary_count=Coalesce(
                Subquery(
                    Client.objects.visible_to(user)
                    .filter(parent=OuterRef("pk"))
                    .order_by()
                    .values("parent")
                    .annotate(count=Count("pk"))
                    .values("count")
                ),
                0,
            ),
        )
        .order_by("name", "pk")
    )


def my_accounts(*, user: AnyUser) -> QuerySet[Client]:
    """The clients on whose account team the user is now."""
    return client_list(user=user).filter(
        Exists(AccountTeamMember.objects.active().filter(client=OuterRef("pk"), user=user))
    )


def team_accounts(*, user: AnyUser) -> QuerySet[Client]:
    """The clients of the teams the user leads."""
    return client_list(user=user).filter(team__lead=user)


@dataclass
class GroupNode:
    client: Client
    children: list[GroupNode] = field(default_factory=list)


GROUP_UP_SQL = """
WITH RECURSIVE up(id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM clients_client WHERE id = %s
    UNION ALL
    SELECT c.id, c.parent_id, up.depth + 1 FROM clients_client c JOIN up ON c.id = up.parent_id
)
SELECT id FROM up ORDER BY depth
"""

GROUP_DOWN_SQL = """
WITH RECURSIVE down(id) AS (
    SELECT id FROM clients_client WHERE id = %s
    UNION ALL
    SELECT c.id FROM clients_client c JOIN down ON c.parent_id = down.id
)
SELECT id FROM down
"""


def client_group_tree(*, user: AnyUser, client: Client) -> GroupNode:
    """The client's group from its highest visible ancestor down, as far as the user may see.

    Three queries whatever the depth: the ancestor chain, which of them are visible, the group.
    Companies the user may not see are left out (with their branch).
    """
    with connection.cursor() as cursor:
        cursor.execute(GROUP_UP_SQL, [client.pk])
        chain = [row[0] for row in cursor.fetchall()]
    visible = set(Client.objects.visible_to(user).filter(pk__in=chain).values_list("pk", flat=True))
    head_id = client.pk
    for ancestor_id in chain[1:]:
        if ancestor_id not in visible:
            break
        head_id = ancestor_id
    companies = (
        Client.objects.visible_to(user)
        .filter(pk__in=RawSQL(GROUP_DOWN_SQL, [head_id]))  # noqa: S611 - constant SQL
        .only("pk", "name", "parent_id")
    )
    nodes = {company.pk: GroupNode(company) for company in companies}
    for node in nodes.values():
        if node.client.pk != head_id and node.client.parent_id in nodes:
            nodes[node.client.parent_id].children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda child: child.client.name)
    return nodes[head_id]


def client_detail(*, user: AnyUser, pk: int) -> Client:
    """One visible client with everything its page shows, in a fixed number of queries."""
    queryset = client_list(user=user).prefetch_related(
        Prefetch("sites", queryset=Site.objects.order_by("kind", "name")),
        Prefetch("contacts", queryset=Contact.objects.select_related("site", "reports_to")),
        Prefetch(
            "account_team",
            queryset=AccountTeamMember.objects.active().select_related("user").order_by("role"),
            to_attr="active_team",
        ),
        Prefetch("account_plans", queryset=AccountPlan.objects.order_by("-year")),
        Prefetch("subsidiaries", queryset=Client.objects.visible_to(user).order_by("name")),
    )
    return get_visible_or_404(queryset, user, pk=pk)


def client_history(*, client: Client) -> QuerySet:
    """Audit events of the client and of what hangs off it (sites, contacts, account team,
    activities, plans), newest first. Events of other companies that merely point at this one
    (a subsidiary's change of parent) are left out: they belong to that company's history."""
    return (
        Events.objects.references(client)
        .filter(~Q(pgh_obj_model="clients.Client") | Q(pgh_obj_id=str(client.pk)))
        .order_by("-pgh_created_at", "-pgh_id")
    )


def activity_timeline(*, user: AnyUser, client: Client, limit: int = 50) -> QuerySet[Activity]:
    return (
        Activity.objects.visible_to(user)
        .filter(client=client)
        .select_related("author")
        .prefetch_related("contacts")
        .order_by("-occurred_at")[:limit]
    )


@dataclass
class StakeholderNode:
    contact: Contact
    reports: list[StakeholderNode] = field(default_factory=list)


def stakeholder_map(*, user: AnyUser, client: Client) -> list[StakeholderNode]:
    """The client's contacts as org-chart trees (roots are people who report to no contact)."""
    contacts = list(
        Contact.objects.visible_to(user)
        .filter(client=client, is_active=True)
        .order_by("last_name", "first_name")
    )
    nodes = {contact.pk: StakeholderNode(contact) for contact in contacts}
    roots = []
    for contact in contacts:
        if contact.reports_to_id in nodes:
            nodes[contact.reports_to_id].reports.append(nodes[contact.pk])
        else:
            roots.append(nodes[contact.pk])
    return roots


def child_list(model: Any, *, user: AnyUser) -> QuerySet:
    """Visible sites, contacts, activities, plans or account-team members, with their client."""
    return model.objects.visible_to(user).select_related("client")


def team_list(*, user: AnyUser) -> QuerySet[Team]:
    """Teams are not secret: everyone signed in sees names, leads and member counts."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.select_related("lead").annotate(member_count=Count("members"))


def team_book(*, user: AnyUser) -> QuerySet[Team]:
    """Teams with how many of their clients `user` may see; hidden clients are never counted.

    A subquery rather than a join: joining clients and members would multiply both counts.
    """
    visible_clients = (
        Client.objects.visible_to(user)
        .filter(team=OuterRef("pk"))
        .order_by()
        .values("team")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        team_list(user=user)
        .annotate(client_count=Coalesce(Subquery(visible_clients), 0))
        .order_by("name")
    )


def team_detail(*, user: AnyUser, pk: int) -> Team:
    """One team with its lead and members (by name); 404 when it does not exist."""
    members = User.objects.order_by("last_name", "first_name", "username")
    return get_object_or_404(
        team_list(user=user).prefetch_related(Prefetch("members", queryset=members)), pk=pk
    )


def team_clients(*, user: AnyUser, team: Team) -> QuerySet[Client]:
    """The team's clients that `user` may see, with what a list row shows."""
    return client_list(user=user).filter(team=team)


def active_nams(client_ids: Iterable[int], today: datetime.date) -> dict[int, set[int]]:
    """Client id -> user ids of its NAMs on `today` (one query). For background jobs that tell
    the NAM; no access rule applies, the job decides whom it reads for."""
    nams: dict[int, set[int]] = defaultdict(set)
    rows = (
        AccountTeamMember.objects.active(today)
        .filter(role=AccountTeamMember.Role.NAM, client_id__in=set(client_ids))
        .values_list("client_id", "user_id")
    )
    for client_id, user_id in rows:
        nams[client_id].add(user_id)
    return nams
