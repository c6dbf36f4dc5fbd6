"""FilterSets shared by the HTML lists and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clients.filters import ClientScopeFilters, StableOrderingFilter
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    ordering = StableOrderingFilter(
        fields=(
            ("sku", "sku"),
            ("name", "name"),
            ("family", "family"),
            ("list_price", "list_price"),
        ),
        label=_("Sort by"),
    )

    class Meta:
        model = Product
        fields = ["q", "family", "kind", "is_active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value))


# Orders still to deliver (the NAM home's "open orders"): neither fulfilled nor cancelled.
OPEN_ORDER_STATUSES = ("draft", "submitted", "confirmed", "in_progress")
# Orders the client has committed to (the NAM home's and account health's "ordered").
CONFIRMED_ORDER_STATUSES = ("confirmed", "in_progress", "fulfilled")
# Opportunities still to win or lose (the team dashboard's pipeline).
OPEN_STAGES = (
    Opportunity.Stage.QUALIFICATION,
    Opportunity.Stage.PROPOSAL,
    Opportunity.Stage.NEGOTIATION,
)


class ContractFilter(ClientScopeFilters):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    ends_after = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="gte", label=_("Ends from")
    )
    ends_before = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="lte", label=_("Ends by")
    )
    ordering = StableOrderingFilter(
        fields=(("number", "number"), ("client__name", "client"), ("starts_on", "starts_on"),
                ("ends_on", "ends_on"), ("status", "status")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Contract
        fields = ["q", "client", "status", "auto_renew", "ends_after", "ends_before"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(number__icontains=value) | Q(client__name__icontains=value))


class ContractPriceFilter(django_filters.FilterSet):
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract"))
    product = django_filters.NumberFilter(field_name="product_id", label=_("Product"))
    valid_on = django_filters.DateFilter(method="filter_valid_on", label=_("Valid on"))

    class Meta:
        model = ContractPrice
        fields = ["contract", "product", "valid_on"]

    def filter_valid_on(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        return queryset.filter(valid_from__lte=value).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=value)
        )


class OrderFilter(ClientScopeFilters):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("Owner"))
    is_open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    is_confirmed = django_filters.BooleanFilter(method="filter_confirmed", label=_("Confirmed"))
    ordered_after = django_filters.DateFilter(
        field_name="order_date", lookup_expr="gte", label=_("From")
    )
    ordered_before = django_filters.DateFilter(
        field_name="order_date", lookup_expr="lte", label=_("To")
    )
    ordering = StableOrderingFilter(
        fields=(("number", "number"), ("client__name", "client"), ("order_date", "order_date"),
                ("status", "status"), ("net_total", "net_total")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Order
        fields = [
            "q",
            "client",
            "contract",
            "owner",
            "kind",
            "status",
            "is_open",
            "is_confirmed",
            "ordered_after",
            "ordered_before",
        ]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(number__icontains=value)
            | Q(client__name__icontains=value)
            | Q(client_po__icontains=value)
        )

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        open_q = Q(status__in=OPEN_ORDER_STATUSES)
        return queryset.filter(open_q if value else ~open_q)

    def filter_confirmed(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Confirmed, in progress or fulfilled: committed to, not a draft, not cancelled."""
        if value is None:
            return queryset
        confirmed = Q(status__in=CONFIRMED_ORDER_STATUSES)
        return queryset.filter(confirmed if value else ~confirmed)


class OrderLineFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id", label=_("Order"))
    product = django_filters.NumberFilter(field_name="product_id", label=_("Product"))

    class Meta:
        model = OrderLine
        fields = ["order", "product"]


class OpportunityFilter(ClientScopeFilters):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("Owner"))
    is_open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    closing_before = django_filters.DateFilter(
        field_name="expected_close", lookup_expr="lte", label=_("Closing by")
    )
    ordering = StableOrderingFilter(
        fields=(("title", "title"), ("client__name", "client"), ("value", "value"),
                ("expected_close", "expected_close"), ("stage", "stage")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Opportunity
        fields = ["q", "client", "owner", "stage", "is_open", "source", "closing_before"]

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        open_q = Q(stage__in=OPEN_STAGES)
        return queryset.filter(open_q if value else ~open_q)
