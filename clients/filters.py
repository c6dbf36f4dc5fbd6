"""FilterSets shared by the HTML lists and the API (one definition, same parameters)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from accounts_crm.access import AnyUser
from accounts_crm.pages import id_dropdowns
from clients.models import (
    AccountPlan,
    AccountTeamMember,
    Activity,
    Client,
    Contact,
    Region,
    Site,
    Team,
)


class UTCIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with an offset, compared in UTC.

    Python accepts offsets up to 24 hours, PostgreSQL only up to 16: "2026-01-01T00:00+20:00"
    would be a database error instead of a valid moment.
    """

    def to_python(self, value: Any) -> datetime.datetime | None:
        moment = super().to_python(value)
        if moment is None or timezone.is_naive(moment):
            return moment
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:  # year 1 minus an offset
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts by the chosen columns, then by id, so that rows that tie keep their page."""

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Team"))
    nam = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(account_memberships__role="nam").distinct(),
        method="filter_nam",
        label=_("NAM"),
    )
    industry = django_filters.CharFilter(lookup_expr="iexact", label=_("Industry"))
    tier = django_filters.ChoiceFilter(choices=Client.Tier.choices, label=_("Tier"))
    status = django_filters.ChoiceFilter(choices=Client.Status.choices, label=_("Status"))
    scope = django_filters.ChoiceFilter(choices=Client.Scope.choices, label=_("Scope"))
    region = django_filters.ChoiceFilter(
        choices=Region.choices, method="filter_region", label=_("Region")
    )
    ordering = StableOrderingFilter(
        fields=(
            ("name", "name"),
            ("team__name", "team"),
            ("nam_name", "nam"),
            ("industry", "industry"),
            ("tier", "tier"),
            ("status", "status"),
            ("city", "city"),
        ),
        label=_("Sort by"),
    )

    class Meta:
        model = Client
        fields = ["q", "team", "nam", "industry", "tier", "status", "scope", "region"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Name, legal name, VAT number or city (billing address or any site)."""
        value = value.strip()
        if not value:
            return queryset
        in_site_city = Site.objects.filter(client=OuterRef("pk"), city__icontains=value)
        return queryset.filter(
            Q(name__icontains=value)
            | Q(legal_name__icontains=value)
            | Q(vat_number__icontains=value.replace(" ", "").upper().removeprefix("IT"))
            | Q(city__icontains=value)
            | Exists(in_site_city)
        )

    def filter_nam(self, queryset: QuerySet, name: str, value: User | None) -> QuerySet:
        return queryset.filter(nam_id=value.pk) if value else queryset

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Billing address in the region, or a site there."""
        return queryset.filter(in_region(value)) if value else queryset


def active_nam(field: str = "user_id", client: str = "pk") -> Subquery:
    """A field of the client's NAM membership today (`client` points at the client's id from
    the outer query): its active NAM membership, the first by id while two overlap in a
    handover. The team dashboard groups its per-NAM rows by it and the lists' `nam` filters
    select by it, so a NAM's figure and the list behind it count the same rows."""
    return Subquery(
        AccountTeamMember.objects.active()
        .filter(client=OuterRef(client), role=AccountTeamMember.Role.NAM)
        .order_by("pk")
        .values(field)[:1]
    )


def active_nam_id(client: str = "pk") -> Subquery:
    """The user id of the client's NAM today (see `active_nam`)."""
    return active_nam("user_id", client)


def in_region(region: str) -> Q:
    """A client in `region`: its billing address there, or a site there (ClientFilter's rule)."""
    return Q(region=region) | Exists(Site.objects.filter(client=OuterRef("pk"), region=region))


def client_scope(clients: QuerySet[Client], **scope: object) -> QuerySet[Client]:
    """The clients of `clients` that the scope picks: `team` (id), `nam` (the NAM's user id,
    see `active_nam_id`), `region`, `industry` (case-insensitive), `member` (a user on the
    account team now). The one meaning of these words for the client list, the team dashboard's
    filters and the `ClientScopeFilters` of the lists behind its figures."""
    if scope.get("team"):
        clients = clients.filter(team_id=scope["team"])
    if scope.get("nam"):
        # The EXISTS narrows to the NAM's clients through the (user, client) index; the first
        # active NAM is then read for those only (it differs only while two NAMs overlap).
        theirs = AccountTeamMember.objects.active().filter(
            client=OuterRef("pk"), role=AccountTeamMember.Role.NAM, user_id=scope["nam"]
        )
        clients = (
            clients.filter(Exists(theirs))
            .alias(scope_nam_id=active_nam_id())
            .filter(scope_nam_id=scope["nam"])
        )
    if scope.get("region"):
        clients = clients.filter(in_region(str(scope["region"])))
    if scope.get("industry"):
        clients = clients.filter(industry__iexact=scope["industry"])
    if scope.get("member"):
        member = AccountTeamMember.objects.active().filter(
            client=OuterRef("pk"), user_id=scope["member"]
        )
        clients = clients.filter(Exists(member))
    return clients


