"""Order pages: list (search, filters, sort, pages, CSV, htmx), detail, fast entry, transitions,
reorder, and query counts pinned on the list and the detail."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderLine, OrderStatusChange
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def account():
    return ClientFactory(name="Padano Spa")


@pytest.fixture
def nam(account):
    return AccountTeamMemberFactory(client=account, role="nam").user


@pytest.fixture
def nam_client(english, login, nam):
    login(nam)
    return english


@pytest.fixture
def contract(account):
    today = timezone.localdate()
    return ContractFactory(
        client=account,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=300),
        default_discount=Decimal("10.00"),
    )


def row_numbers(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'data-testid="order-row">\s*<td><a[^>]*>([^<]+)</a>', html)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# List ----------------------------------------------------------------------------------------


def test_it_lists_only_the_orders_of_visible_clients_with_net_totals(nam_client, account) -> None:
    order = OrderFactory(client=account, number="ORD-1")
    OrderLineFactory(order=order, quantity=Decimal("3"), unit_price=Decimal("10.00"))
    OrderFactory(number="ORD-FOREIGN")

    response = nam_client.get("/orders/")

    assert response.status_code == 200
    assert row_numbers(response) == ["ORD-1"]
    assert "30.00 EUR" in response.content.decode()


def test_it_searches_filters_and_sorts_orders(nam_client, account) -> None:
    OrderFactory(client=account, number="ORD-A", status="draft", client_po="PO-77",
                 order_date=datetime.date(2026, 1, 5))  # fmt: skip
    OrderFactory(client=account, number="ORD-B", status="submitted",
                 order_date=datetime.date(2026, 3, 5))  # fmt: skip

    assert row_numbers(nam_client.get("/orders/?q=po-77")) == ["ORD-A"]
    assert row_numbers(nam_client.get("/orders/?status=submitted")) == ["ORD-B"]
    assert row_numbers(nam_client.get("/orders/?ordering=order_date")) == ["ORD-A", "ORD-B"]
    assert row_numbers(nam_client.get("/orders/?ordering=-order_date")) == ["ORD-B", "ORD-A"]
    assert row_numbers(nam_client.get("/orders/?ordered_after=2026-02-01")) == ["ORD-B"]


def test_it_pages_the_list_and_answers_htmx_with_the_results_only(nam_client, account) -> None:
    for n in range(30):
        OrderFactory(client=account, number=f"ORD-{n:02d}")

    first = nam_client.get("/orders/?ordering=number")
    second = nam_client.get("/orders/?ordering=number&page=2", headers={"HX-Request": "true"})

    assert len(row_numbers(first)) == 25
    assert row_numbers(second) == [f"ORD-{n:02d}" for n in range(25, 30)]
    assert "<html" not in second.content.decode()
    assert "HX-Request" in second["Vary"]


def test_it_exports_the_filtered_list_as_csv(nam_client, account) -> None:
    order = OrderFactory(client=account, number="ORD-CSV", client_po="PO-1")
    OrderLineFactory(order=order, quantity=Decimal("2"), unit_price=Decimal("50.00"))
    OrderFactory(client=account, number="ORD-OTHER", status="cancelled")

    response = nam_client.get("/orders/?format=csv&status=draft")

    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0][0] == "Number"
    assert [row[0] for row in rows[1:]] == ["ORD-CSV"]
    assert rows[1][2] == "Padano Spa"
    assert rows[1][8] == "100.00"


def test_it_runs_as_many_queries_for_30_orders_as_for_2(nam_client, account) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert nam_client.get("/orders/").status_code == 200
        return len(captured)

    for _ in range(2):
        OrderLineFactory(order=OrderFactory(client=account, contract=ContractFactory()))
    few = queries()
    for _ in range(28):
        OrderLineFactory(order=OrderFactory(client=account, contract=ContractFactory()))
    assert queries() == few


# Detail --------------------------------------------------------------------------------------


def test_it_shows_lines_with_net_vat_gross_and_totals(nam_client, account) -> None:
    order = OrderFactory(client=account)
    OrderLineFactory(order=order, quantity=Decimal("3"), unit_price=Decimal("10.00"),
                     discount=Decimal("0"), vat_rate=Decimal("22.00"))  # fmt: skip
    OrderLineFactory(order=order, quantity=Decimal("1"), unit_price=Decimal("0.05"),
                     vat_rate=Decimal("22.00"))  # fmt: skip

    html = nam_client.get(f"/orders/{order.pk}/").content.decode()

    totals = re.search(r'data-testid="order-totals">(.*?)</tfoot>', html, re.S).group(1)
    # 30.00 + 0.05 net; VAT 6.60 + 0.01 (0.011 rounded per line); gross 36.66.
    assert "30.05 EUR" in totals
    assert "6.61 EUR" in totals
    assert "36.66 EUR" in totals


def test_it_shows_only_the_allowed_transitions_and_records_them(nam_client, account) -> None:
    order = OrderFactory(client=account)
    OrderLineFactory(order=order)

    html = nam_client.get(f"/orders/{order.pk}/").content.decode()
    assert re.findall(r'name="to" value="([a-z_]+)"', html) == ["submitted", "cancelled"]

    response = nam_client.post(f"/orders/{order.pk}/transition/", {"to": "submitted"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "submitted"
    change = OrderStatusChange.objects.get(order=order)
    assert (change.from_status, change.to_status) == ("draft", "submitted")

    html = nam_client.get(f"/orders/{order.pk}/").content.decode()
    assert re.findall(r'name="to" value="([a-z_]+)"', html) == ["draft", "confirmed", "cancelled"]
    assert "Submitted" in re.search(r'data-testid="status-history">(.*?)</ol>', html, re.S)[0]


def test_it_refuses_a_transition_the_rules_forbid_with_a_message(nam_client, account) -> None:
    order = OrderFactory(client=account)

    response = nam_client.post(f"/orders/{order.pk}/transition/", {"to": "submitted"},
                               follow=True)  # fmt: skip

    assert "Add at least one line before submitting the order." in response.content.decode()
    order.refresh_from_db()
    assert order.status == "draft"


def test_it_shows_no_buttons_to_someone_who_only_reads(english, login, account, finance) -> None:
    order = OrderFactory(client=account, status="submitted")
    login(finance)

    html = english.get(f"/orders/{order.pk}/").content.decode()

    assert 'name="to"' not in html
    assert "Reorder" not in html


def test_it_runs_as_many_queries_for_30_lines_as_for_1(nam_client, account) -> None:
    order = OrderFactory(client=account)
    OrderLineFactory(order=order)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert nam_client.get(f"/orders/{order.pk}/").status_code == 200
        return len(captured)

    few = queries()
    for _ in range(29):
        OrderLineFactory(order=order)
    assert queries() == few


# Fast entry ----------------------------------------------------------------------------------


def test_it_creates_a_draft_on_the_contract_in_force(nam_client, account, contract) -> None:
    page = nam_client.get(f"/orders/new/{account.pk}/").content.decode()
    assert f'<option value="{contract.pk}" selected>' in page

    response = nam_client.post(
        f"/orders/new/{account.pk}/",
        {"contract": contract.pk, "kind": "new", "order_date": timezone.localdate().isoformat()},
    )

    order = Order.objects.get(client=account)
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/#lines"
    assert (order.status, order.contract, order.number[:4]) == ("draft", contract, "ORD-")


def test_it_refuses_an_order_on_an_expired_contract(nam_client, account) -> None:
    expired = ContractFactory(client=account, status="expired")

    response = nam_client.post(
        f"/orders/new/{account.pk}/",
        {"contract": expired.pk, "kind": "new", "order_date": timezone.localdate().isoformat()},
    )

    assert response.status_code == 200
    assert not Order.objects.exists()


def test_it_adds_a_line_by_sku_at_the_contract_price_with_htmx(
    nam_client, account, contract
) -> None:
    product = ProductFactory(sku="TON-100", name="Toner")
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("80.00"),
                         valid_from=contract.starts_on)  # fmt: skip
    order = OrderFactory(client=account, contract=contract, order_date=timezone.localdate())

    response = nam_client.post(
        f"/orders/{order.pk}/lines/add/",
        {"product": "ton-100", "quantity": "2", "version": order.version},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="order-lines"' in html
    assert "TON-100" in html
    line = OrderLine.objects.get(order=order)
    assert (line.unit_price, line.contract_price, line.quantity) == (
        Decimal("80.00"), Decimal("80.00"), Decimal("2")
    )  # fmt: skip
    order.refresh_from_db()
    # The swapped form carries the new version, so the next line is not a conflict.
    assert f'name="version" value="{order.version}"' in html


def test_it_finds_a_product_by_a_unique_name(nam_client, account) -> None:
    ProductFactory(sku="CHAIR-1", name="Ergonomic chair")
    order = OrderFactory(client=account)

    data = {"product": "ergonomic", "quantity": "1", "version": order.version}
    nam_client.post(f"/orders/{order.pk}/lines/add/", data)

    assert OrderLine.objects.get(order=order).product.sku == "CHAIR-1"


def test_it_asks_for_the_sku_when_several_products_match(nam_client, account) -> None:
    ProductFactory(sku="P-1", name="Paper A4")
    ProductFactory(sku="P-2", name="Paper A3")
    order = OrderFactory(client=account)

    data = {"product": "paper", "quantity": "1", "version": order.version}
    response = nam_client.post(f"/orders/{order.pk}/lines/add/", data)

    assert response.status_code == 400
    assert "Several products match" in response.content.decode()
    assert not OrderLine.objects.exists()


def test_it_wants_a_reason_for_a_manual_price_off_the_contract(
    nam_client, account, contract
) -> None:
    product = ProductFactory(sku="TON-100")
    ContractPriceFactory(contract=contract, product=product, valid_from=contract.starts_on)
    order = OrderFactory(client=account, contract=contract, order_date=timezone.localdate())
    data = {"product": "TON-100", "quantity": "1", "unit_price": "70.00"}

    refused = nam_client.post(f"/orders/{order.pk}/lines/add/", data | {"version": order.version})
    assert "needs a reason" in refused.content.decode()
    assert not OrderLine.objects.exists()

    nam_client.post(f"/orders/{order.pk}/lines/add/",
                    data | {"version": order.version, "price_reason": "Tender match"})  # fmt: skip
    line = OrderLine.objects.get()
    assert (line.unit_price, line.price_reason) == (Decimal("70.00"), "Tender match")


def test_it_refuses_a_line_saved_on_a_stale_version(nam_client, account) -> None:
    ProductFactory(sku="A-1")
    order = OrderFactory(client=account)
    stale = order.version
    Order.objects.filter(pk=order.pk).update(version=stale + 1)  # someone else saved meanwhile

    response = nam_client.post(f"/orders/{order.pk}/lines/add/",
                               {"product": "A-1", "quantity": "1", "version": stale})  # fmt: skip

    assert "Someone else changed this order" in response.content.decode()
    assert not OrderLine.objects.exists()


def test_it_edits_and_removes_a_line(nam_client, account) -> None:
    order = OrderFactory(client=account)
    line = OrderLineFactory(order=order, product=ProductFactory(list_price=Decimal("12.00")))

    page = nam_client.get(f"/orders/{order.pk}/lines/{line.pk}/edit/")
    assert page.status_code == 200
    nam_client.post(f"/orders/{order.pk}/lines/{line.pk}/edit/",
                    {"quantity": "5", "version": order.version})  # fmt: skip
    line.refresh_from_db()
    assert (line.quantity, line.unit_price) == (Decimal("5"), Decimal("12.00"))

    order.refresh_from_db()
    response = nam_client.post(f"/orders/{order.pk}/lines/{line.pk}/delete/",
                               {"version": order.version})  # fmt: skip
    assert response.status_code == 302
    assert not OrderLine.objects.exists()


def test_it_offers_priced_products_while_a_sku_is_typed(nam_client, account, contract) -> None:
    product = ProductFactory(sku="TON-100", name="Toner", list_price=Decimal("100.00"))
    ProductFactory(sku="TON-200", name="Toner XL", list_price=Decimal("200.00"))
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("80.00"),
                         valid_from=contract.starts_on)  # fmt: skip
    order = OrderFactory(client=account, contract=contract, order_date=timezone.localdate())

    response = nam_client.get(f"/orders/products/?order={order.pk}&product=ton",
                              headers={"HX-Request": "true"})  # fmt: skip

    html = response.content.decode()
    assert html.strip().startswith('<datalist id="product-options">')
    assert re.findall(r'<option value="([^"]+)"', html) == ["TON-100", "TON-200"]
    assert 'TON-100">Toner · 80.00 EUR (contract price)' in html
    assert "Toner XL · 200.00 EUR - 10.00% (list price)" in html


def test_it_makes_a_reorder_at_todays_prices(nam_client, account, contract) -> None:
    product = ProductFactory(sku="TON-100")
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("75.00"),
                         valid_from=contract.starts_on)  # fmt: skip
    past = OrderFactory(client=account, status="fulfilled", order_date=datetime.date(2025, 3, 1))
    OrderLineFactory(order=past, product=product, quantity=Decimal("4"),
                     unit_price=Decimal("90.00"))  # fmt: skip

    response = nam_client.post(f"/orders/{past.pk}/reorder/")

    copy = Order.objects.get(reorder_of=past)
    assert response["Location"] == f"/orders/{copy.pk}/#lines"
    assert (copy.kind, copy.status, copy.contract) == ("reorder", "draft", contract)
    line = copy.lines.get()
    assert (line.quantity, line.unit_price) == (Decimal("4"), Decimal("75.00"))


def test_it_refuses_a_header_edit_made_on_a_stale_version(nam_client, account) -> None:
    order = OrderFactory(client=account)
    data = {"kind": "new", "order_date": "2026-06-01", "client_po": "PO-9",
            "version": order.version}  # fmt: skip
    Order.objects.filter(pk=order.pk).update(version=order.version + 1)

    response = nam_client.post(f"/orders/{order.pk}/edit/", data)

    assert response.status_code == 200
    assert "Someone else changed this order" in response.content.decode()
    order.refresh_from_db()
    assert order.client_po == ""


def test_the_client_page_lists_orders_contracts_and_opportunities(
    nam_client, account, contract
) -> None:
    OrderFactory(client=account, number="ORD-ON-PAGE")

    html = nam_client.get(f"/clients/{account.pk}/").content.decode()

    assert 'id="orders"' in html
    assert "ORD-ON-PAGE" in html
    assert 'id="contracts"' in html
    assert contract.number in html
    assert 'id="opportunities"' in html
    assert f"/orders/new/{account.pk}/" in html


# Deliveries ----------------------------------------------------------------------------------


def test_it_records_deliveries_until_the_order_is_fulfilled(nam_client, account) -> None:
    order = OrderFactory(client=account, status="confirmed")
    line = OrderLineFactory(order=order, quantity=Decimal("4"))
    url = f"/orders/{order.pk}/lines/{line.pk}/delivery/"

    assert 'data-testid="delivery-form"' in nam_client.get(f"/orders/{order.pk}/").content.decode()
    nam_client.post(url, {"delivered_quantity": "1"})
    order.refresh_from_db()
    assert order.status == "in_progress"

    nam_client.post(url, {"delivered_quantity": "4"})
    order.refresh_from_db()
    assert order.status == "fulfilled"
    html = nam_client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="delivery-form"' not in html
    assert "Everything delivered." in html


def test_it_refuses_to_deliver_more_than_was_ordered(nam_client, account) -> None:
    order = OrderFactory(client=account, status="confirmed")
    line = OrderLineFactory(order=order, quantity=Decimal("2"))

    response = nam_client.post(
        f"/orders/{order.pk}/lines/{line.pk}/delivery/", {"delivered_quantity": "3"}, follow=True
    )

    assert "More cannot be delivered than was ordered." in response.content.decode()
    line.refresh_from_db()
    assert line.delivered_quantity == 0


def test_it_lets_no_one_record_a_delivery_on_a_draft(nam_client, account) -> None:
    order = OrderFactory(client=account)
    line = OrderLineFactory(order=order)

    response = nam_client.post(
        f"/orders/{order.pk}/lines/{line.pk}/delivery/", {"delivered_quantity": "1"}, follow=True
    )

    assert "Deliveries are recorded on confirmed orders only." in response.content.decode()


def test_it_shows_the_change_history_of_the_order_and_its_lines(nam_client, account, nam) -> None:
    ProductFactory(sku="HIST-1")
    order = OrderFactory(client=account)
    reorder = OrderFactory(client=account, kind="reorder", reorder_of=order)
    Order.objects.filter(pk=reorder.pk).update(client_po="NOT-MINE")  # an update event, with diff

    nam_client.post(f"/orders/{order.pk}/lines/add/",
                    {"product": "HIST-1", "quantity": "2", "version": order.version})  # fmt: skip
    html = nam_client.get(f"/orders/{order.pk}/").content.decode()

    history = re.search(r'data-testid="history">(.*?)</table>', html, re.S)[1]
    assert "Order line" in history
    assert nam.get_full_name() in history
    # A reorder points at this order, but its changes belong to its own page.
    assert "NOT-MINE" not in history


def test_it_answers_a_refused_htmx_line_with_the_form_and_its_error(nam_client, account) -> None:
    order = OrderFactory(client=account)

    response = nam_client.post(
        f"/orders/{order.pk}/lines/add/",
        {"product": "NOPE-1", "quantity": "1", "version": order.version},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "No active product has the SKU or name “NOPE-1”." in html
    assert 'value="NOPE-1"' in html  # what was typed stays in the field
    assert not OrderLine.objects.exists()
