"""FilterSets shared by the HTML lists and the API (one definition, same parameters)."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

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
        if not value:
            return queryset
        site_there = Site.objects.filter(client=OuterRef("pk"), region=value)
        return queryset.filter(Q(region=value) | Exists(site_there))


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
