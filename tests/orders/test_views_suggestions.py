"""The client page's reorders due and whitespace sections, and the one click that turns a
suggestion into an opportunity (orders.views.suggestion_opportunity)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client
from orders import views
from orders.models import Opportunity, Order, Product
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    OpportunityFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HTMX = {"HX-Request": "true"}


def ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def buy(client: Client, product: Product, on: datetime.date, quantity: str = "2") -> Order:
    order = OrderFactory(client=client, order_date=on, status="fulfilled")
    OrderLineFactory(order=order, product=product, quantity=Decimal(quantity),
                     unit_price=Decimal("10.00"))  # fmt: skip
    return order


@pytest.fixture
def account() -> Client:
    return ClientFactory(name="Padano Spa", industry="Food")


@pytest.fixture
def toner() -> Product:
    return ProductFactory(sku="TON-1", name="Toner", family="Consumables")


@pytest.fixture
def monthly(account: Client, toner: Product) -> None:
    """Toner every 30 days, last 35 days ago: 5 days overdue."""
    for days in (95, 65, 35):
        buy(account, toner, ago(days))


@pytest.fixture
def peer_buys_service(account: Client) -> Product:
    """A comparable client (same industry, another group) buys a family the account does not."""
    service = ProductFactory(sku="SRV-1", name="Managed print", family="Services")
    buy(ClientFactory(name="Secret Rival Spa", industry="Food"), service, ago(20))
    ClientFactory(name="Idle Peer Spa", industry="Food")  # comparable, buys nothing
    return service


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def nam_client(english, login, account):
    login(AccountTeamMemberFactory(client=account, role="nam").user)
    return english


def page(http, account: Client) -> str:
    response = http.get(f"/clients/{account.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, slug: str) -> str:
    match = re.search(rf'<section id="{slug}".*?</section>', html, re.S)
    assert match, slug
    return match.group(0)


# The sections ---------------------------------------------------------------------------------


def test_it_lists_a_reorder_due_with_its_evidence(nam_client, account, monthly) -> None:
    html = section(page(nam_client, account), "reorders")

    assert "TON-1" in html
    assert "every 30 days" in html
    assert "5 days overdue" in html
    assert "3 purchases, last 2" in html
    for days in (95, 65, 35):
        assert ago(days).strftime("%m/%d/%Y") in html
    assert 'data-testid="suggestion-create"' in html


def test_it_says_when_nothing_is_due(nam_client, account) -> None:
    html = section(page(nam_client, account), "reorders")

    assert "Nothing is due for a reorder." in html


def test_it_shows_the_group_matrix_and_the_peer_evidence_as_numbers_only(
    nam_client, account, toner, peer_buys_service
) -> None:
    subsidiary = ClientFactory(name="Padano Logistica", parent=account, team=account.team,
                               industry="Food")  # fmt: skip
    AccountTeamMemberFactory(client=subsidiary, role="nam")
    buy(account, toner, ago(40))

    html = section(page(nam_client, account), "whitespace")

    assert "Padano Spa" in html
    assert "Padano Logistica" not in html  # a company of the group the NAM does not see
    assert "Consumables" in html
    assert "Services" in html
    assert "bought by 1 of 2 comparable clients (same industry)" in html
    assert "Secret Rival" not in html
    assert "Idle Peer" not in html


def test_it_shows_no_button_to_someone_who_does_not_take_orders(
    english, login, account, monthly, peer_buys_service
) -> None:
    login(AccountTeamMemberFactory(client=account, role="project_manager").user)

    html = page(english, account)

    assert "TON-1" in section(html, "reorders")
    assert "Services" in section(html, "whitespace")
    assert 'data-testid="suggestion-create"' not in html


# One click ------------------------------------------------------------------------------------


def test_one_click_turns_a_reorder_due_into_an_opportunity_and_the_button_into_a_link(
    nam_client, account, toner, monthly
) -> None:
    url = f"/orders/suggestions/{account.pk}/opportunity/"
    data = {"source": "reorder_due", "product": toner.pk}

    first = nam_client.post(url, data, headers=HTMX)
    again = nam_client.post(url, data, headers=HTMX)

    opportunity = Opportunity.objects.get(client=account)
    assert opportunity.source == "reorder_due"
    assert list(opportunity.products.all()) == [toner]
    for response in (first, again):
        assert response.status_code == 200
        html = response.content.decode()
        assert f'href="/orders/opportunities/{opportunity.pk}/edit/"' in html
        assert "suggestion-create" not in html
    # The page, reloaded, shows the link in place of the button.
    reloaded = section(page(nam_client, account), "reorders")
    assert f"/orders/opportunities/{opportunity.pk}/edit/" in reloaded
    assert "suggestion-create" not in reloaded


def test_one_click_turns_a_whitespace_family_into_an_opportunity(
    nam_client, account, peer_buys_service
) -> None:
    url = f"/orders/suggestions/{account.pk}/opportunity/"

    response = nam_client.post(url, {"source": "whitespace", "family": "Services"})
    nam_client.post(url, {"source": "whitespace", "family": "Services"})

    opportunity = Opportunity.objects.get(client=account)
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{account.pk}/#whitespace"
    assert opportunity.source == "whitespace"
    assert list(opportunity.products.all()) == [peer_buys_service]
    html = section(page(nam_client, account), "whitespace")
    assert f"/orders/opportunities/{opportunity.pk}/edit/" in html


def test_it_refuses_a_family_that_is_not_a_suggestion(
    nam_client, account, toner, peer_buys_service
) -> None:
    buy(account, toner, ago(10))
    url = f"/orders/suggestions/{account.pk}/opportunity/"

    response = nam_client.post(url, {"source": "whitespace", "family": "Consumables"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Consumables is not a whitespace suggestion for this group." in html
    assert 'data-testid="suggestion-create"' in html  # the button stays
    assert not Opportunity.objects.exists()


def test_it_refuses_a_product_that_is_not_due(nam_client, account, toner) -> None:
    url = f"/orders/suggestions/{account.pk}/opportunity/"

    response = nam_client.post(url, {"source": "reorder_due", "product": toner.pk}, follow=True)

    assert "Toner is no longer due for a reorder." in response.content.decode()
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{"source": "manual", "family": "Services"}, {"source": "reorder_due"},
     {"source": "whitespace"}, {"source": "reorder_due", "product": "999999"}],
)  # fmt: skip
def test_it_refuses_a_malformed_suggestion(nam_client, account, peer_buys_service, data) -> None:
    response = nam_client.post(f"/orders/suggestions/{account.pk}/opportunity/", data, headers=HTMX)

    assert response.status_code == 200
    assert 'id="messages"' in response.content.decode()
    assert not Opportunity.objects.exists()


def test_a_won_suggestion_can_be_suggested_again(nam_client, account, toner, monthly) -> None:
    OpportunityFactory(client=account, source="reorder_due", stage="won").products.set([toner])

    nam_client.post(
        f"/orders/suggestions/{account.pk}/opportunity/",
        {"source": "reorder_due", "product": toner.pk},
    )

    assert Opportunity.objects.filter(client=account, stage="qualification").count() == 1


# Query counts ---------------------------------------------------------------------------------


def _sections_queries(user_pk: int, account: Client) -> tuple[int, int]:
    """Queries of each section's context, in page order on one request (as the page runs them)."""
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=user_pk)  # fresh: no roles cached from a previous round
    counts = []
    for context in (views.client_reorders_context, views.client_whitespace_context):
        with CaptureQueriesContext(connection) as queries:
            context(request, account)
        counts.append(len(queries))
    return counts[0], counts[1]