class ClientScopeFilters(django_filters.FilterSet):
    """Filters on the client of a row, with ClientFilter's names and meanings (`client_scope`):
    the team dashboard's figures link to lists filtered the way the dashboard was, and a NAM's
    row to the NAM's rows. `mine` is the clients on whose account team the person is now (the
    NAM home's book). Set `client_path` to the rows' client (`client`, `project__client`).

    Ids, not model choices, as the other id filters of the lists: an unknown or foreign id
    filters to nothing in the API; the HTML form offers dropdowns (`client_scope_choices`)."""

    client_path = "client"

    team = django_filters.NumberFilter(method="filter_client_scope", label=_("Team"))
    nam = django_filters.NumberFilter(method="filter_client_scope", label=_("NAM"))
    region = django_filters.ChoiceFilter(
        choices=Region.choices, method="filter_client_scope", label=_("Region")
    )
    industry = django_filters.CharFilter(method="filter_client_scope", label=_("Industry"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("My accounts"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # In the form after the list's own filters (search first), the sort order last.
        for name in ("team", "nam", "region", "industry", "mine", "ordering"):
            if name in self.filters:
                self.filters[name] = self.filters.pop(name)

    def filter_client_scope(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        if value in (None, ""):
            return queryset
        clients = client_scope(Client.objects.all(), **{name: value})
        return queryset.filter(**{f"{self.client_path}__in": clients.values("pk")})

    def filter_mine(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        user = getattr(self.request, "user", None)
        if value is None or user is None or not user.is_authenticated:
            return queryset
        mine = client_scope(Client.objects.all(), member=user.pk).values("pk")
        path = f"{self.client_path}__in"
        return queryset.filter(**{path: mine}) if value else queryset.exclude(**{path: mine})


def client_scope_choices(*, user: AnyUser) -> dict[str, list[tuple[int, str]]]:
    """The `team` and `nam` dropdowns of an HTML list: the teams and today's NAMs of the
    clients the person sees (one query, whatever the size of the book)."""
    rows = (
        Client.objects.visible_to(user)
        .annotate(
            nam_id=active_nam_id(),
            nam_first=active_nam("user__first_name"),
            nam_last=active_nam("user__last_name"),
            nam_username=active_nam("user__username"),
        )
        .order_by()
        .values_list("team_id", "team__name", "nam_id", "nam_first", "nam_last", "nam_username")
        .distinct()
    )
    teams: dict[int, str] = {}
    nams: dict[int, tuple[str, str, str]] = {}
    for team_id, team_name, nam_id, first, last, username in rows:
        teams[team_id] = team_name
        if nam_id is not None:
            nams[nam_id] = (last, first, username)
    return {
        "team": sorted(teams.items(), key=lambda t: (t[1], t[0])),
        "nam": [
            (pk, f"{first} {last}".strip() or username)
            for pk, (last, first, username) in sorted(nams.items(), key=lambda n: (n[1], n[0]))
        ],
    }


def client_scope_dropdowns(
    form: Any, *, user: AnyUser, names: tuple[str, ...] = ("team", "nam")
) -> None:
    """Turn the `team` and `nam` filters of an HTML list's form into dropdowns of what the
    person sees (`client_scope_choices`); an id outside them is a form error."""
    choices = client_scope_choices(user=user)
    id_dropdowns(form, {name: choices[name] for name in names if name in form.fields})


class ClientChildFilter(django_filters.FilterSet):
    """Base: every row under a client can be filtered by its client."""

    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))


class SiteFilter(ClientChildFilter):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Site
        fields = ["client", "kind", "region", "country"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value))


class ContactFilter(ClientChildFilter):
    # Ids, not choices: a choice filter would tell an id that exists elsewhere from a missing one.
    site = django_filters.NumberFilter(field_name="site_id", label=_("Site"))
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = Contact
        fields = ["client", "site", "buying_role", "relationship_strength", "is_active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(job_title__icontains=value)
        )


class AccountTeamMemberFilter(ClientChildFilter):
    user = django_filters.NumberFilter(field_name="user_id", label=_("Person"))

    class Meta:
        model = AccountTeamMember
        fields = ["client", "user", "role", "work_base"]


class ActivityFilter(ClientChildFilter):
    author = django_filters.NumberFilter(field_name="author_id", label=_("Author"))
    occurred_after = UTCIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UTCIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    next_step_due_before = django_filters.DateFilter(field_name="next_step_due", lookup_expr="lte")

    class Meta:
        model = Activity
        fields = ["client", "kind", "author", "next_step_done"]


class AccountPlanFilter(ClientChildFilter):
    class Meta:
        model = AccountPlan
        fields = ["client", "year"]


class TeamFilter(django_filters.FilterSet):
    class Meta:
        model = Team
        fields = ["lead"]
