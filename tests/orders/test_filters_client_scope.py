"""The filters on a row's client (clients.filters.ClientScopeFilters: nam, team, region,
industry, mine) on the contracts, orders and opportunities lists, HTML and API, and the list
filters the dashboards link with: contracts `ends_after`, orders `is_open` / `is_confirmed`,
opportunities `is_open`."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.utils import timezone

from clients.filters import client_scope_choices
from clients.models import AccountTeamMember, Client
from dashboards.health import ORDERED_STATUSES
from dashboards.nam import OPEN_ORDER_STATUSES as NAM_HOME_OPEN_ORDERS
from orders.filters import (
    CONFIRMED_ORDER_STATUSES,
    OPEN_ORDER_STATUSES,
    ContractFilter,
    OpportunityFilter,
    OrderFilter,
)
from orders.models import Contract, Opportunity, Order
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    OpportunityFactory,
    OrderFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
d = datetime.date


class Book:
    """Team North (lead): Alfa (NAM anna, Lombardia, Retail) and Bravo (NAM bruno, Lazio, with a
    plant in Piemonte, energy). Team South: Sud (NAM anna too). One contract, order and
    opportunity each."""

    def __init__(self) -> None:
        self.north, self.south = TeamFactory(name="North"), TeamFactory(name="South")
        self.lead = self.north.lead
        self.alfa = ClientFactory(name="Alfa", team=self.north, region="lombardia",
                                  industry="Retail")  # fmt: skip
        self.bravo = ClientFactory(name="Bravo", team=self.north, region="lazio",
                                   industry="Energy")  # fmt: skip
        SiteFactory(client=self.bravo, region="piemonte")
        self.sud = ClientFactory(name="Sud", team=self.south, region="puglia", industry="retail")
        self.anna = UserFactory(first_name="Anna", last_name="Alti")
        self.bruno = UserFactory(first_name="Bruno", last_name="Bassi")
        for client, nam in (
            (self.alfa, self.anna),
            (self.bravo, self.bruno),
            (self.sud, self.anna),
        ):
            AccountTeamMemberFactory(client=client, user=nam, role="nam")
            ContractFactory(client=client, number=f"CTR-{client.name}")
            OrderFactory(client=client, number=f"ORD-{client.name}")
            OpportunityFactory(client=client, title=f"Opp {client.name}")


@pytest.fixture
def book() -> Book:
    return Book()


def names(filterset: type, model: type, **data: object) -> list[str]:
    rows = filterset(data, queryset=model.objects.all()).qs
    return sorted(str(row.client.name) for row in rows.select_related("client"))


@pytest.mark.parametrize(
    ("filterset", "model"), [(ContractFilter, Contract), (OrderFilter, Order),
                             (OpportunityFilter, Opportunity)],
)  # fmt: skip
def test_it_filters_by_the_clients_nam_team_region_and_industry(
    book: Book, filterset: type, model: type
) -> None:
    assert names(filterset, model, nam=book.anna.pk) == ["Alfa", "Sud"]
    assert names(filterset, model, nam=book.bruno.pk) == ["Bravo"]
    assert names(filterset, model, team=book.north.pk) == ["Alfa", "Bravo"]
    assert names(filterset, model, team=book.north.pk, nam=book.anna.pk) == ["Alfa"]
    # The client list's rules: a site in the region counts, industry ignores case.
    assert names(filterset, model, region="piemonte") == ["Bravo"]
    assert names(filterset, model, region="lombardia") == ["Alfa"]
    assert names(filterset, model, industry="RETAIL") == ["Alfa", "Sud"]


def test_an_unknown_nam_or_team_filters_to_nothing(book: Book) -> None:
    nobody = UserFactory()
    assert names(OrderFilter, Order, nam=nobody.pk) == []
    assert names(OrderFilter, Order, nam=999_999) == []
    assert names(OrderFilter, Order, team=999_999) == []


def test_the_nam_is_todays_nam_and_the_first_while_two_overlap(book: Book) -> None:
    """A handover: the old NAM ended yesterday, or still overlaps with the new one (the first by
    id is the NAM, as on the team dashboard)."""
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    carla = UserFactory()
    membership = AccountTeamMember.objects.get(client=book.bravo, role="nam")
    AccountTeamMember.objects.filter(pk=membership.pk).update(
        ends_on=today + datetime.timedelta(days=30)
    )
    AccountTeamMemberFactory(client=book.bravo, user=carla, role="nam")
    assert names(OrderFilter, Order, nam=book.bruno.pk) == ["Bravo"]
    assert names(OrderFilter, Order, nam=carla.pk) == []

    AccountTeamMember.objects.filter(pk=membership.pk).update(
        starts_on=yesterday - datetime.timedelta(days=10), ends_on=yesterday
    )
    assert names(OrderFilter, Order, nam=book.bruno.pk) == []
    assert names(OrderFilter, Order, nam=carla.pk) == ["Bravo"]


def test_contracts_ending_between_two_dates(book: Book) -> None:
    ContractFactory(client=book.alfa, number="ENDED", starts_on=d(2024, 1, 1),
                    ends_on=d(2025, 6, 30))  # fmt: skip
    ContractFactory(client=book.alfa, number="SOON", ends_on=d(2026, 12, 1))
    ContractFactory(client=book.alfa, number="EDGE", ends_on=d(2026, 10, 1))
    data = {"ends_after": "2026-10-01", "ends_before": "2026-12-30"}
    rows = ContractFilter(data, queryset=Contract.objects.all()).qs
    assert sorted(rows.values_list("number", flat=True)) == ["EDGE", "SOON"]
    form = ContractFilter({"ends_after": "not a date"}, queryset=Contract.objects.all()).form
    assert not form.is_valid()
    assert form.errors["ends_after"]


def test_open_and_confirmed_orders(book: Book) -> None:
    for status in ("draft", "submitted", "confirmed", "in_progress", "fulfilled", "cancelled"):
        OrderFactory(client=book.alfa, number=f"S-{status}", status=status)
    rows = Order.objects.filter(number__startswith="S-")

    def statuses(**data: object) -> set[str]:
        return set(OrderFilter(data, queryset=rows).qs.values_list("status", flat=True))

    assert statuses(is_open="true") == {"draft", "submitted", "confirmed", "in_progress"}
    assert statuses(is_open="false") == {"fulfilled", "cancelled"}
    assert statuses(is_confirmed="true") == {"confirmed", "in_progress", "fulfilled"}
    assert statuses(is_confirmed="false") == {"draft", "submitted", "cancelled"}
    # One definition each: the NAM home's open orders, account health's ordered revenue.
    assert NAM_HOME_OPEN_ORDERS == OPEN_ORDER_STATUSES
    assert set(ORDERED_STATUSES) == set(CONFIRMED_ORDER_STATUSES)


def test_open_opportunities(book: Book) -> None:
    for stage in ("qualification", "proposal", "negotiation", "won", "lost"):
        OpportunityFactory(client=book.alfa, title=f"S-{stage}", stage=stage)
    rows = Opportunity.objects.filter(title__startswith="S-")
    found = OpportunityFilter({"is_open": "true"}, queryset=rows).qs
    assert set(found.values_list("stage", flat=True)) == {"qualification", "proposal",
                                                          "negotiation"}  # fmt: skip


# HTML and API ---------------------------------------------------------------------------------


@pytest.fixture
def lead_client(client: HttpClient, login: Callable[[User], HttpClient], book: Book) -> HttpClient:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return login(book.lead)


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select, name
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select[0])]


@pytest.mark.parametrize("path", ["/orders/", "/orders/contracts/", "/orders/opportunities/"])
def test_the_html_lists_offer_the_nams_and_teams_the_person_sees(
    lead_client: HttpClient, path: str
) -> None:
    html = lead_client.get(path).content.decode()
    assert options(html, "nam") == ["All", "Anna Alti", "Bruno Bassi"]
    assert options(html, "team") == ["All", "North"]


@pytest.mark.parametrize(
    ("path", "row"), [("/orders/", "ORD-"), ("/orders/contracts/", "CTR-"),
                      ("/orders/opportunities/", "Opp ")],
)  # fmt: skip
def test_choosing_a_nam_filters_the_html_list(
    lead_client: HttpClient, book: Book, path: str, row: str
) -> None:
    response = lead_client.get(path, {"nam": book.bruno.pk})
    assert response.context["page"].paginator.count == 1
    html = response.content.decode()
    assert f"{row}Bravo" in html
    assert f"{row}Alfa" not in html


def test_a_nam_the_person_does_not_see_is_a_form_error_and_reveals_nothing(
    lead_client: HttpClient, book: Book
) -> None:
    stranger = UserFactory(first_name="Sandro", last_name="Sconosciuto")
    AccountTeamMemberFactory(client=ClientFactory(name="Hidden"), user=stranger, role="nam")
    response = lead_client.get("/orders/", {"nam": stranger.pk})
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert "Sconosciuto" not in html
    response = lead_client.get("/orders/", {"nam": "abc"})
    assert response.status_code == 200
    assert response.context["filter"].form.errors["nam"]


@pytest.mark.parametrize(
    ("endpoint", "key"), [("orders", "number"), ("contracts", "number"),
                          ("opportunities", "title")],
)  # fmt: skip
def test_the_api_filters_by_nam_and_an_unknown_one_gives_nothing(
    lead_client: HttpClient, book: Book, endpoint: str, key: str
) -> None:
    response = lead_client.get(f"/api/v1/{endpoint}/", {"nam": book.anna.pk})
    assert response.status_code == 200
    assert [r[key].split()[-1].split("-")[-1] for r in response.json()["results"]] == ["Alfa"]
    response = lead_client.get(f"/api/v1/{endpoint}/", {"nam": 999_999})
    assert response.status_code == 200
    assert response.json()["results"] == []
    response = lead_client.get(f"/api/v1/{endpoint}/", {"team": book.north.pk,
                                                         "industry": "energy"})  # fmt: skip
    assert [r[key].split()[-1].split("-")[-1] for r in response.json()["results"]] == ["Bravo"]


def test_mine_is_the_clients_on_whose_account_team_the_person_is(
    client: HttpClient, login: Callable[[User], HttpClient], book: Book
) -> None:
    # The lead is also on Alfa's account team (sales): "mine" is Alfa, not the whole team.
    AccountTeamMemberFactory(client=book.alfa, user=book.lead, role="sales")
    http = login(book.lead)
    response = http.get("/api/v1/orders/", {"mine": "true"})
    assert [r["number"] for r in response.json()["results"]] == ["ORD-Alfa"]
    assert http.get("/orders/", {"mine": "true"}).context["page"].paginator.count == 1
    assert http.get("/orders/", {"mine": "false"}).context["page"].paginator.count == 1


def test_the_choices_take_one_query(book: Book, django_assert_num_queries: object) -> None:
    lead = User.objects.get(pk=book.lead.pk)
    client_scope_choices(user=lead)  # the person's roles, read once per request
    for _ in range(10):
        AccountTeamMemberFactory(client=ClientFactory(team=book.north), role="nam")
    with django_assert_num_queries(1):  # type: ignore[operator]
        choices = client_scope_choices(user=lead)
    assert len(choices["nam"]) == 12
    assert choices["team"] == [(book.north.pk, "North")]
    assert Client.objects.count() == 13
