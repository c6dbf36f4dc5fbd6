"""Contracts (list, page, create, edit with versions, prices), opportunities (list, create, edit,
win) and the product list."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Contract, ContractPrice, Opportunity, Order
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    OpportunityFactory,
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
def nam_client(english, login, account):
    login(AccountTeamMemberFactory(client=account, role="nam").user)
    return english


def rows(response, testid: str) -> list[str]:
    html = response.content.decode()
    return re.findall(rf'data-testid="{testid}">\s*<td[^>]*>(?:<a[^>]*>)?([^<]+)<', html)


CONTRACT_DATA = {
    "number": "CTR-NEW", "status": "active", "starts_on": "2026-01-01", "ends_on": "2026-12-31",
    "renewal_notice_days": "90", "payment_terms_days": "60", "default_discount": "5",
    "currency": "EUR",
}  # fmt: skip


def test_it_lists_and_exports_the_visible_contracts(nam_client, account) -> None:
    ContractFactory(client=account, number="CTR-MINE", status="active")
    ContractFactory(client=account, number="CTR-OLD", status="expired")
    ContractFactory(number="CTR-FOREIGN")

    assert sorted(rows(nam_client.get("/orders/contracts/"), "contract-row")) == [
        "CTR-MINE",
        "CTR-OLD",
    ]
    assert rows(nam_client.get("/orders/contracts/?status=expired"), "contract-row") == ["CTR-OLD"]
    response = nam_client.get("/orders/contracts/?format=csv&q=mine")
    content = b"".join(response.streaming_content).decode()
    assert [row[0] for row in csv.reader(io.StringIO(content))] == ["Number", "CTR-MINE"]


def test_it_creates_a_contract_from_the_client_page(nam_client, account) -> None:
    response = nam_client.post(f"/orders/contracts/new/{account.pk}/", CONTRACT_DATA)

    contract = Contract.objects.get(number="CTR-NEW")
    assert response.status_code == 302
    assert contract.client == account
    assert contract.default_discount == Decimal("5")


def test_it_refuses_a_contract_edit_made_on_a_stale_version(nam_client, account) -> None:
    contract = ContractFactory(client=account, number="CTR-1")
    data = CONTRACT_DATA | {"number": "CTR-1", "terms": "Mine", "version": contract.version}
    Contract.objects.filter(pk=contract.pk).update(version=contract.version + 1)

    response = nam_client.post(f"/orders/contracts/{contract.pk}/edit/", data)

    assert response.status_code == 200
    assert "Someone else changed this contract" in response.content.decode()
    contract.refresh_from_db()
    assert contract.terms == ""


def test_it_saves_a_contract_edit_on_the_current_version(nam_client, account) -> None:
    contract = ContractFactory(client=account, number="CTR-1")
    data = CONTRACT_DATA | {"number": "CTR-1", "terms": "Mine", "version": contract.version}

    response = nam_client.post(f"/orders/contracts/{contract.pk}/edit/", data)

    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.terms, contract.version) == ("Mine", 2)


def test_it_adds_prices_and_refuses_an_overlapping_period(nam_client, account) -> None:
    contract = ContractFactory(client=account)
    product = ProductFactory(sku="TON-1")
    ContractPriceFactory(contract=contract, product=product, valid_from="2026-01-01",
                         valid_to="2026-06-30")  # fmt: skip
    url = f"/orders/contracts/{contract.pk}/prices/new/"

    overlap = nam_client.post(url, {"product": product.pk, "unit_price": "70",
                                    "valid_from": "2026-06-01"})  # fmt: skip
    assert overlap.status_code == 200
    assert "already has an agreed price" in overlap.content.decode()

    nam_client.post(url, {"product": product.pk, "unit_price": "70", "valid_from": "2026-07-01"})
    assert ContractPrice.objects.filter(contract=contract).count() == 2
    page = nam_client.get(f"/orders/contracts/{contract.pk}/").content.decode()
    assert page.count('data-testid="contract-price"') == 2
    assert 'href="/orders/imports/"' in page  # the NAM may import this contract's prices


def test_it_creates_edits_and_wins_an_opportunity(nam_client, account) -> None:
    product = ProductFactory(sku="UPS-1")
    data = {"title": "More toner", "stage": "proposal", "value": "1000", "currency": "EUR",
            "probability": "40", "products": [product.pk]}  # fmt: skip

    nam_client.post(f"/orders/opportunities/new/{account.pk}/", data)
    opportunity = Opportunity.objects.get(title="More toner")
    assert list(opportunity.products.all()) == [product]

    nam_client.post(f"/orders/opportunities/{opportunity.pk}/edit/", data | {"value": "2000"})
    opportunity.refresh_from_db()
    assert opportunity.value == Decimal("2000")

    response = nam_client.post(f"/orders/opportunities/{opportunity.pk}/win/")
    order = Order.objects.get(client=account)
    assert response["Location"] == f"/orders/{order.pk}/#lines"
    assert (order.kind, order.status, order.lines.get().product) == ("upsell", "draft", product)
    opportunity.refresh_from_db()
    assert opportunity.stage == "won"


def test_it_lists_the_visible_opportunities(nam_client, account) -> None:
    OpportunityFactory(client=account, title="Mine")
    OpportunityFactory(title="Foreign")

    response = nam_client.get("/orders/opportunities/")

    assert rows(response, "opportunity-row") == ["Mine"]


def test_it_lists_searches_and_exports_the_catalogue(nam_client) -> None:
    ProductFactory(sku="TON-1", name="Toner", family="Supplies")
    ProductFactory(sku="CHA-1", name="Chair", family="Furniture")

    response = nam_client.get("/orders/products/?q=ton")

    assert "TON-1" in response.content.decode()
    assert "CHA-1" not in response.content.decode()
    csv_response = nam_client.get("/orders/products/?format=csv&ordering=sku")
    content = b"".join(csv_response.streaming_content).decode()
    assert [row[0] for row in csv.reader(io.StringIO(content))] == ["SKU", "CHA-1", "TON-1"]


def test_it_shows_the_change_history_of_the_contract_and_its_prices(nam_client, account) -> None:
    contract = ContractFactory(client=account)
    product = ProductFactory(sku="HIST-2")
    url = f"/orders/contracts/{contract.pk}/prices/new/"
    nam_client.post(url, {"product": product.pk, "unit_price": "70", "valid_from": "2026-07-01"})

    html = nam_client.get(f"/orders/contracts/{contract.pk}/").content.decode()

    history = re.search(r'data-testid="history">(.*?)</table>', html, re.S)[1]
    assert "Contract price" in history
    assert "Created" in history


def _queries(http, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert http.get(url).status_code == 200
    return len(captured)


def test_the_contract_and_opportunity_lists_run_as_many_queries_for_30_rows_as_for_2(
    nam_client, account
) -> None:
    def add(n: int) -> None:
        for _ in range(n):
            ContractFactory(client=account)
            OpportunityFactory(client=account).products.add(ProductFactory())

    add(2)
    few = (_queries(nam_client, "/orders/contracts/"),
           _queries(nam_client, "/orders/opportunities/"))  # fmt: skip
    add(28)
    assert (_queries(nam_client, "/orders/contracts/"),
            _queries(nam_client, "/orders/opportunities/")) == few  # fmt: skip


def test_the_contract_page_runs_as_many_queries_for_30_prices_as_for_1(nam_client, account) -> None:
    contract = ContractFactory(client=account)
    ContractPriceFactory(contract=contract)
    few = _queries(nam_client, f"/orders/contracts/{contract.pk}/")
    for _ in range(29):
        ContractPriceFactory(contract=contract)
    assert _queries(nam_client, f"/orders/contracts/{contract.pk}/") == few
