"""Create, edit and delete pages: clients, sites, contacts, account team, activities, plans."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from accounts_crm.access import Role
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site
from tests.factories import (
    AccountPlanFactory,
    AccountTeamMemberFactory,
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VAT = "04123450159"
OTHER_VAT = "02876540580"


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def team(team_lead):
    return TeamFactory(lead=team_lead, name="Nord")


@pytest.fixture
def account(team):
    return ClientFactory(team=team, name="Padano", vat_number=VAT, sdi_code="M5UXCR1")


@pytest.fixture
def as_lead(english, login, team_lead):
    login(team_lead)
    return english


@pytest.fixture
def as_nam(english, login, account):
    login(AccountTeamMemberFactory(client=account, role="nam").user)
    return english


def client_data(team, **changes) -> dict:
    data = {
        "name": "Lario", "legal_name": "Lario S.r.l.", "vat_number": OTHER_VAT, "tax_code": "",
        "sdi_code": "M5UXCR1", "pec": "", "parent": "", "team": team.pk, "scope": "national",
        "industry": "Retail", "tier": "key", "status": "active", "street": "Via Po 2",
        "postal_code": "22100", "city": "Como", "province": "co", "region": "lombardia",
        "country": "IT",
    }  # fmt: skip
    return data | changes


def edit_data(client: Client, **changes) -> dict:
    data = client_data(client.team, name=client.name, legal_name=client.legal_name)
    return data | {"vat_number": client.vat_number, "version": client.version} | changes


# Clients -------------------------------------------------------------------------------------


def test_a_split_payment_client_says_so_on_its_page(as_lead, team) -> None:
    as_lead.post("/clients/new/", client_data(team, split_payment="on"))

    client = Client.objects.get(name="Lario")
    assert client.split_payment
    page = as_lead.get(f"/clients/{client.pk}/").content.decode()
    assert "the client pays the VAT to the State" in page


def test_it_creates_a_client_for_a_team_the_lead_leads(as_lead, team) -> None:
    TeamFactory(name="Someone else's")
    page = as_lead.get("/clients/new/").content.decode()
    assert "Nord" in page
    assert "Someone else&#x27;s" not in page

    response = as_lead.post("/clients/new/", client_data(team))

    client = Client.objects.get(name="Lario")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{client.pk}/"
    assert (client.team, client.province, client.tier) == (team, "CO", "key")


def test_it_refuses_a_team_the_lead_does_not_lead(as_lead, team) -> None:
    other = TeamFactory()
    response = as_lead.post("/clients/new/", client_data(other))
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Client.objects.filter(name="Lario").exists()


def test_it_shows_fiscal_errors_and_keeps_what_was_typed(as_lead, team) -> None:
    response = as_lead.post(
        "/clients/new/", client_data(team, vat_number="12345678901", sdi_code="", pec="")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "12345678901 is not a valid Italian VAT number (Partita IVA)." in html
    assert "is-invalid" in html
    assert 'value="Lario S.r.l."' in html
    assert 'value="12345678901"' in html
    assert not Client.objects.filter(name="Lario").exists()


def test_it_shows_validation_messages_in_italian(client, login, team_lead, team) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    login(team_lead)
    html = client.post("/clients/new/", client_data(team, name="")).content.decode()
    assert "Campo obbligatorio." in html


def test_it_refuses_a_duplicate_active_vat_number_with_a_message(as_lead, team, account) -> None:
    response = as_lead.post("/clients/new/", client_data(team, vat_number=VAT))
    assert response.status_code == 200
    assert "An active client with this VAT number exists already." in response.content.decode()


def test_it_edits_a_client_and_bumps_its_version(as_nam, account) -> None:
    page = as_nam.get(f"/clients/{account.pk}/edit/").content.decode()
    assert f'name="version" value="{account.version}"' in page

    response = as_nam.post(f"/clients/{account.pk}/edit/", edit_data(account, industry="Food"))

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.industry == "Food"
    assert account.version == 2


def test_it_tells_about_a_concurrent_edit_and_keeps_the_input(as_nam, account) -> None:
    stale = edit_data(account, industry="Mine")
    Client.objects.filter(pk=account.pk).update(industry="Theirs", version=account.version + 1)

    response = as_nam.post(f"/clients/{account.pk}/edit/", stale)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else changed this client after you opened it." in html
    assert 'data-testid="form-errors"' in html
    assert 'value="Mine"' in html
    assert Client.objects.get(pk=account.pk).industry == "Theirs"


def test_it_moves_a_client_under_a_visible_parent_and_refuses_a_cycle(as_lead, account) -> None:
    head = ClientFactory(team=account.team, name="Holding", vat_number=OTHER_VAT)
    page = as_lead.get(f"/clients/{account.pk}/edit/").content.decode()
    assert f'<option value="{head.pk}">Holding</option>' in page
    assert f'<option value="{account.pk}"' not in page  # not its own parent

    response = as_lead.post(f"/clients/{account.pk}/edit/", edit_data(account, parent=head.pk))
    assert response.status_code == 302
    assert Client.objects.get(pk=account.pk).parent == head

    head.refresh_from_db()
    response = as_lead.post(f"/clients/{head.pk}/edit/", edit_data(head, parent=account.pk))
    assert response.status_code == 200
    assert "it would be its own parent" in response.content.decode()
    assert Client.objects.get(pk=head.pk).parent is None


def test_it_offers_no_invisible_client_as_parent(english, login, account) -> None:
    hidden = ClientFactory(name="Hidden Holding")
    nam = AccountTeamMemberFactory(client=account).user
    login(nam)
    assert "Hidden Holding" not in english.get(f"/clients/{account.pk}/edit/").content.decode()
    data = edit_data(account, parent=hidden.pk)
    response = english.post(f"/clients/{account.pk}/edit/", data)
    assert "Select a valid choice." in response.content.decode()


def test_it_deletes_a_client_for_admin_unless_it_has_subsidiaries(
    english, login, admin_user, account
) -> None:
    login(admin_user)
    child = ClientFactory(parent=account, team=account.team)
    response = english.post(f"/clients/{account.pk}/delete/")
    assert response.status_code == 400
    assert "Move or delete its subsidiaries first." in response.content.decode()

    assert english.post(f"/clients/{child.pk}/delete/").status_code == 302
    response = english.post(f"/clients/{account.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/clients/"
    assert not Client.objects.filter(pk=account.pk).exists()


# Sites and contacts ----------------------------------------------------------------------------


def test_it_creates_edits_and_deletes_a_site(as_nam, account) -> None:
    url = f"/clients/{account.pk}/sites/new/"
    response = as_nam.post(url, {"name": "Sede", "kind": "headquarters", "city": "Milano",
                                 "country": "IT", "region": "lombardia"})  # fmt: skip
    assert response["Location"] == f"/clients/{account.pk}/#sites"
    site = Site.objects.get(client=account)

    response = as_nam.post(
        f"/clients/{account.pk}/sites/{site.pk}/edit/",
        {"name": "Sede centrale", "kind": "headquarters", "city": "Milano", "country": "IT"},
    )
    assert response.status_code == 302
    assert Site.objects.get().name == "Sede centrale"

    assert as_nam.get(f"/clients/{account.pk}/sites/{site.pk}/delete/").status_code == 200
    assert as_nam.post(f"/clients/{account.pk}/sites/{site.pk}/delete/").status_code == 302
    assert not Site.objects.exists()


def test_it_refuses_a_second_headquarters_with_a_message(as_nam, account) -> None:
    SiteFactory(client=account, kind="headquarters")
    response = as_nam.post(
        f"/clients/{account.pk}/sites/new/", {"name": "HQ 2", "kind": "headquarters",
                                              "country": "IT"}
    )  # fmt: skip
    assert response.status_code == 200
    assert "This client already has a headquarters." in response.content.decode()
    assert Site.objects.count() == 1


def test_it_creates_a_contact_reporting_to_another(as_nam, account) -> None:
    boss = ContactFactory(client=account, first_name="Carla", last_name="Capo")
    site = SiteFactory(client=account, name="Sede")
    foreign = ContactFactory(first_name="Fuori", last_name="Lista")
    page = as_nam.get(f"/clients/{account.pk}/contacts/new/").content.decode()
    assert "Carla Capo" in page
    assert "Sede" in page
    assert "Fuori Lista" not in page

    response = as_nam.post(
        f"/clients/{account.pk}/contacts/new/",
        {"first_name": "Dario", "last_name": "Dipendente", "email": "dario@padano.example",
         "site": site.pk, "buying_role": "champion", "influence": 3,
         "relationship_strength": 5, "reports_to": boss.pk, "is_active": "on"},
    )  # fmt: skip

    assert response["Location"] == f"/clients/{account.pk}/#contacts"
    dario = Contact.objects.get(last_name="Dipendente")
    assert (dario.reports_to, dario.site, dario.client) == (boss, site, account)

    response = as_nam.post(
        f"/clients/{account.pk}/contacts/{dario.pk}/edit/",
        {"first_name": "Dario", "last_name": "Dipendente", "buying_role": "champion",
         "influence": 3, "relationship_strength": 5, "reports_to": foreign.pk},
    )  # fmt: skip
    assert "Select a valid choice." in response.content.decode()


def test_it_refuses_a_reporting_cycle_in_the_org_chart(as_nam, account) -> None:
    boss = ContactFactory(client=account)
    report = ContactFactory(client=account, reports_to=boss)
    response = as_nam.post(
        f"/clients/{account.pk}/contacts/{boss.pk}/edit/",
        {"first_name": boss.first_name, "last_name": boss.last_name, "buying_role": "user",
         "influence": 3, "relationship_strength": 3, "reports_to": report.pk},
    )  # fmt: skip
    assert response.status_code == 200
    assert "cannot report to someone who reports to them" in response.content.decode()
    assert Contact.objects.get(pk=boss.pk).reports_to is None


def test_it_deletes_a_contact(as_nam, account) -> None:
    contact = ContactFactory(client=account)
    response = as_nam.post(f"/clients/{account.pk}/contacts/{contact.pk}/delete/")
    assert response["Location"] == f"/clients/{account.pk}/#contacts"
    assert not Contact.objects.exists()


def test_it_answers_404_for_a_row_of_another_client_under_this_one(as_nam, account) -> None:
    other = ContactFactory()
    assert as_nam.get(f"/clients/{account.pk}/contacts/{other.pk}/edit/").status_code == 404
    assert as_nam.post(f"/clients/{account.pk}/contacts/{other.pk}/delete/").status_code == 404
    assert Contact.objects.filter(pk=other.pk).exists()


# Account team --------------------------------------------------------------------------------


def test_it_adds_a_member_and_hands_over_the_nam_role(english, login, account) -> None:
    old = AccountTeamMemberFactory(client=account, role="nam", starts_on=datetime.date(2024, 1, 1))
    newcomer = UserFactory(roles=[Role.ACCOUNT_STAFF], first_name="Nina", last_name="Nuova")
    UserFactory(roles=[Role.FINANCE], first_name="Fabio", last_name="Finanza")
    login(account.team.lead)
    page = english.get(f"/clients/{account.pk}/account-team/new/").content.decode()
    assert "Nina Nuova" in page
    assert "Fabio Finanza" not in page

    today = timezone.localdate()
    response = english.post(
        f"/clients/{account.pk}/account-team/new/",
        {"user": newcomer.pk, "role": "nam", "work_base": "home_office",
         "starts_on": today.isoformat()},
    )  # fmt: skip

    assert response["Location"] == f"/clients/{account.pk}/#account-team"
    nam = AccountTeamMember.objects.active().get(client=account, role="nam")
    assert (nam.user, nam.work_base) == (newcomer, "home_office")
    old.refresh_from_db()
    assert old.ends_on == today - datetime.timedelta(days=1)


def test_it_refuses_the_same_nam_twice_with_a_message(english, login, account) -> None:
    current = AccountTeamMemberFactory(client=account, role="nam")
    login(account.team.lead)
    response = english.post(
        f"/clients/{account.pk}/account-team/new/",
        {"user": current.user.pk, "role": "nam", "work_base": "main_office",
         "starts_on": timezone.localdate().isoformat()},
    )  # fmt: skip
    assert response.status_code == 200
    assert "This person is already the NAM of this account." in response.content.decode()


def test_it_ends_a_membership(english, login, account) -> None:
    member = AccountTeamMemberFactory(
        client=account, role="sales", starts_on=datetime.date(2024, 1, 1)
    )
    login(account.team.lead)
    response = english.post(f"/clients/{account.pk}/account-team/{member.pk}/end/")
    assert response["Location"] == f"/clients/{account.pk}/#account-team"
    member.refresh_from_db()
    assert member.ends_on == timezone.localdate() - datetime.timedelta(days=1)
    # Ended: no longer a row to act on.
    assert english.post(f"/clients/{account.pk}/account-team/{member.pk}/end/").status_code == 404


def test_it_ends_a_membership_from_a_date(english, login, account) -> None:
    member = AccountTeamMemberFactory(
        client=account, role="sales", starts_on=datetime.date(2024, 1, 1)
    )
    login(account.team.lead)
    assert english.get(f"/clients/{account.pk}/account-team/{member.pk}/end/").status_code == 200
    english.post(f"/clients/{account.pk}/account-team/{member.pk}/end/", {"on": "2025-03-01"})
    member.refresh_from_db()
    assert member.ends_on == datetime.date(2025, 2, 28)


# Activities and plans --------------------------------------------------------------------------


def test_it_creates_edits_and_deletes_an_activity_with_the_full_form(as_nam, account) -> None:
    contact = ContactFactory(client=account)
    response = as_nam.post(
        f"/clients/{account.pk}/activities/new/",
        {"kind": "visit", "occurred_at": "2026-03-02T10:30", "subject": "Plant visit",
         "contacts": [contact.pk], "next_step": "", "next_step_due": ""},
    )  # fmt: skip
    assert response["Location"] == f"/clients/{account.pk}/#activities"
    activity = Activity.objects.get()
    assert timezone.localtime(activity.occurred_at).hour == 10
    assert list(activity.contacts.all()) == [contact]

    response = as_nam.post(
        f"/clients/{account.pk}/activities/{activity.pk}/edit/",
        {"kind": "visit", "occurred_at": "2026-03-02T10:30", "subject": "Plant visit",
         "next_step": "Call back", "next_step_due": "2026-03-09"},
    )  # fmt: skip
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.next_step_due == datetime.date(2026, 3, 9)
    assert not activity.contacts.exists()

    as_nam.post(f"/clients/{account.pk}/activities/{activity.pk}/delete/")
    assert not Activity.objects.exists()


def test_it_keeps_the_author_when_someone_else_edits_an_activity(as_nam, account) -> None:
    author = UserFactory()
    activity = ActivityFactory(client=account, author=author)
    as_nam.post(
        f"/clients/{account.pk}/activities/{activity.pk}/edit/",
        {"kind": "call", "occurred_at": "2026-03-02T10:30", "subject": "Edited"},
    )
    activity.refresh_from_db()
    assert (activity.subject, activity.author) == ("Edited", author)


def test_it_creates_and_edits_an_account_plan(as_nam, account) -> None:
    response = as_nam.post(
        f"/clients/{account.pk}/plans/new/",
        {"year": 2027, "revenue_target": "2500000.00", "currency": "EUR",
         "objectives": "Open the South"},
    )  # fmt: skip
    assert response["Location"] == f"/clients/{account.pk}/#plans"
    plan = AccountPlan.objects.get()
    assert str(plan.revenue_target) == "2500000.00"

    response = as_nam.post(
        f"/clients/{account.pk}/plans/{plan.pk}/edit/",
        {"year": 2027, "revenue_target": "-1", "currency": "EUR"},
    )
    assert response.status_code == 200
    assert AccountPlan.objects.get().revenue_target == plan.revenue_target


def test_it_refuses_a_second_plan_for_the_same_year(as_nam, account) -> None:
    AccountPlanFactory(client=account, year=2027)
    response = as_nam.post(
        f"/clients/{account.pk}/plans/new/",
        {"year": 2027, "revenue_target": "1", "currency": "EUR"},
    )
    assert response.status_code == 200
    assert "This client already has an account plan for this year." in response.content.decode()
