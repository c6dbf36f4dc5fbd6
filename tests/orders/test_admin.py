"""The orders admin opens for support staff, and an order's status cannot be edited there."""

import pytest

from tests.factories import ContractPriceFactory, OpportunityFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_it_lists_and_opens_every_orders_model(admin_user, login) -> None:
    price = ContractPriceFactory()
    line = OrderLineFactory()
    opportunity = OpportunityFactory()
    client = login(admin_user)
    for url in (
        "/admin/orders/product/",
        f"/admin/orders/product/{price.product.pk}/change/",
        "/admin/orders/contract/",
        f"/admin/orders/contract/{price.contract.pk}/change/",
        "/admin/orders/order/",
        f"/admin/orders/order/{line.order.pk}/change/",
        "/admin/orders/opportunity/",
        f"/admin/orders/opportunity/{opportunity.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url


def test_an_orders_status_is_read_only(admin_user, login) -> None:
    line = OrderLineFactory()
    page = login(admin_user).get(f"/admin/orders/order/{line.order.pk}/change/")
    assert b'name="status"' not in page.content
    assert b'name="lines-0-quantity"' in page.content
