"""The orders API access matrix: every endpoint x action x principal, against team A's rows.

Same principals and rules as the clients matrix (tests/clients/test_access_matrix_api.py): a row
you may not see is 404 (and never listed), a row you see but may not change is 403, anonymous is
401, an action the endpoint does not offer is 405. A refused write changes nothing. On top of the
CRUD actions, the status changes (`transition`, `reorder`, `delivery`, `win`) follow the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from orders.models import (
    Contract,
    ContractPrice,
    Opportunity,
    Order,
    OrderLine,
    OrderStatusChange,
    Product,
)
from tests.clients.api_book import api_as
from tests.clients.test_access_matrix_api import (
    ADMIN_ONLY,
    LIST_SEES,
    NOT_OFFERED,
    PRINCIPALS,
    SEES_A,
    WORKS_ON_A,
    principal,
    snapshot,
)
from tests.orders.api_book import OrdersBook, make_orders_book

pytestmark = pytest.mark.django_db

READ_BY_ALL = [200, 200, 200, 200, 200, 401]


def order_version(order: Order) -> int:
    return Order.objects.get(pk=order.pk).version


class Resource:
    """One endpoint: its model, side A's row, valid payloads, and the id field a foreigner fails."""

    def __init__(
        self,
        model: type[models.Model],
        row: Callable[[OrdersBook, str], models.Model],
        create: Callable[[OrdersBook], dict[str, Any]],
        update: Callable[[OrdersBook], dict[str, Any]],
        expected: dict[str, list[int]],
        foreign_field: str = "client",
        delete_query: Callable[[OrdersBook], str] = lambda book: "",
    ) -> None:
        self.model, self.row, self.create, self.update = model, row, create, update
        self.expected, self.foreign_field, self.delete_query = expected, foreign_field, delete_query