def _grow_history(account: Client, extra: int) -> None:
    """`extra` more products due, and `extra` more families bought by peers."""
    for n in range(extra):
        product = ProductFactory(family=f"Due {n}")
        for days in (95, 65, 35):
            buy(account, product, ago(days))
        buy(ClientFactory(industry="Food"), ProductFactory(family=f"Peer {n}"), ago(15))


def test_the_sections_run_a_fixed_number_of_queries(
    account, monthly, peer_buys_service, django_assert_num_queries
) -> None:
    nam = AccountTeamMemberFactory(client=account, role="nam").user
    suggested = OpportunityFactory(client=account, source="whitespace")
    suggested.products.set([peer_buys_service])
    few = _sections_queries(nam.pk, account)
    _grow_history(account, 6)

    many = _sections_queries(nam.pk, account)

    assert many == few
    # reorders: rhythms, clients, products; the open suggestions and their products; the
    # person's roles and account roles. whitespace: companies, families, amounts, peers, their
    # families (the open suggestions and the roles are read once per request).
    assert few == (7, 5)


def test_the_client_page_runs_as_many_queries_with_many_suggestions(
    nam_client, account, monthly, peer_buys_service
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(nam_client, account)
        return len(captured)

    few = queries()
    _grow_history(account, 6)

    assert queries() == few


def test_it_asks_for_an_industry_when_there_is_none_to_compare_with(english, login) -> None:
    bare = ClientFactory(name="Bare Spa", industry="")
    login(AccountTeamMemberFactory(client=bare, role="nam").user)

    html = section(page(english, bare), "whitespace")

    assert "give the client an industry to compare it with similar clients" in html
