"""Reads of contracts, orders and opportunities; every one starts from `visible_to(user)`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import (
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts_crm.access import AnyUser, get_visible_or_404
from clients.models import Client
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product

MONEY = DecimalField(max_digits=14, decimal_places=2)


def line_net_expression() -> F:
    """A line's net amount in queries over order lines: the stored `OrderLine.net` (the
    database computes it with `orders.models.line_net`, the rounding rule of `net_amount`)."""
    return F("net")


def _order_net_total() -> Subquery:
    lines = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(line_net_expression()))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY)


def order_list(*, user: AnyUser) -> QuerySet[Order]:
    """Visible orders with client, contract, owner and their net total, in one query."""
    return (
        Order.objects.visible_to(user)
        .select_related("client", "contract", "owner")
        .annotate(net_total=_order_net_total())
        .order_by("-order_date", "-number")
    )


def order_detail(*, user: AnyUser, pk: int) -> Order:
    queryset = order_list(user=user).prefetch_related("lines__product", "status_changes__by")
    return get_visible_or_404(queryset, user, pk=pk)


def order_line_list(*, user: AnyUser) -> QuerySet[OrderLine]:
    """Lines visible with their order's client, with what the API and the policy checks read
    (the order's client and its team, the product) in the same query."""
    return OrderLine.objects.visible_to(user).select_related("order__client__team", "product")


def contract_list(*, user: AnyUser) -> QuerySet[Contract]:
    return (
        Contract.objects.visible_to(user).select_related("client").order_by("-starts_on", "number")
    )


def contract_detail(*, user: AnyUser, pk: int) -> Contract:
    queryset = contract_list(user=user).prefetch_related("prices__product")
    return get_visible_or_404(queryset, user, pk=pk)


def contract_price_list(*, user: AnyUser) -> QuerySet[ContractPrice]:
    return ContractPrice.objects.visible_to(user).select_related("contract__client", "product")


def opportunity_list(*, user: AnyUser) -> QuerySet[Opportunity]:
    return (
        Opportunity.objects.visible_to(user)
        .select_related("client", "owner", "order")
        .prefetch_related("products")
    )


def product_list(*, user: AnyUser) -> QuerySet[Product]:
    """The catalogue: everyone signed in reads it."""
    if not user.is_authenticated:
        return Product.objects.none()
    return Product.objects.all()


def product_contract_prices(*, user: AnyUser, product: Product) -> QuerySet[ContractPrice]:
    """The agreed prices of `product` on the contracts the person sees, newest first."""
    return (
        contract_price_list(user=user)
        .filter(product=product)
        .order_by("-valid_from", "contract__number", "pk")
    )


# Choices of the HTML lists' id filters: dropdowns instead of typed ids -----------------------

Choices = list[tuple[int, str]]


def _selected(selected: Mapping[str, object], name: str) -> Q:
    """Also offer the value already chosen (a link from a client page with no rows yet)."""
    value = str(selected.get(name) or "")
    return Q(pk=int(value)) if value.isdigit() and len(value) < 10 else Q(pk__in=[])


def list_filter_choices(
    *,
    user: AnyUser,
    model: type[Order] | type[Contract] | type[Opportunity],
    selected: Mapping[str, object] | None = None,
) -> dict[str, Choices]:
    """The id filters of the HTML list of `model` as choices: the clients (and contracts, and
    owners) of the rows the person sees, plus what `selected` already names if they see it. One
    query per filter, whatever the size of the book; the API keeps taking plain ids."""
    selected = selected or {}
    rows = model.objects.visible_to(user)
    clients = Client.objects.visible_to(user).filter(
        Q(pk__in=rows.values("client_id")) | _selected(selected, "client")
    )
    choices = {"client": list(clients.order_by("name", "pk").values_list("pk", "name"))}
    if model is Order:
        contracts = Contract.objects.visible_to(user).filter(
            Q(pk__in=rows.values("contract_id")) | _selected(selected, "contract")
        )
        choices["contract"] = [
            (pk, f"{number} ({client})")
            for pk, number, client in contracts.order_by("number", "pk").values_list(
                "pk", "number", "client__name"
            )
        ]
    if model is not Contract:
        # Owners are people, not rows with access rules: only those who own a visible row.
        owners = User.objects.filter(pk__in=rows.values("owner_id"))
        choices["owner"] = [
            (pk, f"{first} {last}".strip() or username)
            for pk, first, last, username in owners.order_by(
                "last_name", "first_name", "username"
            ).values_list("pk", "first_name", "last_name", "username")
        ]
    return choices