RESOURCES = {
    "products": Resource(
        Product,
        lambda book, side: book.product,
        lambda book: {"sku": "NEW-1", "name": "New", "family": "Paper", "list_price": "9.90"},
        lambda book: {"name": "Renamed"},
        {
            "retrieve": READ_BY_ALL,  # the catalogue is not secret
            "create": ADMIN_ONLY,
            "update": ADMIN_ONLY,
            "delete": NOT_OFFERED,
        },
    ),
    "contracts": Resource(
        Contract,
        lambda book, side: getattr(book, side).contract,
        lambda book: {
            "client": book.book.a.client.pk,
            "number": "CTR-NEW",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        lambda book: {"terms": "Net 60.", "version": 1},
        {"retrieve": SEES_A, **WORKS_ON_A, "delete": NOT_OFFERED},
    ),
    "contract-prices": Resource(
        ContractPrice,
        lambda book, side: getattr(book, side).price,
        lambda book: {
            "contract": book.a.contract.pk,
            "product": book.other_product.pk,
            "unit_price": "12.00",
            "valid_from": "2026-01-01",
        },
        lambda book: {"unit_price": "75.00"},
        {"retrieve": SEES_A, **WORKS_ON_A, "delete": NOT_OFFERED},
        foreign_field="contract",
    ),
    "orders": Resource(
        Order,
        lambda book, side: getattr(book, side).order,
        lambda book: {"client": book.book.a.client.pk, "contract": book.a.contract.pk},
        lambda book: {"notes": "Deliver to gate 2.", "version": 1},
        {"retrieve": SEES_A, **WORKS_ON_A, "delete": NOT_OFFERED},
    ),
    "order-lines": Resource(
        OrderLine,
        lambda book, side: getattr(book, side).line,
        lambda book: {
            "order": book.a.order.pk,
            "order_version": order_version(book.a.order),
            "product": book.other_product.pk,
            "quantity": "2",
        },
        lambda book: {"quantity": "3", "order_version": order_version(book.a.order)},
        {"retrieve": SEES_A, **WORKS_ON_A},
        foreign_field="order",
        delete_query=lambda book: f"?order_version={order_version(book.a.order)}",
    ),
    "opportunities": Resource(
        Opportunity,
        lambda book, side: getattr(book, side).opportunity,
        lambda book: {"client": book.book.a.client.pk, "title": "Toner for 2027"},
        lambda book: {"stage": "proposal"},
        {"retrieve": SEES_A, **WORKS_ON_A},
    ),
}

ACTIONS = ["list", "retrieve", "create", "update", "delete"]


class StatusAction:
    """A POST action on one of side A's rows; `created` is the model that gains a row."""

    def __init__(
        self,
        path: str,
        row: Callable[[OrdersBook], models.Model],
        payload: dict[str, Any],
        expected: list[int],
        created: type[models.Model] | None = None,
    ) -> None:
        self.path, self.row, self.payload = path, row, payload
        self.expected, self.created = expected, created


STATUS_ACTIONS = {
    "transition": StatusAction(
        "orders", lambda book: book.a.order, {"to": "submitted"}, WORKS_ON_A["update"]
    ),
    "reorder": StatusAction(
        "orders", lambda book: book.a.order, {}, [201, 404, 201, 404, 403, 401], created=Order
    ),
    "delivery": StatusAction(
        "order-lines",
        lambda book: book.a.confirmed_line,
        {"delivered_quantity": "1"},
        WORKS_ON_A["update"],
    ),
    "win": StatusAction(
        "opportunities",
        lambda book: book.a.opportunity,
        {},
        [201, 404, 201, 404, 403, 401],
        created=Order,
    ),
}

CELLS = [(r, a, p) for r in RESOURCES for a in ACTIONS for p in PRINCIPALS]
ACTION_CELLS = [(a, p) for a in STATUS_ACTIONS for p in PRINCIPALS]


def test_it_checks_every_cell_of_the_matrix() -> None:
    # 6 endpoints x 5 actions x 6 principals, and 4 status actions x 6 principals.
    assert len(CELLS) + len(ACTION_CELLS) == 204


def assert_refused_cleanly(response: Any, expected_status: int) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    if expected_status == 404:
        assert body["code"] == "not_found"
    if expected_status == 403:
        assert body["code"] == "not_allowed"
    return body


@pytest.mark.parametrize(("resource", "action", "who"), CELLS)
def test_it_answers_per_the_access_rules(resource: str, action: str, who: str) -> None:
    book = make_orders_book()
    spec = RESOURCES[resource]
    api = api_as(principal(book.book, who))
    base = f"/api/v1/{resource}/"
    row_a = spec.row(book, "a")
    detail = f"{base}{row_a.pk}/"

    if action == "list":
        response = api.get(base)
        if who == "anon":
            assert response.status_code == 401
            return
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["results"]}
        if resource == "products":
            expected = {book.product.pk, book.other_product.pk}
        elif resource == "order-lines":
            corners = [getattr(book, side) for side in LIST_SEES[who]]
            expected = {row.pk for c in corners for row in (c.line, c.confirmed_line)}
        elif resource == "orders":
            corners = [getattr(book, side) for side in LIST_SEES[who]]
            expected = {row.pk for c in corners for row in (c.order, c.confirmed_order)}
        else:
            expected = {spec.row(book, side).pk for side in LIST_SEES[who]}
        # Exactly the rows this person sees: none of the other team's, all of their own.
        assert ids == expected
        return

    expected_status = spec.expected[action][PRINCIPALS.index(who)]
    before = snapshot(row_a)
    count_before = spec.model._default_manager.count()
    if action == "retrieve":
        response = api.get(detail)
    elif action == "create":
        response = api.post(base, spec.create(book), format="json")
    elif action == "update":
        response = api.patch(detail, spec.update(book), format="json")
    else:
        response = api.delete(detail + spec.delete_query(book))

    assert response.status_code == expected_status, response.content[:300]
    if expected_status >= 400:
        body = assert_refused_cleanly(response, expected_status)
        assert snapshot(row_a) == before
        assert spec.model._default_manager.count() == count_before
    if expected_status == 400:
        assert spec.foreign_field in body["fields"]  # the other team's row is no valid choice
    if expected_status == 201:
        assert spec.model._default_manager.count() == count_before + 1


@pytest.mark.parametrize(("name", "who"), ACTION_CELLS)
def test_it_guards_status_changes_per_the_access_rules(name: str, who: str) -> None:
    book = make_orders_book()
    spec = STATUS_ACTIONS[name]
    api = api_as(principal(book.book, who))
    row = spec.row(book)
    before = snapshot(row)
    created_before = spec.created._default_manager.count() if spec.created else 0
    history_before = OrderStatusChange.objects.count()

    response = api.post(f"/api/v1/{spec.path}/{row.pk}/{name}/", spec.payload, format="json")

    expected_status = spec.expected[PRINCIPALS.index(who)]
    assert response.status_code == expected_status, response.content[:300]
    if expected_status >= 400:
        assert_refused_cleanly(response, expected_status)
        assert snapshot(row) == before
        assert OrderStatusChange.objects.count() == history_before
        if spec.created:
            assert spec.created._default_manager.count() == created_before
    elif spec.created:
        assert spec.created._default_manager.count() == created_before + 1
    else:
        assert snapshot(row) != before
