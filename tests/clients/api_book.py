"""A small book for API tests: two teams, each with one client and everything under it.

Team A (led by `lead_a`) owns `client_a`, whose NAM is `nam_a`; team B likewise. Each client has a
site, a contact, an activity and an account plan. Finance sees both read-only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from stdnum import luhn

from accounts_crm.access import Role
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team
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

_serial = itertools.count(1000)


def partita_iva() -> str:
    """A fresh valid Italian VAT number (Milan office code, Luhn check digit)."""
    base = f"{next(_serial):07d}015"
    return base + luhn.calc_check_digit(base)


def italian_client(**fields: object) -> Client:
    """A client with valid Italian fiscal data, so that services accept edits to it."""
    return ClientFactory(vat_number=partita_iva(), sdi_code="M5UXCR1", **fields)


@dataclass
class Side:
    """One team's corner of the book."""

    lead: User
    nam: User
    team: Team
    client: Client
    membership: AccountTeamMember
    site: Site
    contact: Contact
    activity: Activity
    plan: AccountPlan


def make_side(name: str) -> Side:
    lead = UserFactory(username=f"lead_{name}", roles=[Role.TEAM_LEAD])
    nam = UserFactory(username=f"nam_{name}", roles=[Role.ACCOUNT_STAFF])
    team = TeamFactory(name=f"Team {name.upper()}", lead=lead)
    client = italian_client(name=f"Client {name.upper()}", team=team)
    membership = AccountTeamMemberFactory(client=client, user=nam, role="nam")
    site = SiteFactory(client=client)
    contact = ContactFactory(client=client, site=site)
    activity = ActivityFactory(client=client, author=nam)
    activity.contacts.add(contact)
    plan = AccountPlanFactory(client=client, year=2026, revenue_target=Decimal("250000.00"))
    return Side(lead, nam, team, client, membership, site, contact, activity, plan)


@dataclass
class Book:
    a: Side
    b: Side
    finance: User
    admin: User


def make_book() -> Book:
    return Book(
        a=make_side("a"),
        b=make_side("b"),
        finance=UserFactory(username="finance", roles=[Role.FINANCE]),
        admin=UserFactory(username="boss", roles=[Role.ADMIN], is_staff=True, is_superuser=True),
    )


def api_as(user: User | None, language: str = "en") -> APIClient:
    """An API client sending `Authorization: Token ...` (or nothing, for anonymous)."""
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api
