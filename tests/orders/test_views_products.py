"""Catalogue pages outside the admin: product page, create and edit (admin only)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts_crm.access import Role
from orders.models import Product
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DATA = {
    "sku": "NEW-1", "name": "Stapler", "family": "Office", "kind": "product", "unit": "pz",
    "list_price": "12.50", "currency": "EUR", "vat_rate": "22", "is_active": "on",
}  # fmt: skip


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def admin_client(english, login):
    login(UserFactory(roles=[Role.ADMIN]))
    return english


def test_an_admin_adds_a_product_and_lands_on_its_page(admin_client) -> None:
    response = admin_client.post("/orders/products/new/", DATA)

    product = Product.objects.get(sku="NEW-1")
    assert response.status_code == 302
    assert response["Location"] == f"/orders/products/{product.pk}/"
    assert (product.name, product.list_price, product.is_active) == (
        "Stapler",
        Decimal("12.50"),
        True,
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert "Stapler" in page
    assert f'href="/orders/products/{product.pk}/edit/"' in page


def test_an_admin_edits_and_retires_a_product(admin_client) -> None:
    product = ProductFactory(sku="OLD-1", name="Old name")

    response = admin_client.post(
        f"/orders/products/{product.pk}/edit/", DATA | {"sku": "OLD-1", "is_active": ""}
    )

    product.refresh_from_db()
    assert response.status_code == 302
    assert (product.name, product.is_active) == ("Stapler", False)


def test_it_refuses_a_zero_rate_without_a_vat_nature_and_changes_nothing(admin_client) -> None:
    product = ProductFactory(sku="VAT-1", name="Kept")

    response = admin_client.post(
        f"/orders/products/{product.pk}/edit/", DATA | {"sku": "VAT-1", "vat_rate": "0"}
    )

    assert response.status_code == 200
    assert "Give a VAT nature code exactly when the rate is 0." in response.content.decode()
    product.refresh_from_db()
    assert product.name == "Kept"


def test_it_refuses_a_sku_already_in_the_catalogue(admin_client) -> None:
    ProductFactory(sku="NEW-1")

    response = admin_client.post("/orders/products/new/", DATA)

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Product.objects.filter(sku="NEW-1").count() == 1


def test_only_an_admin_is_offered_the_catalogue_buttons(english, login, admin_client) -> None:
    product = ProductFactory()
    admin_list = admin_client.get("/orders/products/").content.decode()
    admin_page = admin_client.get(f"/orders/products/{product.pk}/").content.decode()
    admin_client.logout()
    lead = UserFactory(roles=[Role.TEAM_LEAD])
    login(lead)

    lead_list = english.get("/orders/products/").content.decode()
    lead_page = english.get(f"/orders/products/{product.pk}/").content.decode()

    assert 'href="/orders/products/new/"' in admin_list
    assert 'href="/orders/imports/"' in admin_list
    assert 'href="/orders/imports/"' not in lead_list
    assert f'href="/orders/products/{product.pk}/edit/"' in admin_page
    assert 'href="/orders/products/new/"' not in lead_list
    assert f'href="/orders/products/{product.pk}/edit/"' not in lead_page
    assert f'href="/orders/products/{product.pk}/"' in lead_list  # the row links to its page


def test_the_product_page_shows_only_the_prices_of_contracts_the_person_sees(
    english, login
) -> None:
    product = ProductFactory()
    mine, theirs = ClientFactory(), ClientFactory()
    ContractPriceFactory(contract=ContractFactory(client=mine, number="CTR-MINE"), product=product)
    ContractPriceFactory(
        contract=ContractFactory(client=theirs, number="CTR-THEIRS"), product=product
    )
    login(AccountTeamMemberFactory(client=mine, role="nam").user)

    html = english.get(f"/orders/products/{product.pk}/").content.decode()

    assert "CTR-MINE" in html
    assert "CTR-THEIRS" not in html


def test_the_product_page_runs_as_many_queries_for_30_prices_as_for_1(admin_client) -> None:
    product = ProductFactory()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(f"/orders/products/{product.pk}/").status_code == 200
        return len(captured)

    ContractPriceFactory(product=product)
    few = queries()
    for _ in range(29):
        ContractPriceFactory(product=product)

    assert queries() == few


def test_an_unknown_product_is_a_404(admin_client) -> None:
    assert admin_client.get("/orders/products/999999/").status_code == 404
    assert admin_client.get("/orders/products/999999/edit/").status_code == 404
