"""The clients API book (tests/clients/api_book.py) plus a commercial corner per team.

Each side's client has an active contract (2026-2027) with an agreed price for the shared
product, a draft order with one line, a confirmed order with one line (for deliveries) and an
opportunity on the product. The catalogue holds that product and a second one without prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product
from tests.clients.api_book import Book, Side, make_book
from tests.factories import (
    ContractFactory,
    ContractPriceFactory,
    OpportunityFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)


@dataclass
class Corner:
    contract: Contract
    price: ContractPrice
    order: Order
    line: OrderLine
    confirmed_order: Order
    confirmed_line: OrderLine
    opportunity: Opportunity


@dataclass
class OrdersBook:
    book: Book
    product: Product
    other_product: Product
    a: Corner
    b: Corner


def make_corner(side: Side, product: Product) -> Corner:
    contract = ContractFactory(client=side.client)
    price = ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("80.00"))
    order = OrderFactory(client=side.client, contract=contract, owner=side.nam)
    line = OrderLineFactory(
        order=order, product=product, unit_price=Decimal("80.00"), contract_price=Decimal("80.00")
    )
    confirmed = OrderFactory(client=side.client, contract=contract, owner=side.nam,
                             status=Order.Status.CONFIRMED)  # fmt: skip
    confirmed_line = OrderLineFactory(order=confirmed, product=product, quantity=Decimal("4"))
    opportunity = OpportunityFactory(client=side.client, owner=side.nam)
    opportunity.products.add(product)
    return Corner(contract, price, order, line, confirmed, confirmed_line, opportunity)


def make_orders_book() -> OrdersBook:
    book = make_book()
    product = ProductFactory(sku="PAPER-A4", name="Carta A4", family="Paper")
    other = ProductFactory(sku="TONER-K", name="Toner nero", family="Toner")
    return OrdersBook(
        book=book,
        product=product,
        other_product=other,
        a=make_corner(book.a, product),
        b=make_corner(book.b, product),
    )
