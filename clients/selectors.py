from __future__ import annotations

from django.db.models import Q, QuerySet

from clients.models import AccountTeamMember, Client


def client_ids_in_scope(user: object) -> QuerySet:
    """Ids of the clients `user` works on: active account-team membership or a team they lead.

    Used as a subquery by `AccessQuerySet.visible_to`; evaluated on every request, so someone
    removed from an account team loses access on their next request.
    """
    on_account_team = AccountTeamMember.objects.active().filter(user=user).values("client_id")
    return Client.objects.filter(Q(pk__in=on_account_team) | Q(team__lead=user)).values("pk")
