"""The API access matrix: every endpoint x action x principal, against team A's rows.

Principals: the NAM on client A's account team, a NAM of another account (B), the lead of A's
team, the lead of another team (B), finance, anonymous. Expected answers follow DESIGN.md:
a row you may not see is 404 (and never listed), a row you see but may not change is 403,
anonymous is 401, an action the endpoint does not offer is 405. A refused write changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team
from tests.clients.api_book import Book, api_as, make_book, partita_iva

pytestmark = pytest.mark.django_db

PRINCIPALS = ["nam_on_team", "nam_elsewhere", "lead_of_team", "lead_elsewhere", "finance", "anon"]


def principal(book: Book, name: str) -> Any:
    return {
        "nam_on_team": book.a.nam,
        "nam_elsewhere": book.b.nam,
        "lead_of_team": book.a.lead,
        "lead_elsewhere": book.b.lead,
        "finance": book.finance,
        "anon": None,
    }[name]


# Which side's rows each principal's list shows ("ab" = both, "" = not asked: 401).
LIST_SEES = {
    "nam_on_team": "a",
    "nam_elsewhere": "b",
    "lead_of_team": "a",
    "lead_elsewhere": "b",
    "finance": "ab",
    "anon": "",
}

# Answers per principal, in PRINCIPALS order.
SEES_A = [200, 404, 200, 404, 200, 401]
WORKS_ON_A = {
    "create": [201, 400, 201, 400, 403, 401],  # elsewhere: client A is a foreign id -> 400
    "update": [200, 404, 200, 404, 403, 401],
    "delete": [204, 404, 204, 404, 403, 401],
}
NOT_OFFERED = [405, 405, 405, 405, 405, 401]
ADMIN_ONLY = [403, 403, 403, 403, 403, 401]


class Resource:
    """One endpoint: its model, how to find side A's row, and payloads that are valid as such."""

    def __init__(
        self,
        path: str,
        model: type[models.Model],
        row: Callable[[Book, str], models.Model],
        create: Callable[[Book], dict[str, Any]],
        update: Callable[[Book], dict[str, Any]],
        expected: dict[str, list[int]],
    ) -> None:
        self.path, self.model, self.row = path, model, row
        self.create, self.update, self.expected = create, update, expected


RESOURCES = {
    "clients": Resource(
        "clients",
        Client,
        lambda book, side: getattr(book, side).client,
        lambda book: {
            "name": "Nuova",
            "legal_name": "Nuova S.r.l.",
            "vat_number": partita_iva(),
            "sdi_code": "M5UXCR1",
            "team": book.a.team.pk,
        },
        lambda book: {"industry": "Food", "version": 1},
        {
            "retrieve": SEES_A,
            # Creating: admin, or the lead of the owning team; the other lead is refused (403).
            "create": [403, 403, 201, 403, 403, 401],
            "update": WORKS_ON_A["update"],
            "delete": [403, 404, 403, 404, 403, 401],  # admin only
        },
    ),
    "sites": Resource(
        "sites",
        Site,
        lambda book, side: getattr(book, side).site,
        lambda book: {"client": book.a.client.pk, "name": "Depot", "kind": "warehouse"},
        lambda book: {"name": "Renamed"},
        {"retrieve": SEES_A, **WORKS_ON_A},
    ),
    "contacts": Resource(
        "contacts",
        Contact,
        lambda book, side: getattr(book, side).contact,
        lambda book: {
            "client": book.a.client.pk,
            "first_name": "Ada",
            "last_name": "Rossi",
            "reports_to": book.a.contact.pk,
        },
        lambda book: {"job_title": "CFO"},
        {"retrieve": SEES_A, **WORKS_ON_A},
    ),
    "account-team-members": Resource(
        "account-team-members",
        AccountTeamMember,
        lambda book, side: getattr(book, side).membership,
        lambda book: {"client": book.a.client.pk, "user": book.finance.pk, "role": "sales"},
        lambda book: {"work_base": "home_office"},
        {"retrieve": SEES_A, **WORKS_ON_A, "update": NOT_OFFERED},
    ),
    "activities": Resource(
        "activities",
        Activity,
        lambda book, side: getattr(book, side).activity,
        lambda book: {
            "client": book.a.client.pk,
            "kind": "visit",
            "subject": "Plant tour",
            "contacts": [book.a.contact.pk],
        },
        lambda book: {"notes": "They want a quote."},
        {"retrieve": SEES_A, **WORKS_ON_A},
    ),
    "account-plans": Resource(
        "account-plans",
        AccountPlan,
        lambda book, side: getattr(book, side).plan,
        lambda book: {"client": book.a.client.pk, "year": 2027, "revenue_target": "90000.00"},
        lambda book: {"objectives": "Grow in Veneto."},
        {"retrieve": SEES_A, **WORKS_ON_A},
    ),
    "teams": Resource(
        "teams",
        Team,
        lambda book, side: getattr(book, side).team,
        lambda book: {"name": "Team C", "lead": book.b.lead.pk},
        lambda book: {"name": "Team A renamed"},
        {
            "retrieve": [200, 200, 200, 200, 200, 401],  # teams are not secret
            "create": ADMIN_ONLY,
            "update": ADMIN_ONLY,
            "delete": NOT_OFFERED,
        },
    ),
}

ACTIONS = ["list", "retrieve", "create", "update", "delete"]
CELLS = [(r, a, p) for r in RESOURCES for a in ACTIONS for p in PRINCIPALS]


def test_it_checks_every_cell_of_the_matrix() -> None:
    # 7 endpoints x 5 actions x 6 principals; the closing note of issue 3 quotes this number.
    assert len(CELLS) == 210


def snapshot(row: models.Model) -> dict[str, Any] | None:
    return type(row)._default_manager.filter(pk=row.pk).values().first()


@pytest.mark.parametrize(("resource", "action", "who"), CELLS)
def test_it_answers_per_the_access_rules(resource: str, action: str, who: str) -> None:
    book = make_book()
    spec = RESOURCES[resource]
    api = api_as(principal(book, who))
    base = f"/api/v1/{spec.path}/"
    row_a = spec.row(book, "a")
    detail = f"{base}{row_a.pk}/"

    if action == "list":
        response = api.get(base)
        if who == "anon":
            assert response.status_code == 401
            return
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["results"]}
        if resource == "teams":
            expected = {book.a.team.pk, book.b.team.pk}
        else:
            expected = {spec.row(book, side).pk for side in LIST_SEES[who]}
        # Exactly the rows this person sees: none of the other team's, all of their own.
        assert ids == expected
        return

    index = PRINCIPALS.index(who)
    expected_status = spec.expected[action][index]
    before = snapshot(row_a)
    count_before = spec.model._default_manager.count()
    if action == "retrieve":
        response = api.get(detail)
    elif action == "create":
        response = api.post(base, spec.create(book), format="json")
    elif action == "update":
        response = api.patch(detail, spec.update(book), format="json")
    else:
        response = api.delete(detail)

    assert response.status_code == expected_status, response.content[:300]
    if expected_status >= 400:
        # One error shape, and nothing changed.
        body = response.json()
        assert set(body) == {"code", "message", "fields"}
        assert snapshot(row_a) == before
        assert spec.model._default_manager.count() == count_before
    if expected_status == 404:
        assert body["code"] == "not_found"
    if expected_status == 403:
        assert body["code"] == "not_allowed"
    if expected_status == 400:
        assert "client" in body["fields"]  # the other team's client is no valid choice
    if expected_status == 201:
        assert spec.model._default_manager.count() == count_before + 1
