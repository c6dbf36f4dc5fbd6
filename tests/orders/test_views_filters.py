"""The id filters of the orders, contracts and opportunities lists: dropdowns of what the
person sees in the HTML form (orders.selectors.list_filter_choices), ids in the API."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from orders.models import Contract, Opportunity, Order
from orders.selectors import list_filter_choices
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    OpportunityFactory,
    OrderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    mine, theirs = ClientFactory(name="Mine Spa"), ClientFactory(name="Theirs Spa")
    nam = AccountTeamMemberFactory(client=mine, role="nam").user
    owner = UserFactory(first_name="Olga", last_name="Owner")
    stranger = UserFactory(first_name="Sven", last_name="Stranger")
    contract = ContractFactory(client=mine, number="CTR-MINE")
    ContractFactory(client=theirs, number="CTR-THEIRS")
    OrderFactory(client=mine, contract=contract, owner=owner, number="ORD-MINE")
    OrderFactory(client=theirs, owner=stranger, number="ORD-THEIRS")
    OpportunityFactory(client=mine, owner=owner, title="Opp mine")
    OpportunityFactory(client=theirs, owner=stranger, title="Opp theirs")
    return {"mine": mine, "theirs": theirs, "nam": nam, "owner": owner, "contract": contract}


@pytest.fixture
def nam_client(client, login, book):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(book["nam"])
    return client


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select, name
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select[0])]


def test_the_order_list_offers_only_visible_clients_contracts_and_owners(nam_client, book) -> None:
    html = nam_client.get("/orders/").content.decode()

    assert options(html, "client") == ["All", "Mine Spa"]
    assert options(html, "contract") == ["All", "CTR-MINE (Mine Spa)"]
    assert options(html, "owner") == ["All", "Olga Owner"]


def test_the_contract_and_opportunity_lists_offer_only_visible_choices(nam_client, book) -> None:
    contracts = nam_client.get("/orders/contracts/").content.decode()
    opportunities = nam_client.get("/orders/opportunities/").content.decode()

    assert options(contracts, "client") == ["All", "Mine Spa"]
    assert options(opportunities, "client") == ["All", "Mine Spa"]
    assert options(opportunities, "owner") == ["All", "Olga Owner"]


def test_choosing_from_a_dropdown_filters_the_list(nam_client, book) -> None:
    OrderFactory(client=book["mine"], number="ORD-OTHER-OWNER")

    response = nam_client.get(f"/orders/?owner={book['owner'].pk}")

    html = response.content.decode()
    assert "ORD-MINE" in html
    assert "ORD-OTHER-OWNER" not in html
    assert f'<option value="{book["owner"].pk}" selected>' in html


def test_a_client_without_orders_yet_is_offered_when_linked_from_its_page(nam_client, book) -> None:
    fresh = ClientFactory(name="Fresh Spa")
    AccountTeamMemberFactory(client=fresh, user=book["nam"], role="nam")

    html = nam_client.get(f"/orders/?client={fresh.pk}").content.decode()

    assert "Fresh Spa" in options(html, "client")
    assert "ORD-MINE" not in html  # filtered to Fresh Spa, which has none


def test_a_foreign_id_is_not_a_choice_and_reveals_nothing(nam_client, book) -> None:
    html = nam_client.get(f"/orders/?client={book['theirs'].pk}").content.decode()

    assert "Select a valid choice" in html
    assert "Theirs Spa" not in html
    assert "ORD-THEIRS" not in html


def test_the_api_still_filters_by_id(nam_client, book) -> None:
    response = nam_client.get(f"/api/v1/orders/?client={book['mine'].pk}")

    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == ["ORD-MINE"]


@pytest.mark.parametrize(
    ("model", "queries"), [(Order, 3), (Contract, 1), (Opportunity, 2)]
)  # fmt: skip
def test_the_choices_take_one_query_per_filter(
    book, django_assert_num_queries, model, queries
) -> None:
    nam = User.objects.get(pk=book["nam"].pk)
    list_filter_choices(user=nam, model=Order)  # the person's roles, read once per request
    for _ in range(20):
        OrderFactory(client=book["mine"], owner=UserFactory())
        OpportunityFactory(client=book["mine"], owner=UserFactory())

    with django_assert_num_queries(queries):
        list_filter_choices(user=nam, model=model)
