from decimal import Decimal

import pytest

from orders.selectors import order_line_list, order_list
from orders.services import order_totals
from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_it_totals_orders_in_sql_exactly_as_the_lines_do(admin_user) -> None:
    order = OrderFactory()
    lines = [
        OrderLineFactory(order=order, quantity=Decimal("3"), unit_price=Decimal("0.35"),
                         discount=Decimal("50"), vat_rate=Decimal("22")),  # 0.525 -> 0.53
        OrderLineFactory(order=order, quantity=Decimal("1.5"), unit_price=Decimal("19.99"),
                         discount=Decimal("12.5"), vat_rate=Decimal("10")),  # 26.236875 -> 26.24
        OrderLineFactory(order=order, quantity=Decimal("7"), unit_price=Decimal("100.00"),
                         vat_rate=Decimal("4")),
    ]  # fmt: skip
    OrderFactory()  # an order without lines totals zero

    rows = {row.pk: row.net_total for row in order_list(user=admin_user)}
    assert rows[order.pk] == order_totals(lines).net == Decimal("726.77")
    assert sorted(rows.values())[0] == Decimal("0.00")


def test_it_lists_orders_in_a_fixed_number_of_queries(
    admin_user, django_assert_num_queries
) -> None:
    for _ in range(5):
        OrderLineFactory()
    with django_assert_num_queries(2):  # the user's roles, then the list with its totals
        rows = list(order_list(user=admin_user))
    assert len(rows) == 5
    assert all(row.client.name and row.owner.username for row in rows)


def test_it_lists_only_the_order_lines_of_visible_clients_in_one_query(
    django_assert_num_queries,
) -> None:
    from tests.factories import AccountTeamMemberFactory

    mine = OrderLineFactory()
    OrderLineFactory()  # another client's
    for _ in range(4):
        OrderLineFactory(order=mine.order)
    nam = AccountTeamMemberFactory(client=mine.order.client, role="nam").user
    list(order_line_list(user=nam))  # the person's roles, read once

    with django_assert_num_queries(1):
        rows = list(order_line_list(user=nam))
        # What the API serializes and the policy checks read comes with the rows.
        seen = {(row.order.client.team.name, row.product.sku) for row in rows}

    assert {row.pk for row in rows} == {mine.pk, *mine.order.lines.values_list("pk", flat=True)}
    assert len(rows) == 5
    assert seen
