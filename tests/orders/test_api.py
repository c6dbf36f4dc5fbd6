"""The orders API: catalogue, contracts, prices, orders, lines, status actions, opportunities."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product
from tests.clients.api_book import api_as
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory
from tests.orders.api_book import OrdersBook, make_orders_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> OrdersBook:
    return make_orders_book()


def assert_error(response, status: int, code: str, fields: set[str] | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    if fields is not None:
        assert set(body["fields"]) == fields
    return body


def version_of(order: Order) -> int:
    return Order.objects.get(pk=order.pk).version


# Catalogue ---------------------------------------------------------------------------------------


def test_it_lets_an_admin_create_and_edit_a_product(book: OrdersBook) -> None:
    api = api_as(book.book.admin)
    created = api.post(
        "/api/v1/products/",
        {"sku": "SW-CRM", "name": "CRM licence", "family": "Software", "kind": "software",
         "list_price": "1200.00", "vat_rate": "22.00"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    url = f"/api/v1/products/{created.json()['id']}/"
    edited = api.patch(url, {"is_active": False}, format="json")
    assert edited.json()["is_active"] is False
    zero_rate = api.patch(url, {"vat_rate": "0"}, format="json")
    body = assert_error(zero_rate, 400, "invalid")
    assert "VAT nature" in body["message"]
    assert Product.objects.get(sku="SW-CRM").vat_rate == Decimal("22.00")


def test_it_filters_products_with_the_html_lists_filterset(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    found = api.get("/api/v1/products/", {"q": "toner"}).json()["results"]
    assert [p["sku"] for p in found] == ["TONER-K"]
    ordered = api.get("/api/v1/products/", {"ordering": "-sku"}).json()["results"]
    assert [p["sku"] for p in ordered] == ["TONER-K", "PAPER-A4"]
    assert_error(api.get("/api/v1/products/", {"kind": "gadget"}), 400, "invalid", {"kind"})


# Contracts and prices ----------------------------------------------------------------------------


def test_it_creates_a_contract_and_edits_it_with_the_version_it_read(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    created = api.post(
        "/api/v1/contracts/",
        {"client": book.book.a.client.pk, "number": "CTR-2027-01", "status": "active",
         "starts_on": "2027-01-01", "ends_on": "2028-12-31", "default_discount": "5.00",
         "applies_to_subsidiaries": True},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["version"] == 1
    url = f"/api/v1/contracts/{created.json()['id']}/"
    edited = api.patch(url, {"payment_terms_days": 90, "version": 1}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["version"] == 2
    backwards = api.patch(url, {"ends_on": "2026-01-01", "version": 2}, format="json")
    body = assert_error(backwards, 400, "invalid")
    assert "cannot end before it starts" in body["message"]


def test_it_answers_409_to_a_stale_contract_edit_and_keeps_the_first(book: OrdersBook) -> None:
    url = f"/api/v1/contracts/{book.a.contract.pk}/"
    first = api_as(book.book.a.nam).patch(url, {"terms": "First.", "version": 1}, format="json")
    assert first.status_code == 200, first.json()
    second = api_as(book.book.a.lead).patch(url, {"terms": "Second.", "version": 1}, format="json")
    assert_error(second, 409, "concurrent_edit", set())
    assert Contract.objects.get(pk=book.a.contract.pk).terms == "First."
    missing = api_as(book.book.a.lead).patch(url, {"terms": "Third."}, format="json")
    assert_error(missing, 400, "invalid", {"version"})


def test_it_refuses_an_overlapping_contract_price_with_the_constraints_message(
    book: OrdersBook,
) -> None:
    api = api_as(book.book.a.nam)
    payload = {"contract": book.a.contract.pk, "product": book.product.pk,
               "unit_price": "70.00", "valid_from": "2027-01-01"}  # fmt: skip
    overlap = api.post("/api/v1/contract-prices/", payload, format="json")
    body = assert_error(overlap, 400, "invalid", set())
    assert body["message"] == "This product already has an agreed price for part of this period."
    # End the current price first; the new period then fits.
    ended = api.patch(
        f"/api/v1/contract-prices/{book.a.price.pk}/", {"valid_to": "2026-12-31"}, format="json"
    )
    assert ended.status_code == 200, ended.json()
    created = api.post("/api/v1/contract-prices/", payload, format="json")
    assert created.status_code == 201, created.json()
    valid = api.get("/api/v1/contract-prices/", {"valid_on": "2027-03-01"}).json()["results"]
    assert [p["unit_price"] for p in valid] == ["70.00"]
    assert ContractPrice.objects.filter(contract=book.a.contract).count() == 2


# Orders and lines --------------------------------------------------------------------------------


def test_it_takes_an_order_at_the_contract_price_and_submits_it(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    created = api.post(
        "/api/v1/orders/",
        {"client": book.book.a.client.pk, "contract": book.a.contract.pk, "client_po": "PO-1"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    order = created.json()
    assert order["status"] == "draft"
    assert order["order_date"] == timezone.localdate().isoformat()
    assert order["number"].startswith("ORD-")
    assert order["owner"] == book.book.a.nam.pk
    assert order["lines"] == []
    assert order["allowed_transitions"] == ["submitted", "cancelled"]

    line = api.post(
        "/api/v1/order-lines/",
        {"order": order["id"], "order_version": order["version"], "product": book.product.pk,
         "quantity": "10"},
        format="json",
    )  # fmt: skip
    assert line.status_code == 201, line.json()
    assert line.json()["unit_price"] == "80.00"  # the agreed price, not the list price
    assert line.json()["contract_price"] == "80.00"
    assert line.json()["net_amount"] == "800.00"
    listed = api.post(
        "/api/v1/order-lines/",
        {"order": order["id"], "order_version": order["version"] + 1,
         "product": book.other_product.pk, "quantity": "1"},
        format="json",
    )  # fmt: skip
    assert listed.json()["unit_price"] == "100.00"
    assert listed.json()["discount"] == "10.00"  # the contract's default discount

    detail = api.get(f"/api/v1/orders/{order['id']}/").json()
    assert detail["net_total"] == "890.00"
    assert detail["vat_total"] == "195.80"
    assert detail["gross_total"] == "1085.80"
    assert [li["product"] for li in detail["lines"]] == [book.product.pk, book.other_product.pk]

    submitted = api.post(
        f"/api/v1/orders/{order['id']}/transition/", {"to": "submitted", "note": "ok"},
        format="json",
    )  # fmt: skip
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["allowed_transitions"] == ["draft", "confirmed", "cancelled"]
    [change] = submitted.json()["status_changes"]
    assert change["from_status"] == "draft"
    assert change["to_status"] == "submitted"
    assert change["by"] == book.book.a.nam.pk


def test_it_keeps_a_manual_price_with_its_reason(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/order-lines/{book.a.line.pk}/"
    no_reason = api.patch(
        url, {"unit_price": "75.00", "manual_price": True, "order_version": 1}, format="json"
    )
    body = assert_error(no_reason, 400, "invalid")
    assert "needs a reason" in body["message"]
    with_reason = api.patch(
        url,
        {"unit_price": "75.00", "manual_price": True, "price_reason": "Volume deal",
         "order_version": 1},
        format="json",
    )  # fmt: skip
    assert with_reason.status_code == 200, with_reason.json()
    line = OrderLine.objects.get(pk=book.a.line.pk)
    assert (line.unit_price, line.contract_price, line.price_reason) == (
        Decimal("75.00"), Decimal("80.00"), "Volume deal")  # fmt: skip


def test_it_answers_409_to_a_stale_line_and_order_edit(book: OrdersBook) -> None:
    nam, lead = api_as(book.book.a.nam), api_as(book.book.a.lead)
    line_url = f"/api/v1/order-lines/{book.a.line.pk}/"
    first = nam.patch(line_url, {"quantity": "2", "order_version": 1}, format="json")
    assert first.status_code == 200, first.json()
    stale = lead.patch(line_url, {"quantity": "5", "order_version": 1}, format="json")
    assert_error(stale, 409, "concurrent_edit", set())
    assert OrderLine.objects.get(pk=book.a.line.pk).quantity == Decimal("2")
    order_url = f"/api/v1/orders/{book.a.order.pk}/"
    stale_header = lead.patch(order_url, {"notes": "Gate 2", "version": 1}, format="json")
    assert_error(stale_header, 409, "concurrent_edit", set())
    fresh = lead.patch(order_url, {"notes": "Gate 2", "version": 2}, format="json")
    assert fresh.status_code == 200, fresh.json()
    assert fresh.json()["version"] == 3
    missing = lead.patch(line_url, {"quantity": "5"}, format="json")
    assert_error(missing, 400, "invalid", {"order_version"})


def test_it_deletes_a_line_with_the_order_version(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/order-lines/{book.a.line.pk}/"
    assert_error(api.delete(url), 400, "invalid", {"order_version"})
    assert_error(api.delete(url + "?order_version=7"), 409, "concurrent_edit")
    assert api.delete(url + "?order_version=1").status_code == 204
    assert not OrderLine.objects.filter(pk=book.a.line.pk).exists()
    assert version_of(book.a.order) == 2


def test_it_changes_only_draft_orders(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    line = api.post(
        "/api/v1/order-lines/",
        {"order": book.a.confirmed_order.pk, "order_version": 1, "product": book.product.pk,
         "quantity": "1"},
        format="json",
    )  # fmt: skip
    body = assert_error(line, 400, "order_error", set())
    assert "Only a draft order" in body["message"]
    header = api.patch(
        f"/api/v1/orders/{book.a.confirmed_order.pk}/", {"notes": "x", "version": 1}, format="json"
    )
    assert_error(header, 400, "order_error", set())


def test_it_refuses_an_order_on_an_expired_contract(book: OrdersBook) -> None:
    Contract.objects.filter(pk=book.a.contract.pk).update(status="expired")
    response = api_as(book.book.a.nam).post(
        "/api/v1/orders/",
        {"client": book.book.a.client.pk, "contract": book.a.contract.pk},
        format="json",
    )
    body = assert_error(response, 400, "contract_not_applicable", set())
    assert "is expired" in body["message"]
    assert Order.objects.count() == 4


@pytest.mark.parametrize(
    ("status", "to"),
    [
        ("draft", "confirmed"),
        ("draft", "fulfilled"),
        ("submitted", "in_progress"),
        ("confirmed", "draft"),
        ("in_progress", "cancelled"),
        ("fulfilled", "draft"),
        ("cancelled", "submitted"),
    ],
)
def test_it_refuses_a_transition_the_rules_do_not_allow(
    book: OrdersBook, status: str, to: str
) -> None:
    Order.objects.filter(pk=book.a.order.pk).update(status=status)
    response = api_as(book.book.a.nam).post(
        f"/api/v1/orders/{book.a.order.pk}/transition/", {"to": to}, format="json"
    )
    assert_error(response, 400, "transition_not_allowed", set())
    assert Order.objects.get(pk=book.a.order.pk).status == status
    assert not book.a.order.status_changes.exists()


def test_it_refuses_to_submit_an_empty_order_or_an_unknown_status(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    empty = OrderFactory(client=book.book.a.client, owner=book.book.a.nam)
    url = f"/api/v1/orders/{empty.pk}/transition/"
    body = assert_error(api.post(url, {"to": "submitted"}, format="json"), 400, "order_error")
    assert "at least one line" in body["message"]
    assert_error(api.post(url, {"to": "shipped"}, format="json"), 400, "invalid", {"to"})


def test_it_records_deliveries_until_the_order_is_fulfilled(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/order-lines/{book.a.confirmed_line.pk}/delivery/"
    partial = api.post(url, {"delivered_quantity": "1.5"}, format="json")
    assert partial.status_code == 200, partial.json()
    assert partial.json()["delivered_quantity"] == "1.500"
    assert Order.objects.get(pk=book.a.confirmed_order.pk).status == "in_progress"
    too_much = api.post(url, {"delivered_quantity": "5"}, format="json")
    body = assert_error(too_much, 400, "invalid")
    assert "More cannot be delivered" in body["message"]
    assert api.post(url, {"delivered_quantity": "4"}, format="json").status_code == 200
    assert Order.objects.get(pk=book.a.confirmed_order.pk).status == "fulfilled"
    draft = f"/api/v1/order-lines/{book.a.line.pk}/delivery/"
    assert_error(api.post(draft, {"delivered_quantity": "1"}, format="json"), 400, "order_error")


def test_it_reorders_a_past_order_as_a_draft_at_todays_prices(book: OrdersBook) -> None:
    ContractPrice.objects.filter(pk=book.a.price.pk).update(unit_price=Decimal("85.00"))
    response = api_as(book.book.a.nam).post(f"/api/v1/orders/{book.a.confirmed_order.pk}/reorder/")
    assert response.status_code == 201, response.json()
    copy = response.json()
    assert (copy["kind"], copy["status"], copy["reorder_of"]) == (
        "reorder", "draft", book.a.confirmed_order.pk)  # fmt: skip
    assert copy["order_date"] == timezone.localdate().isoformat()
    assert [(li["product"], li["quantity"], li["unit_price"]) for li in copy["lines"]] == [
        (book.product.pk, "4.000", "85.00")
    ]


# Opportunities -----------------------------------------------------------------------------------


def test_it_works_an_opportunity_and_wins_it_into_a_draft_order(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    created = api.post(
        "/api/v1/opportunities/",
        {"client": book.book.a.client.pk, "title": "Toner 2027", "value": "12000.00",
         "products": [book.other_product.pk], "expected_close": "2027-02-01"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert created.json()["owner"] == book.book.a.nam.pk
    url = f"/api/v1/opportunities/{created.json()['id']}/"
    moved = api.patch(url, {"stage": "negotiation", "probability": 60}, format="json")
    assert moved.json()["products"] == [book.other_product.pk]

    won = api.post(f"{url}win/")
    assert won.status_code == 201, won.json()
    order = won.json()
    assert (order["kind"], order["status"]) == ("upsell", "draft")
    assert order["contract"] == book.a.contract.pk
    assert [li["product"] for li in order["lines"]] == [book.other_product.pk]
    opportunity = Opportunity.objects.get(pk=created.json()["id"])
    assert (opportunity.stage, opportunity.order_id) == ("won", order["id"])
    again = api.post(f"{url}win/")
    assert again.status_code == 200
    assert again.json()["id"] == order["id"]

    assert api.delete(url).status_code == 204
    assert Order.objects.filter(pk=order["id"]).exists()  # the order outlives it


def test_it_refuses_to_patch_or_create_an_opportunity_as_won_without_the_win_action(
    book: OrdersBook,
) -> None:
    api = api_as(book.book.a.nam)
    created = api.post(
        "/api/v1/opportunities/",
        {"client": book.book.a.client.pk, "title": "Shortcut", "stage": "won"},
        format="json",
    )
    assert_error(created, 400, "invalid", {"stage"})
    assert not Opportunity.objects.filter(title="Shortcut").exists()
    opportunity = Opportunity.objects.create(
        client=book.book.a.client, title="Open", owner=book.book.a.nam, stage="proposal"
    )
    url = f"/api/v1/opportunities/{opportunity.pk}/"

    patched = api.patch(url, {"stage": "won", "probability": 100}, format="json")

    body = assert_error(patched, 400, "invalid", {"stage"})
    assert "win action" in body["fields"]["stage"][0]
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.order_id) == ("proposal", None)
    # Once won through the action, the opportunity can still be edited (it stays won).
    assert api.post(f"{url}win/").status_code == 201
    retitled = api.patch(url, {"title": "Open, won"}, format="json")
    assert retitled.status_code == 200, retitled.json()
    assert retitled.json()["stage"] == "won"


# Foreign ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "payload"),
    [
        ("contracts", "client", lambda b: {"client": b.book.b.client.pk, "number": "X",
                                           "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
        ("contract-prices", "contract", lambda b: {"contract": b.b.contract.pk,
                                                   "product": b.other_product.pk,
                                                   "unit_price": "1.00",
                                                   "valid_from": "2026-01-01"}),
        ("orders", "client", lambda b: {"client": b.book.b.client.pk}),
        ("orders", "contract", lambda b: {"client": b.book.a.client.pk,
                                          "contract": b.b.contract.pk}),
        ("order-lines", "order", lambda b: {"order": b.b.order.pk, "order_version": 1,
                                            "product": b.product.pk, "quantity": "1"}),
        ("opportunities", "client", lambda b: {"client": b.book.b.client.pk, "title": "X"}),
    ],
)  # fmt: skip
def test_it_treats_a_foreign_id_like_one_that_does_not_exist(
    book: OrdersBook, path: str, field: str, payload
) -> None:
    api = api_as(book.book.a.nam)
    data = payload(book)
    count = api.get(f"/api/v1/{path}/").json()["count"]
    body = assert_error(api.post(f"/api/v1/{path}/", data, format="json"), 400, "invalid")
    assert set(body["fields"]) == {field}
    missing_id = 10**9
    missing = api.post(f"/api/v1/{path}/", data | {field: missing_id}, format="json")
    assert missing.json()["fields"][field] == [
        message.replace(str(data[field]), str(missing_id)) for message in body["fields"][field]
    ]
    assert api.get(f"/api/v1/{path}/").json()["count"] == count


def test_it_refuses_a_contract_of_another_client_it_sees(book: OrdersBook) -> None:
    # The lead elsewhere sees nothing of A; finance sees both but takes no orders: so admin.
    response = api_as(book.book.admin).post(
        "/api/v1/orders/",
        {"client": book.book.a.client.pk, "contract": book.b.contract.pk},
        format="json",
    )
    body = assert_error(response, 400, "contract_not_applicable", set())
    assert "belongs to Client B" in body["message"]


# Query counts ------------------------------------------------------------------------------------


def count_queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries)


def test_it_lists_orders_in_a_fixed_number_of_queries(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    assert api.get("/api/v1/orders/").json()["count"] == 2
    few = count_queries(api, "/api/v1/orders/")
    for _ in range(28):
        order = OrderFactory(client=book.book.a.client, contract=book.a.contract,
                             owner=book.book.a.nam)  # fmt: skip
        OrderLineFactory(order=order, product=ProductFactory())
    assert api.get("/api/v1/orders/").json()["count"] == 30
    assert count_queries(api, "/api/v1/orders/") == few


def test_it_shows_an_order_in_a_fixed_number_of_queries(book: OrdersBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/orders/{book.a.order.pk}/"
    one = count_queries(api, url)
    for _ in range(29):
        OrderLineFactory(order=book.a.order, product=ProductFactory())
    assert len(api.get(url).json()["lines"]) == 30
    assert count_queries(api, url) == one


def test_it_lists_order_lines_and_opportunities_in_a_fixed_number_of_queries(
    book: OrdersBook,
) -> None:
    api = api_as(book.book.a.nam)
    lines, opportunities = (count_queries(api, "/api/v1/order-lines/"),
                            count_queries(api, "/api/v1/opportunities/"))  # fmt: skip
    for _ in range(20):
        OrderLineFactory(order=book.a.order, product=ProductFactory())
        Opportunity.objects.create(
            client=book.book.a.client, title="More", owner=book.book.a.nam,
            expected_close=datetime.date(2027, 1, 1),
        ).products.add(ProductFactory())  # fmt: skip
    assert count_queries(api, "/api/v1/order-lines/") == lines
    assert count_queries(api, "/api/v1/opportunities/") == opportunities


# Schema ------------------------------------------------------------------------------------------


def test_it_documents_the_orders_api_in_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path in [
        "/api/v1/products/",
        "/api/v1/contracts/",
        "/api/v1/contract-prices/",
        "/api/v1/orders/",
        "/api/v1/order-lines/",
        "/api/v1/opportunities/",
        "/api/v1/orders/{id}/transition/",
        "/api/v1/orders/{id}/reorder/",
        "/api/v1/order-lines/{id}/delivery/",
        "/api/v1/opportunities/{id}/win/",
    ]:
        assert path in paths
    for path in ["/api/v1/contracts/{id}/", "/api/v1/orders/{id}/"]:
        assert "409" in paths[path]["patch"]["responses"]
    assert "409" in paths["/api/v1/order-lines/{id}/"]["delete"]["responses"]
    assert "400" in paths["/api/v1/orders/{id}/transition/"]["post"]["responses"]
