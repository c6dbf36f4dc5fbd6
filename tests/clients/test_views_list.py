"""Client lists (all, my accounts, my team's accounts): search, filters, sort, pages, CSV, htmx."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts_crm.access import Role
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def lead_client(english, login, team_lead):
    login(team_lead)
    return english


def row_names(response) -> list[str]:
    html = response.content.decode()
    rows = re.findall(r'data-testid="client-row">\s*<td>\s*<a[^>]*>([^<]+)</a>', html)
    return rows


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


def test_it_lists_the_clients_of_the_led_team_with_nam_team_and_group(
    lead_client, team_lead
) -> None:
    team = TeamFactory(lead=team_lead, name="Nord")
    head = ClientFactory(team=team, name="Padano Holding")
    ClientFactory(team=team, name="Padano Retail", parent=head)
    nam = AccountTeamMemberFactory(client=head, user__first_name="Ada", user__last_name="Neri").user
    ClientFactory(name="Foreign Spa")

    response = lead_client.get("/clients/")

    assert response.status_code == 200
    assert row_names(response) == ["Padano Holding", "Padano Retail"]
    html = response.content.decode()
    assert f"{nam.first_name} {nam.last_name}" in html
    assert "group head (1 subsidiary)" in html
    assert "part of Padano Holding" in html
    assert "Nord" in html


def test_it_searches_by_name_vat_number_and_city(lead_client, team_lead) -> None:
    team = TeamFactory(lead=team_lead)
    ClientFactory(team=team, name="Alpha", vat_number="04123450159")
    ClientFactory(team=team, name="Beta", city="Torino")
    gamma = ClientFactory(team=team, name="Gamma")
    SiteFactory(client=gamma, city="Bari")

    assert row_names(lead_client.get("/clients/?q=alp")) == ["Alpha"]
    assert row_names(lead_client.get("/clients/?q=IT 04123450159")) == ["Alpha"]
    assert row_names(lead_client.get("/clients/?q=torino")) == ["Beta"]
    assert row_names(lead_client.get("/clients/?q=bari")) == ["Gamma"]


def test_it_filters_by_team_nam_industry_tier_status_region_and_scope(
    lead_client, team_lead
) -> None:
    north, south = TeamFactory(lead=team_lead), TeamFactory(lead=team_lead)
    a = ClientFactory(team=north, name="A", industry="Retail", tier="key", status="active")
    ClientFactory(team=south, name="B", industry="Food", tier="strategic", status="prospect")
    c = ClientFactory(team=south, name="C", scope="international", region="lazio")
    nam = AccountTeamMemberFactory(client=c).user
    SiteFactory(client=a, region="puglia")

    assert row_names(lead_client.get(f"/clients/?team={north.pk}")) == ["A"]
    assert row_names(lead_client.get(f"/clients/?nam={nam.pk}")) == ["C"]
    assert row_names(lead_client.get("/clients/?industry=retail")) == ["A"]
    assert row_names(lead_client.get("/clients/?tier=strategic")) == ["B"]
    assert row_names(lead_client.get("/clients/?status=prospect")) == ["B"]
    assert row_names(lead_client.get("/clients/?scope=international")) == ["C"]
    assert row_names(lead_client.get("/clients/?region=lazio")) == ["C"]
    assert row_names(lead_client.get("/clients/?region=puglia")) == ["A"]


def test_it_offers_only_teams_and_nams_of_visible_clients_as_filters(
    lead_client, team_lead
) -> None:
    own = ClientFactory(team=TeamFactory(lead=team_lead, name="Own team"))
    own_nam = AccountTeamMemberFactory(client=own, user__last_name="Visibile").user
    foreign = ClientFactory(team=TeamFactory(name="Foreign team"))
    AccountTeamMemberFactory(client=foreign, user__last_name="Nascosto")

    html = lead_client.get("/clients/").content.decode()
    assert "Own team" in html
    assert own_nam.last_name in html
    assert "Foreign team" not in html
    assert "Nascosto" not in html


def test_it_sorts_by_column_both_ways(lead_client, team_lead) -> None:
    team = TeamFactory(lead=team_lead)
    ClientFactory(team=team, name="Bravo", city="Ancona")
    ClientFactory(team=team, name="Alfa", city="Zena")
    ClientFactory(team=team, name="Charlie", city="Milano")

    assert row_names(lead_client.get("/clients/")) == ["Alfa", "Bravo", "Charlie"]
    assert row_names(lead_client.get("/clients/?ordering=-name")) == ["Charlie", "Bravo", "Alfa"]
    assert row_names(lead_client.get("/clients/?ordering=city")) == ["Bravo", "Charlie", "Alfa"]
    html = lead_client.get("/clients/?ordering=city").content.decode()
    # The header links the other direction next, and keeps the filters.
    assert 'href="?ordering=-city"' in html
    assert 'aria-sort="ascending"' in html


def test_it_paginates_by_25_and_keeps_the_filters_in_page_links(lead_client, team_lead) -> None:
    team = TeamFactory(lead=team_lead)
    for n in range(30):
        ClientFactory(team=team, name=f"Client {n:02}", industry="Retail")
    ClientFactory(team=team, name="Other", industry="Food")

    first = lead_client.get("/clients/?industry=Retail")
    assert len(row_names(first)) == 25
    assert "30 clients" in first.content.decode()
    assert 'href="?industry=Retail&amp;page=2"' in first.content.decode()

    second = lead_client.get("/clients/?industry=Retail&page=2")
    assert row_names(second) == [f"Client {n}" for n in range(25, 30)]
    assert "Page 2 of 2" in second.content.decode()


def test_it_answers_htmx_with_the_results_partial_only(lead_client, team_lead) -> None:
    ClientFactory(team=TeamFactory(lead=team_lead), name="Alpha")

    response = lead_client.get("/clients/?q=alp", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<nav" not in html.split('id="results"')[0]
    assert row_names(response) == ["Alpha"]
    assert "HX-Request" in response["Vary"]
    # A history restore (back button, cache miss) needs the whole page.
    restore = lead_client.get(
        "/clients/?q=alp", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def test_it_exports_the_filtered_list_as_csv(lead_client, team_lead) -> None:
    team = TeamFactory(lead=team_lead, name="Nord")
    head = ClientFactory(
        team=team, name="Padano", legal_name="Padano S.p.A.", vat_number="04123450159",
        city="Milano", tier="key",
    )  # fmt: skip
    nam = AccountTeamMemberFactory(client=head).user
    ClientFactory(team=team, name="Padano Retail", parent=head, status="prospect")
    ClientFactory(team=team, name="Zeta")
    ClientFactory(name="Padano Foreign")

    response = lead_client.get("/clients/?q=padano&format=csv&ordering=-name")

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="clients.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == [
        "Name", "Legal name", "VAT number", "City", "Team", "NAM", "Parent company",
        "Subsidiaries", "Status", "Tier",
    ]  # fmt: skip
    assert rows[1:] == [
        ["Padano Retail", "Padano Retail S.p.A.", "", "", "Nord", "", "Padano", "0",
         "Prospect", ""],
        ["Padano", "Padano S.p.A.", "04123450159", "Milano", "Nord",
         f"{nam.first_name} {nam.last_name}", "", "1", "Active", "Key"],
    ]  # fmt: skip


def test_it_shows_a_nam_only_the_accounts_they_are_on(english, login) -> None:
    nam = UserFactory(roles=[Role.ACCOUNT_STAFF])
    mine = AccountTeamMemberFactory(user=nam, role="sales").client
    ClientFactory(name="Not mine")
    login(nam)

    assert row_names(english.get("/clients/mine/")) == [mine.name]
    assert row_names(english.get("/clients/")) == [mine.name]
    assert "My accounts" in english.get("/clients/mine/").content.decode()


def test_it_shows_a_team_lead_the_clients_of_their_teams(english, login, team_lead) -> None:
    own = ClientFactory(team=TeamFactory(lead=team_lead), name="Own")
    # On the account team of another team's client: in "all", not in "my team's accounts".
    other = AccountTeamMemberFactory(user=team_lead, role="executive_sponsor").client
    login(team_lead)

    assert row_names(english.get("/clients/team/")) == ["Own"]
    assert sorted(row_names(english.get("/clients/"))) == sorted(["Own", other.name])
    assert own.name in english.get("/clients/team/").content.decode()


def test_it_marks_the_current_list_in_the_navbar(english, login, account_staff) -> None:
    login(account_staff)
    html = english.get("/clients/mine/").content.decode()
    nav = re.search(r'data-testid="nav">(.*?)</ul>', html, re.S).group(1)
    assert re.search(r'active" href="/clients/mine/" aria-current="page">My accounts', nav)
    assert 'active" href="/clients/"' not in nav


def test_it_shows_new_client_only_to_who_may_create_one(english, login, team_lead) -> None:
    TeamFactory(lead=team_lead)
    login(team_lead)
    assert 'href="/clients/new/"' in english.get("/clients/").content.decode()

    english.logout()
    login(UserFactory(roles=[Role.FINANCE]))
    assert 'href="/clients/new/"' not in english.get("/clients/").content.decode()


def count_queries(client, url: str, *, stream: bool = False) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
        if stream:
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize(
    ("url", "stream"),
    [
        ("/clients/", False),
        ("/clients/?q=client&ordering=-nam", False),
        ("/clients/team/", False),
        ("/clients/?format=csv", True),
    ],
)
def test_it_runs_as_many_queries_for_40_rows_as_for_2(
    lead_client, team_lead, url: str, stream: bool
) -> None:
    team = TeamFactory(lead=team_lead)

    def add_clients(n: int) -> None:
        for _ in range(n):
            head = ClientFactory(team=team, tier="key")
            AccountTeamMemberFactory(client=head)
            ClientFactory(team=team, parent=head)

    add_clients(1)
    few = count_queries(lead_client, url, stream=stream)
    add_clients(19)
    many = count_queries(lead_client, url, stream=stream)
    assert few == many


@pytest.mark.django_db
def test_it_offers_the_import_to_importers_only(login, team_lead, finance, client) -> None:
    login(team_lead)
    assert "/clients/import/" in client.get("/clients/").content.decode()
    client.logout()
    login(finance)
    assert "/clients/import/" not in client.get("/clients/").content.decode()
