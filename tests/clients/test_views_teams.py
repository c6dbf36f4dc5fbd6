"""Team pages: list, team page, create and edit (admin only)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts_crm.access import Role
from clients.models import Team
from tests.factories import AccountTeamMemberFactory, ClientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def team(team_lead):
    nord = TeamFactory(lead=team_lead, name="Nord")
    nord.members.add(UserFactory(roles=[Role.ACCOUNT_STAFF], first_name="Ada", last_name="Neri"))
    return nord


@pytest.fixture
def mine(team):
    """A client of Nord on the NAM's account team."""
    return ClientFactory(team=team, name="Padano")


@pytest.fixture
def foreign(team):
    """A client of Nord that the NAM is not on: not counted, not listed for them."""
    return ClientFactory(team=team, name="Segreto")


@pytest.fixture
def nam(mine):
    return AccountTeamMemberFactory(client=mine, role="nam").user


def team_data(lead, *members, **changes) -> dict:
    return {"name": "Sud", "lead": lead.pk, "members": [m.pk for m in members]} | changes


def counts(html: str) -> dict[str, tuple[str, str]]:
    """Team name -> (member count, client count) as the list shows them."""
    rows = re.findall(
        r'<a[^>]*>([^<]+)</a></td>.*?"member-count">(\d+)<.*?"client-count">(\d+)<', html, re.S
    )
    return {name: (members, clients) for name, members, clients in rows}


# List ----------------------------------------------------------------------------------------


def test_it_counts_only_the_clients_the_nam_sees(english, login, nam, team, foreign) -> None:
    TeamFactory(name="Est")
    login(nam)
    response = english.get("/clients/teams/")
    html = response.content.decode()
    assert response.status_code == 200
    assert counts(html) == {"Est": ("0", "0"), "Nord": ("1", "1")}
    assert f'href="/clients/teams/{team.pk}/"' in html
    assert "New team" not in html


def test_it_counts_every_client_for_finance(english, login, finance, nam, team, foreign) -> None:
    login(finance)
    assert counts(english.get("/clients/teams/").content.decode()) == {"Nord": ("1", "2")}


def test_it_offers_a_new_team_to_an_admin(english, login, admin_user, team) -> None:
    login(admin_user)
    assert 'href="/clients/teams/new/"' in english.get("/clients/teams/").content.decode()


def test_it_shows_teams_in_the_navbar_for_leads_and_admins(
    english, login, team_lead, admin_user, account_staff
) -> None:
    for user, shown in [(team_lead, True), (admin_user, True), (account_staff, False)]:
        login(user)
        html = english.get("/").content.decode()
        assert ('href="/clients/teams/"' in html) is shown, user
        english.logout()


def test_it_lists_teams_in_the_same_queries_whatever_their_number(english, login, nam) -> None:
    login(nam)

    def queries_with(total: int) -> int:
        while Team.objects.count() < total:
            team = TeamFactory()
            team.members.add(UserFactory(roles=[Role.ACCOUNT_STAFF]))
            AccountTeamMemberFactory(client=ClientFactory(team=team), user=nam)
            ClientFactory(team=team)  # not on the NAM's book
        with CaptureQueriesContext(connection) as queries:
            response = english.get("/clients/teams/")
        assert len(counts(response.content.decode())) == total
        return len(queries)

    assert queries_with(2) == queries_with(10)


# Team page -----------------------------------------------------------------------------------


def test_it_shows_the_team_with_only_the_clients_the_nam_sees(
    english, login, nam, team, mine, foreign
) -> None:
    login(nam)
    response = english.get(f"/clients/teams/{team.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert team.lead.get_full_name() in html
    assert "Ada Neri" in html
    assert f'href="/clients/{mine.pk}/"' in html
    assert "Segreto" not in html
    assert f"/clients/teams/{team.pk}/edit/" not in html


def test_it_offers_edit_to_an_admin(english, login, admin_user, team) -> None:
    login(admin_user)
    html = english.get(f"/clients/teams/{team.pk}/").content.decode()
    assert f'href="/clients/teams/{team.pk}/edit/"' in html


def test_it_answers_404_for_a_missing_team(english, login, nam) -> None:
    login(nam)
    assert english.get("/clients/teams/999999/").status_code == 404


# Create and edit -----------------------------------------------------------------------------


def test_it_creates_a_team(english, login, admin_user, team_lead, account_staff) -> None:
    login(admin_user)
    page = english.get("/clients/teams/new/").content.decode()
    assert team_lead.get_full_name() in page
    UserFactory(username="nobody", first_name="Senza", last_name="Ruolo")
    UserFactory(
        roles=[Role.ACCOUNT_STAFF], first_name="Ex", last_name="Dipendente", is_active=False
    )
    page = english.get("/clients/teams/new/").content.decode()
    assert "Senza Ruolo" not in page
    assert "Ex Dipendente" not in page

    response = english.post("/clients/teams/new/", team_data(team_lead, account_staff))

    sud = Team.objects.get(name="Sud")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/teams/{sud.pk}/"
    assert sud.lead == team_lead
    assert list(sud.members.all()) == [account_staff]


def test_it_edits_a_team(english, login, admin_user, team, account_staff) -> None:
    login(admin_user)
    assert 'value="Nord"' in english.get(f"/clients/teams/{team.pk}/edit/").content.decode()

    response = english.post(
        f"/clients/teams/{team.pk}/edit/", team_data(team.lead, account_staff, name="Nord-Ovest")
    )

    team.refresh_from_db()
    assert response.status_code == 302
    assert team.name == "Nord-Ovest"
    assert list(team.members.all()) == [account_staff]


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Team with this Name already exists."), ("it", "Team con questo Nome esiste già.")],
)
def test_it_refuses_a_duplicate_name_in_the_users_language(
    client, login, admin_user, team, team_lead, language, message
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    login(admin_user)
    response = client.post("/clients/teams/new/", team_data(team_lead, name="Nord"))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert 'value="Nord"' in html
    assert Team.objects.filter(name="Nord").count() == 1


@pytest.mark.parametrize("who", ["team_lead", "finance", "account_staff"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ["new", "edit"])
def test_it_refuses_create_and_edit_to_non_admins(
    request, english, login, team, who, method, page
) -> None:
    login(request.getfixturevalue(who))
    url = "/clients/teams/new/" if page == "new" else f"/clients/teams/{team.pk}/edit/"
    response = getattr(english, method)(url, team_data(team.lead, name="Hijack"))
    assert response.status_code == 403
    assert not Team.objects.filter(name="Hijack").exists()


@pytest.mark.parametrize("path", ["", "{pk}/", "new/", "{pk}/edit/"])
def test_it_sends_anonymous_visitors_to_the_login_page(english, team, path) -> None:
    response = english.get("/clients/teams/" + path.format(pk=team.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_speaks_italian(client, login, admin_user, team) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    login(admin_user)
    html = client.get("/clients/teams/").content.decode()
    assert "Nuovo team" in html
    assert "Clienti che vedi" in html
