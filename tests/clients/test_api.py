"""The clients API: CRUD through services, one error shape, optimistic locking, no foreign ids."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_crm.access import Role
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team
from tests.clients.api_book import Book, api_as, italian_client, make_book, partita_iva
from tests.factories import (
    AccountTeamMemberFactory,
    ContactFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> Book:
    return make_book()


def assert_error(response, status: int, code: str, fields: set[str] | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    if fields is not None:
        assert set(body["fields"]) == fields
    return body


# Clients -----------------------------------------------------------------------------------------


def test_it_lets_a_team_lead_create_a_client_for_their_team(book: Book) -> None:
    payload = {
        "name": "Caseificio Padano",
        "legal_name": "Caseificio Padano S.p.A.",
        "vat_number": "IT " + partita_iva(),
        "sdi_code": "M5UXCR1",
        "team": book.a.team.pk,
        "parent": book.a.client.pk,
        "tier": "key",
        "city": "Lodi",
    }
    response = api_as(book.a.lead).post("/api/v1/clients/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    created = Client.objects.get(pk=body["id"])
    assert created.parent == book.a.client
    assert created.vat_number == payload["vat_number"].removeprefix(
        "IT "
    )  # normalised by the model
    assert body["version"] == 1
    assert body["subsidiary_count"] == 0


def test_it_updates_a_client_with_the_version_it_read(book: Book) -> None:
    api = api_as(book.a.nam)
    url = f"/api/v1/clients/{book.a.client.pk}/"
    version = api.get(url).json()["version"]
    response = api.patch(url, {"industry": "Dairy", "version": version}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["industry"] == "Dairy"
    assert response.json()["version"] == version + 1
    assert response.json()["nam_id"] == book.a.nam.pk


def test_it_updates_a_whole_client_with_put(book: Book) -> None:
    api = api_as(book.a.lead)
    url = f"/api/v1/clients/{book.a.client.pk}/"
    current = api.get(url).json()
    payload = {k: v for k, v in current.items() if v is not None} | {"name": "Renamed"}
    response = api.put(url, payload, format="json")
    assert response.status_code == 200, response.json()
    assert Client.objects.get(pk=book.a.client.pk).name == "Renamed"


def test_it_answers_409_to_a_stale_client_edit_and_keeps_the_first(book: Book) -> None:
    url = f"/api/v1/clients/{book.a.client.pk}/"
    first = api_as(book.a.nam).patch(url, {"industry": "Dairy", "version": 1}, format="json")
    assert first.status_code == 200
    second = api_as(book.a.lead).patch(url, {"industry": "Steel", "version": 1}, format="json")
    assert_error(second, 409, "concurrent_edit", set())
    assert Client.objects.get(pk=book.a.client.pk).industry == "Dairy"


def test_it_requires_the_version_on_update(book: Book) -> None:
    response = api_as(book.a.nam).patch(
        f"/api/v1/clients/{book.a.client.pk}/", {"industry": "Dairy"}, format="json"
    )
    assert_error(response, 400, "invalid", {"version"})
    assert Client.objects.get(pk=book.a.client.pk).industry == ""


def test_it_explains_bad_fiscal_data_field_by_field(book: Book) -> None:
    response = api_as(book.a.lead).post(
        "/api/v1/clients/",
        {
            "name": "Bad",
            "legal_name": "Bad S.r.l.",
            "vat_number": "12345678901",
            "sdi_code": "TOO-LONG-CODE",
            "team": book.a.team.pk,
        },
        format="json",
    )
    body = assert_error(response, 400, "invalid")
    assert {"vat_number", "sdi_code"} <= set(body["fields"])
    assert all(isinstance(m, str) for messages in body["fields"].values() for m in messages)
    assert not Client.objects.filter(name="Bad").exists()


def test_it_explains_a_duplicate_vat_number(book: Book) -> None:
    response = api_as(book.a.lead).post(
        "/api/v1/clients/",
        {
            "name": "Twin",
            "legal_name": "Twin S.p.A.",
            "vat_number": book.a.client.vat_number,
            "sdi_code": "M5UXCR1",
            "team": book.a.team.pk,
        },
        format="json",
    )
    assert_error(response, 400, "invalid", {"vat_number"})


def test_it_refuses_a_group_cycle_with_a_domain_error(book: Book) -> None:
    child = italian_client(team=book.a.team, parent=book.a.client)
    url = f"/api/v1/clients/{book.a.client.pk}/"
    response = api_as(book.a.lead).patch(url, {"parent": child.pk, "version": 1}, format="json")
    assert_error(response, 400, "hierarchy_cycle", set())
    assert Client.objects.get(pk=book.a.client.pk).parent is None


def test_it_lets_an_admin_delete_a_client_without_subsidiaries(book: Book) -> None:
    api = api_as(book.admin)
    child = italian_client(team=book.a.team, parent=book.a.client)
    refused = api.delete(f"/api/v1/clients/{book.a.client.pk}/")
    assert_error(refused, 400, "has_subsidiaries", set())
    assert api.delete(f"/api/v1/clients/{child.pk}/").status_code == 204
    assert not Client.objects.filter(pk=child.pk).exists()


def test_it_filters_and_sorts_clients_with_the_html_lists_filterset(book: Book) -> None:
    italian_client(name="Acciaierie Venete", team=book.a.team, industry="Steel")
    api = api_as(book.a.lead)
    found = api.get("/api/v1/clients/", {"q": "acciai"}).json()["results"]
    assert [c["name"] for c in found] == ["Acciaierie Venete"]
    ordered = api.get("/api/v1/clients/", {"ordering": "-name"}).json()["results"]
    assert [c["name"] for c in ordered] == ["Client A", "Acciaierie Venete"]
    by_industry = api.get("/api/v1/clients/", {"industry": "steel"}).json()["results"]
    assert len(by_industry) == 1
    bad = api.get("/api/v1/clients/", {"status": "bankrupt"})
    assert_error(bad, 400, "invalid", {"status"})


# Sites, contacts, activities, account plans ------------------------------------------------------


def test_it_creates_updates_and_deletes_a_site(book: Book) -> None:
    api = api_as(book.a.nam)
    created = api.post(
        "/api/v1/sites/",
        {"client": book.a.client.pk, "name": "Magazzino Lodi", "kind": "warehouse", "city": "Lodi"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/api/v1/sites/{created.json()['id']}/"
    assert api.patch(url, {"region": "lombardia"}, format="json").json()["region"] == "lombardia"
    assert api.delete(url).status_code == 204
    assert not Site.objects.filter(name="Magazzino Lodi").exists()


def test_it_explains_a_second_headquarters(book: Book) -> None:
    SiteFactory(client=book.a.client, kind="headquarters")
    response = api_as(book.a.nam).post(
        "/api/v1/sites/",
        {"client": book.a.client.pk, "name": "HQ 2", "kind": "headquarters"},
        format="json",
    )
    assert_error(response, 400, "invalid")


def test_it_creates_a_contact_under_a_manager_and_moves_it(book: Book) -> None:
    api = api_as(book.a.nam)
    created = api.post(
        "/api/v1/contacts/",
        {
            "client": book.a.client.pk,
            "site": book.a.site.pk,
            "first_name": "Giulia",
            "last_name": "Neri",
            "email": "giulia.neri@padano.example",
            "buying_role": "economic_buyer",
            "influence": 5,
            "reports_to": book.a.contact.pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    contact = Contact.objects.get(pk=created.json()["id"])
    assert contact.reports_to == book.a.contact
    # The manager cannot report to their own report.
    cycle = api.patch(
        f"/api/v1/contacts/{book.a.contact.pk}/", {"reports_to": contact.pk}, format="json"
    )
    assert_error(cycle, 400, "invalid", {"reports_to"})
    put = api.put(
        f"/api/v1/contacts/{contact.pk}/",
        {"client": book.a.client.pk, "first_name": "Giulia", "last_name": "Bianchi"},
        format="json",
    )
    assert put.status_code == 200, put.json()
    assert Contact.objects.get(pk=contact.pk).last_name == "Bianchi"


def test_it_logs_an_activity_with_contacts_as_the_caller(book: Book) -> None:
    api = api_as(book.a.nam)
    due = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    created = api.post(
        "/api/v1/activities/",
        {
            "client": book.a.client.pk,
            "kind": "qbr",
            "subject": "Q3 review",
            "contacts": [book.a.contact.pk],
            "next_step": "Send the offer",
            "next_step_due": due,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["author"] == book.a.nam.pk
    assert body["contacts"] == [book.a.contact.pk]
    # Editing the notes keeps the contacts; the lead may edit, the author stays.
    url = f"/api/v1/activities/{body['id']}/"
    edited = api_as(book.a.lead).patch(url, {"notes": "Good mood."}, format="json").json()
    assert edited["contacts"] == [book.a.contact.pk]
    assert edited["author"] == book.a.nam.pk
    assert api.delete(url).status_code == 204
    assert not Activity.objects.filter(pk=body["id"]).exists()


def test_it_refuses_a_due_date_without_a_next_step(book: Book) -> None:
    response = api_as(book.a.nam).post(
        "/api/v1/activities/",
        {"client": book.a.client.pk, "subject": "Call", "next_step_due": "2026-12-01"},
        format="json",
    )
    assert_error(response, 400, "invalid")
    assert Activity.objects.count() == 2


def test_it_filters_activities_by_moments_with_any_offset(book: Book) -> None:
    api = api_as(book.a.nam)
    # +20:00 is a valid ISO 8601 offset that PostgreSQL refuses: compared in UTC instead.
    found = api.get("/api/v1/activities/", {"occurred_after": "2000-01-01T00:00:00+20:00"})
    assert [a["id"] for a in found.json()["results"]] == [book.a.activity.pk]
    later = api.get("/api/v1/activities/", {"occurred_after": "2999-01-01T00:00:00-20:00"})
    assert later.json()["results"] == []
    overflow = api.get("/api/v1/activities/", {"occurred_before": "0001-01-01T00:00:00+05:00"})
    assert_error(overflow, 400, "invalid", {"occurred_before"})


def test_it_writes_moments_in_utc_even_before_time_zones(book: Book) -> None:
    # In Rome's local time of 1850 the offset is +00:49:56, which RFC 3339 cannot write.
    response = api_as(book.a.nam).patch(
        f"/api/v1/activities/{book.a.activity.pk}/",
        {"occurred_at": "1850-03-01T12:00:00+01:00"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["occurred_at"] == "1850-03-01T11:00:00Z"


def test_it_keeps_one_account_plan_per_year(book: Book) -> None:
    api = api_as(book.a.nam)
    payload = {"client": book.a.client.pk, "year": 2027, "revenue_target": "300000.00"}
    created = api.post("/api/v1/account-plans/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["revenue_target"] == "300000.00"
    duplicate = api.post("/api/v1/account-plans/", payload, format="json")
    # A rule across fields: the sentence is the answer (the model gives it no single field).
    body = assert_error(duplicate, 400, "invalid", set())
    assert "account plan" in body["message"]
    negative = api.patch(
        f"/api/v1/account-plans/{created.json()['id']}/", {"revenue_target": "-1"}, format="json"
    )
    assert_error(negative, 400, "invalid")
    assert AccountPlan.objects.get(pk=created.json()["id"]).revenue_target > 0


# Account team ------------------------------------------------------------------------------------


def test_it_adds_a_member_and_ends_the_membership_on_delete(book: Book) -> None:
    sales = UserFactory(roles=[Role.ACCOUNT_STAFF])
    api = api_as(book.a.nam)
    added = api.post(
        "/api/v1/account-team-members/",
        {"client": book.a.client.pk, "user": sales.pk, "role": "sales", "work_base": "home_office"},
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert api_as(sales).get(f"/api/v1/clients/{book.a.client.pk}/").status_code == 200
    member = AccountTeamMember.objects.get(pk=added.json()["id"])
    member.starts_on = timezone.localdate() - datetime.timedelta(days=30)
    member.save()
    assert api.delete(f"/api/v1/account-team-members/{member.pk}/").status_code == 204
    member.refresh_from_db()
    assert member.ends_on == timezone.localdate() - datetime.timedelta(days=1)
    # Removal takes effect on the person's next request.
    assert api_as(sales).get(f"/api/v1/clients/{book.a.client.pk}/").status_code == 404
    # Ending it again changes nothing.
    assert api.delete(f"/api/v1/account-team-members/{member.pk}/").status_code == 204
    member.refresh_from_db()
    assert member.ends_on == timezone.localdate() - datetime.timedelta(days=1)


def test_it_hands_the_account_over_to_a_new_nam(book: Book) -> None:
    successor = UserFactory(roles=[Role.ACCOUNT_STAFF])
    response = api_as(book.a.lead).post(
        "/api/v1/account-team-members/",
        {"client": book.a.client.pk, "user": successor.pk, "role": "nam"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    active_nams = AccountTeamMember.objects.active().filter(client=book.a.client, role="nam")
    assert list(active_nams.values_list("user", flat=True)) == [successor.pk]


def test_it_offers_no_update_of_a_membership(book: Book) -> None:
    response = api_as(book.a.nam).patch(
        f"/api/v1/account-team-members/{book.a.membership.pk}/",
        {"work_base": "client_site"},
        format="json",
    )
    assert_error(response, 405, "method_not_allowed")


def test_it_accepts_only_staff_on_an_account_team(book: Book) -> None:
    outsider = UserFactory()  # no product role
    response = api_as(book.a.nam).post(
        "/api/v1/account-team-members/",
        {"client": book.a.client.pk, "user": outsider.pk, "role": "sales"},
        format="json",
    )
    assert_error(response, 400, "invalid", {"user"})


# Teams -------------------------------------------------------------------------------------------


def test_it_lets_an_admin_create_and_edit_a_team(book: Book) -> None:
    api = api_as(book.admin)
    created = api.post(
        "/api/v1/teams/",
        {"name": "Team Nord", "lead": book.a.lead.pk, "members": [book.a.nam.pk, book.b.nam.pk]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["member_count"] == 2
    url = f"/api/v1/teams/{created.json()['id']}/"
    edited = api.patch(url, {"members": [book.a.nam.pk]}, format="json").json()
    assert edited["members"] == [book.a.nam.pk]
    assert Team.objects.get(name="Team Nord").members.count() == 1


# Foreign ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "payload"),
    [
        ("sites", "client", lambda b: {"client": b.b.client.pk, "name": "X"}),
        ("contacts", "site", lambda b: {"client": b.a.client.pk, "site": b.b.site.pk}),
        (
            "contacts",
            "reports_to",
            lambda b: {"client": b.a.client.pk, "reports_to": b.b.contact.pk},
        ),
        (
            "activities",
            "contacts",
            lambda b: {"client": b.a.client.pk, "contacts": [b.b.contact.pk]},
        ),
        ("account-plans", "client", lambda b: {"client": b.b.client.pk, "year": 2030}),
        ("account-team-members", "client", lambda b: {"client": b.b.client.pk, "role": "sales"}),
    ],
)
def test_it_treats_a_foreign_id_like_one_that_does_not_exist(
    book: Book, path: str, field: str, payload
) -> None:
    api = api_as(book.a.nam)
    data = payload(book)
    count = api.get(f"/api/v1/{path}/").json()["count"]
    foreign = api.post(f"/api/v1/{path}/", data, format="json")
    body = assert_error(foreign, 400, "invalid")
    assert field in body["fields"]
    # Word for word the answer for an id nobody has: nothing tells the caller the row exists.
    foreign_id = data[field][0] if isinstance(data[field], list) else data[field]
    missing_id = 10**9
    missing = api.post(
        f"/api/v1/{path}/",
        data | {field: [missing_id] if isinstance(data[field], list) else missing_id},
        format="json",
    )
    assert missing.json()["fields"][field] == [
        message.replace(str(foreign_id), str(missing_id)) for message in body["fields"][field]
    ]
    assert api.get(f"/api/v1/{path}/").json()["count"] == count


def test_it_refuses_a_foreign_parent_company(book: Book) -> None:
    response = api_as(book.a.lead).patch(
        f"/api/v1/clients/{book.a.client.pk}/",
        {"parent": book.b.client.pk, "version": 1},
        format="json",
    )
    assert_error(response, 400, "invalid", {"parent"})
    assert Client.objects.get(pk=book.a.client.pk).parent is None


# Authentication ----------------------------------------------------------------------------------


def test_it_authenticates_with_a_token(book: Book) -> None:
    assert api_as(book.a.nam).get("/api/v1/clients/").status_code == 200
    from rest_framework.test import APIClient

    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(forged.get("/api/v1/clients/"), 401, "authentication_failed")


def test_it_answers_401_with_a_token_challenge_to_anonymous_calls() -> None:
    response = api_as(None).get("/api/v1/clients/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_it_answers_errors_in_the_callers_language(book: Book) -> None:
    url = f"/api/v1/clients/{book.b.client.pk}/"
    assert api_as(book.a.nam, "en").get(url).json()["message"] == "Not found."
    assert api_as(book.a.nam, "it").get(url).json()["message"] == "Non trovato."
    team = f"/api/v1/teams/{book.a.team.pk}/"
    refused = api_as(book.a.nam, "en").patch(team, {"name": "X"}, format="json")
    assert refused.json()["message"] == "Your role on this account does not allow this change."
    refused = api_as(book.a.nam, "it").patch(team, {"name": "X"}, format="json")
    assert refused.json()["message"] != "Your role on this account does not allow this change."


def test_it_answers_json_for_an_api_url_that_matches_no_endpoint(book: Book) -> None:
    response = api_as(book.a.nam).get("/api/v1/clients/not-an-id/")
    assert_error(response, 404, "not_found", set())
    assert response["Content-Type"] == "application/json"


def test_it_accepts_the_browser_session_too(book: Book, login) -> None:
    client = login(book.a.nam)
    response = client.get("/api/v1/clients/")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [book.a.client.pk]


# Query counts ------------------------------------------------------------------------------------


def count_queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries)


def test_it_lists_clients_in_a_fixed_number_of_queries() -> None:
    team = TeamFactory()
    holding = italian_client(team=team)
    for _ in range(2):
        client = italian_client(team=team, parent=holding)
        AccountTeamMemberFactory(client=client)
    api = api_as(team.lead)
    few = count_queries(api, "/api/v1/clients/")
    for _ in range(38):
        client = italian_client(team=team, parent=holding)
        AccountTeamMemberFactory(client=client)
    assert len(api.get("/api/v1/clients/").json()["results"]) == 41
    assert count_queries(api, "/api/v1/clients/") == few


@pytest.mark.parametrize("path", ["contacts", "activities", "sites"])
def test_it_lists_rows_under_clients_in_a_fixed_number_of_queries(book: Book, path: str) -> None:
    def add_rows(n: int) -> None:
        for _ in range(n):
            contact = ContactFactory(client=book.a.client, reports_to=book.a.contact)
            SiteFactory(client=book.a.client)
            activity = Activity.objects.create(
                client=book.a.client, author=book.a.nam, subject="Call"
            )
            activity.contacts.add(contact, book.a.contact)

    api = api_as(book.a.nam)
    add_rows(1)
    few = count_queries(api, f"/api/v1/{path}/")
    add_rows(38)
    assert count_queries(api, f"/api/v1/{path}/") == few


# Schema ------------------------------------------------------------------------------------------


def test_it_publishes_a_valid_openapi_schema_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for resource in [
        "clients",
        "sites",
        "contacts",
        "account-team-members",
        "activities",
        "account-plans",
        "teams",
    ]:
        assert f"/api/v1/{resource}/" in paths
    stale = paths["/api/v1/clients/{id}/"]["patch"]["responses"]["409"]
    assert stale["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "404" in paths["/api/v1/contacts/{id}/"]["get"]["responses"]


def test_it_serves_the_schema_and_docs_to_signed_in_people_only(book: Book, login) -> None:
    assert api_as(None).get("/api/schema/").status_code in (401, 403)
    assert api_as(book.finance).get("/api/schema/").status_code == 200
    client = login(book.a.nam)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
