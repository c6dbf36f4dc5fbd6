"""Every constraint of orders/models.py, violated once in the database (no model validation)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import IntegrityError, models, transaction

from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product
from tests.factories import (
    ContractFactory,
    ContractPriceFactory,
    OpportunityFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def update(factory: Callable[..., models.Model], **values: object) -> Callable[[], None]:
    """Make a valid row, then write `values` over it straight in SQL."""

    def violate() -> None:
        row = factory()
        type(row).objects.filter(pk=row.pk).update(**values)

    return violate


def overlapping_price() -> None:
    first = ContractPriceFactory(valid_from=datetime.date(2026, 1, 1), valid_to=None)
    ContractPriceFactory(contract=first.contract, product=first.product,
                         valid_from=datetime.date(2027, 6, 1))  # fmt: skip


def price_override_without_reason() -> None:
    OrderLineFactory(unit_price=Decimal("90.00"), contract_price=Decimal("80.00"), price_reason="")


def zero_rate_without_nature() -> None:
    ProductFactory(vat_rate=Decimal("0"), vat_nature="")


def nature_on_a_taxed_line() -> None:
    OrderLineFactory(vat_rate=Decimal("22"), vat_nature="N4")


VIOLATIONS: dict[str, Callable[[], None]] = {
    "product_kind_valid": update(ProductFactory, kind="gadget"),
    "product_price_not_negative": update(ProductFactory, list_price=Decimal("-1")),
    "product_vat_rate_range": update(ProductFactory, vat_rate=Decimal("101")),
    "product_vat_nature_iff_zero_rate": zero_rate_without_nature,
    "contract_status_valid": update(ContractFactory, status="suspended"),
    "contract_ends_after_start": update(ContractFactory, ends_on=datetime.date(2025, 12, 31)),
    "contract_discount_range": update(ContractFactory, default_discount=Decimal("-5")),
    "contract_cap_not_negative": update(ContractFactory, billing_cap=Decimal("-1")),
    "contract_commitment_not_negative": update(ContractFactory, annual_commitment=Decimal("-1")),
    "contract_price_not_negative": update(ContractPriceFactory, unit_price=Decimal("-0.01")),
    "contract_price_period_ordered": update(
        ContractPriceFactory, valid_to=datetime.date(2025, 12, 31)
    ),
    "contract_price_no_overlap": overlapping_price,
    "order_kind_valid": update(OrderFactory, kind="gift"),
    "order_status_valid": update(OrderFactory, status="lost"),
    "order_reorder_of_only_on_reorders": lambda: OrderFactory(
        kind="new", reorder_of=OrderFactory()
    ),
    "order_number_key": lambda: OrderFactory.create_batch(2, number="ORD-2026-00001"),
    "product_sku_key": lambda: ProductFactory.create_batch(2, sku="TONER-1"),
    "contract_number_key": lambda: ContractFactory.create_batch(2, number="CTR-2026-1"),
    "order_line_quantity_positive": update(OrderLineFactory, quantity=Decimal("0")),
    "order_line_price_not_negative": update(OrderLineFactory, unit_price=Decimal("-1")),
    "order_line_discount_range": update(OrderLineFactory, discount=Decimal("100.01")),
    "order_line_delivered_within_quantity": update(
        OrderLineFactory, delivered_quantity=Decimal("2")
    ),
    "order_line_vat_nature_iff_zero_rate": nature_on_a_taxed_line,
    "order_line_override_has_reason": price_override_without_reason,
    "opportunity_stage_valid": update(OpportunityFactory, stage="dreaming"),
    "opportunity_source_valid": update(OpportunityFactory, source="hunch"),
    "opportunity_value_not_negative": update(OpportunityFactory, value=Decimal("-1")),
    "opportunity_probability_range": update(OpportunityFactory, probability=101),
}


@pytest.mark.parametrize("name", VIOLATIONS)
def test_the_database_refuses_it(name: str) -> None:
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        VIOLATIONS[name]()


def test_every_constraint_is_violated_by_a_test() -> None:
    declared = {
        constraint.name
        for model in (Product, Contract, ContractPrice, Order, OrderLine, Opportunity)
        for constraint in model._meta.constraints
    }
    assert declared <= set(VIOLATIONS)


def test_a_new_price_period_may_follow_the_last_one() -> None:
    first = ContractPriceFactory(valid_to=datetime.date(2026, 6, 30))
    ContractPriceFactory(contract=first.contract, product=first.product,
                         valid_from=datetime.date(2026, 7, 1))  # fmt: skip
    other_contract = ContractPriceFactory(product=first.product)  # same dates, another contract
    assert other_contract.pk


def test_a_line_nets_and_taxes_half_up_to_the_cent() -> None:
    line = OrderLine(quantity=Decimal("1"), unit_price=Decimal("0.25"), discount=Decimal("50"),
                     vat_rate=Decimal("22"))  # fmt: skip
    assert line.net_amount == Decimal("0.13")  # 0.125: half up, not half even (0.12)
    assert line.vat_amount == Decimal("0.03")  # 0.13 * 22% = 0.0286
    assert not line.is_delivered


@pytest.mark.parametrize(
    ("quantity", "unit_price", "discount"),
    [("1", "0.25", "50"), ("3", "19.99", "12.5"), ("0.333", "10.01", "0"), ("2.5", "0.05", "10"),
     ("999999999.999", "999999999999.99", "0")],  # the largest the columns hold
)  # fmt: skip
def test_the_stored_net_is_the_lines_net_amount(
    quantity: str, unit_price: str, discount: str
) -> None:
    line = OrderLineFactory(quantity=Decimal(quantity), unit_price=Decimal(unit_price),
                            discount=Decimal(discount))  # fmt: skip
    stored = OrderLine.objects.values_list("net", flat=True).get(pk=line.pk)
    assert stored == line.net_amount
    OrderLine.objects.filter(pk=line.pk).update(discount=Decimal("100"))
    assert OrderLine.objects.values_list("net", flat=True).get(pk=line.pk) == 0  # follows edits


def test_a_contract_is_valid_only_when_active_and_in_its_period() -> None:
    contract = Contract(status="active", starts_on=datetime.date(2026, 1, 1),
                        ends_on=datetime.date(2026, 12, 31))  # fmt: skip
    assert contract.is_valid_on(datetime.date(2026, 12, 31))
    assert not contract.is_valid_on(datetime.date(2027, 1, 1))
    contract.status = "terminated"
    assert not contract.is_valid_on(datetime.date(2026, 6, 1))
