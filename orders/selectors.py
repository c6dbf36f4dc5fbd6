"""Reads of contracts, orders and opportunities; every one starts from `visible_to(user)`."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Round

from accounts_crm.access import AnyUser, get_visible_or_404
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product

MONEY = DecimalField(max_digits=14, decimal_places=2)


def line_net_expression() -> ExpressionWrapper:
    """A line's net amount in SQL, rounded to the cent like OrderLine.net_amount (half up:
    PostgreSQL's round() on numeric rounds halves away from zero, which is half up for
    amounts that are never negative)."""
    return ExpressionWrapper(
        Round(
            F("quantity")
            * F("unit_price")
            * (Value(Decimal(100)) - F("discount"))
            / Value(Decimal(100)),
            2,
        ),
        output_field=MONEY,
    )


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
