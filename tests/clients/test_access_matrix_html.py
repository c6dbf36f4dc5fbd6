"""The access matrix of the clients HTML pages: every client-scoped page and action x principal.

Principals: the NAM on the client's account team, a NAM of another client, the lead of the
client's team, the lead of another team, finance, a project manager on the account team, and
anonymous. Expected: 200 (page) or 302 (action done) when the role allows it; 403 when the
person sees the client but the role does not allow the action; 404 when they do not see it;
a redirect to the login page for anonymous. Lists (and the CSV) never contain a foreign row.

Cells: 22 page/action endpoints x 7 principals = 154, plus 4 lists x 7 principals = 28,
plus 6 rows of another client reached through a visible client's URL = 188 cells.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

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

PRINCIPALS = ["nam", "nam_other", "lead", "lead_other", "finance", "pm", "anonymous"]
# What each principal may do on client A (B belongs to nam_other and lead_other).
RIGHTS = {
    "nam": {"read", "work", "manage"},
    "lead": {"read", "work", "manage", "create"},
    "pm": {"read", "work"},
    "finance": {"read"},
    "nam_other": set(),
    "lead_other": {"create"},
    "anonymous": set(),
}
SEES_A = {"nam", "lead", "pm", "finance"}


@dataclass
class World:
    a: Client
    b: Client
    users: dict[str, Any]
    site: Site
    contact: Contact
    activity: Activity
    plan: AccountPlan
    member: AccountTeamMember
    newcomer: Any
    foreign: dict[str, Any]


@pytest.fixture
def world(db) -> World:
    lead, lead_other = (UserFactory(roles=[Role.TEAM_LEAD]) for _ in range(2))
    a = ClientFactory(
        team=TeamFactory(lead=lead), name="Alpha", vat_number="04123450159", sdi_code="M5UXCR1"
    )
    b = ClientFactory(team=TeamFactory(lead=lead_other), name="Bravo")
    users = {
        "nam": AccountTeamMemberFactory(client=a, role="nam").user,
        "nam_other": AccountTeamMemberFactory(client=b, role="nam").user,
        "lead": lead,
        "lead_other": lead_other,
        "finance": UserFactory(roles=[Role.FINANCE]),
        "pm": AccountTeamMemberFactory(client=a, role="project_manager").user,
        "anonymous": None,
    }
    return World(
        a=a,
        b=b,
        users=users,
        site=SiteFactory(client=a),
        contact=ContactFactory(client=a),
        activity=ActivityFactory(client=a),
        plan=AccountPlanFactory(client=a),
        member=AccountTeamMemberFactory(client=a, role="sales", starts_on="2024-01-01"),
        newcomer=UserFactory(roles=[Role.ACCOUNT_STAFF]),
        foreign={
            "site": SiteFactory(client=b),
            "contact": ContactFactory(client=b),
            "activity": ActivityFactory(client=b),
            "plan": AccountPlanFactory(client=b),
        },
    )


def client_edit_data(w: World) -> dict:
    return {
        "name": "Alpha 2", "legal_name": w.a.legal_name, "vat_number": w.a.vat_number,
        "sdi_code": w.a.sdi_code, "team": w.a.team_id, "scope": "national", "status": "active",
        "country": "IT", "version": w.a.version,
    }  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    need: str  # read, work, manage, create, admin (nobody here: admin only)
    url: Callable[[World], str]
    data: Callable[[World], dict] = lambda w: {}
    # For actions: is the row still there? (must be, unless the action was allowed)
    gone: Callable[[World], bool] | None = None


def _url(path: str) -> Callable[[World], str]:
    return lambda w: path.format(
        a=w.a.pk, site=w.site.pk, contact=w.contact.pk, activity=w.activity.pk,
        plan=w.plan.pk, member=w.member.pk,
    )  # fmt: skip


ENDPOINTS = [
    Endpoint("client detail", "get", "read", _url("/clients/{a}/")),
    Endpoint("client create page", "get", "create", lambda w: "/clients/new/"),
    Endpoint("client edit page", "get", "manage", _url("/clients/{a}/edit/")),
    Endpoint(
        "client update",
        "post",
        "manage",
        _url("/clients/{a}/edit/"),
        client_edit_data,
        gone=lambda w: Client.objects.get(pk=w.a.pk).name == "Alpha 2",
    ),
    Endpoint(
        "client delete",
        "post",
        "admin",
        _url("/clients/{a}/delete/"),
        gone=lambda w: not Client.objects.filter(pk=w.a.pk).exists(),
    ),
    Endpoint("site create page", "get", "work", _url("/clients/{a}/sites/new/")),
    Endpoint("site edit page", "get", "work", _url("/clients/{a}/sites/{site}/edit/")),
    Endpoint(
        "site delete",
        "post",
        "work",
        _url("/clients/{a}/sites/{site}/delete/"),
        gone=lambda w: not Site.objects.filter(pk=w.site.pk).exists(),
    ),
    Endpoint("contact create page", "get", "work", _url("/clients/{a}/contacts/new/")),
    Endpoint("contact edit page", "get", "work", _url("/clients/{a}/contacts/{contact}/edit/")),
    Endpoint(
        "contact delete",
        "post",
        "work",
        _url("/clients/{a}/contacts/{contact}/delete/"),
        gone=lambda w: not Contact.objects.filter(pk=w.contact.pk).exists(),
    ),
    Endpoint("account team add page", "get", "manage", _url("/clients/{a}/account-team/new/")),
    Endpoint(
        "account team add",
        "post",
        "manage",
        _url("/clients/{a}/account-team/new/"),
        lambda w: {
            "user": w.newcomer.pk,
            "role": "sales",
            "work_base": "home_office",
            "starts_on": "2026-01-01",
        },
        gone=lambda w: AccountTeamMember.objects.filter(user=w.newcomer).exists(),
    ),
    Endpoint(
        "account team end",
        "post",
        "manage",
        _url("/clients/{a}/account-team/{member}/end/"),
        gone=lambda w: AccountTeamMember.objects.get(pk=w.member.pk).ends_on is not None,
    ),
    Endpoint("activity create page", "get", "work", _url("/clients/{a}/activities/new/")),
    Endpoint("activity edit page", "get", "work", _url("/clients/{a}/activities/{activity}/edit/")),
    Endpoint(
        "activity delete",
        "post",
        "work",
        _url("/clients/{a}/activities/{activity}/delete/"),
        gone=lambda w: not Activity.objects.filter(pk=w.activity.pk).exists(),
    ),
    Endpoint(
        "activity log",
        "post",
        "work",
        _url("/clients/{a}/activities/log/"),
        lambda w: {"kind": "call", "subject": "Matrix call"},
        gone=lambda w: Activity.objects.filter(subject="Matrix call").exists(),
    ),
    Endpoint("plan create page", "get", "manage", _url("/clients/{a}/plans/new/")),
    Endpoint("plan edit page", "get", "manage", _url("/clients/{a}/plans/{plan}/edit/")),
    Endpoint(
        "plan delete",
        "post",
        "manage",
        _url("/clients/{a}/plans/{plan}/delete/"),
        gone=lambda w: not AccountPlan.objects.filter(pk=w.plan.pk).exists(),
    ),
    Endpoint(
        "account team end page", "get", "manage", _url("/clients/{a}/account-team/{member}/end/")
    ),
]


def expected_status(principal: str, endpoint: Endpoint) -> int:
    if principal == "anonymous":
        return 302
    allowed = 200 if endpoint.method == "get" else 302
    if endpoint.need == "create":
        return allowed if "create" in RIGHTS[principal] else 403
    if principal not in SEES_A:
        return 404
    return allowed if endpoint.need in RIGHTS[principal] else 403


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_it_answers_each_principal_as_its_role_allows(
    as_principal, world, principal: str, endpoint: Endpoint
) -> None:
    http = as_principal(principal)
    url = endpoint.url(world)

    response = getattr(http, endpoint.method)(url, endpoint.data(world))

    expected = expected_status(principal, endpoint)
    assert response.status_code == expected, response.content[:300]
    if principal == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")
    if endpoint.gone is not None:
        # The change happened exactly when the role allowed it.
        assert endpoint.gone(world) is (expected == 302 and principal != "anonymous")


# Lists: exactly the clients the principal sees, never a foreign row ---------------------------

LISTS = {
    "/clients/": {"nam": {"Alpha"}, "nam_other": {"Bravo"}, "lead": {"Alpha"},
                  "lead_other": {"Bravo"}, "finance": {"Alpha", "Bravo"}, "pm": {"Alpha"}},
    "/clients/mine/": {"nam": {"Alpha"}, "nam_other": {"Bravo"}, "lead": set(),
                       "lead_other": set(), "finance": set(), "pm": {"Alpha"}},
    "/clients/team/": {"nam": set(), "nam_other": set(), "lead": {"Alpha"},
                       "lead_other": {"Bravo"}, "finance": set(), "pm": set()},
    "/clients/?format=csv": {"nam": {"Alpha"}, "nam_other": {"Bravo"}, "lead": {"Alpha"},
                             "lead_other": {"Bravo"}, "finance": {"Alpha", "Bravo"},
                             "pm": {"Alpha"}},
}  # fmt: skip


def listed_names(response) -> set[str]:
    if response["Content-Type"].startswith("text/csv"):
        content = b"".join(response.streaming_content).decode()
        return {row[0] for row in list(csv.reader(io.StringIO(content)))[1:]}
    html = response.content.decode()
    return set(re.findall(r'data-testid="client-row">\s*<td>\s*<a[^>]*>([^<]+)</a>', html))


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("url", list(LISTS))
def test_it_lists_only_the_clients_each_principal_sees(
    as_principal, principal: str, url: str
) -> None:
    http = as_principal(principal)
    response = http.get(url)
    if principal == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        return
    assert response.status_code == 200
    assert listed_names(response) == LISTS[url][principal]


# A row of another client, reached through the URL of a client the person sees -----------------

FOREIGN_ROWS = [
    ("sites", "site", "edit"),
    ("contacts", "contact", "edit"),
    ("activities", "activity", "edit"),
    ("plans", "plan", "edit"),
    ("contacts", "contact", "delete"),
    ("plans", "plan", "delete"),
]


@pytest.mark.parametrize(("kind", "row", "action"), FOREIGN_ROWS)
def test_it_hides_rows_of_another_client_behind_a_visible_one(
    as_principal, world, kind: str, row: str, action: str
) -> None:
    http = as_principal("lead")
    foreign = world.foreign[row]
    url = f"/clients/{world.a.pk}/{kind}/{foreign.pk}/{action}/"
    response = http.post(url) if action == "delete" else http.get(url)
    assert response.status_code == 404
    assert type(foreign).objects.filter(pk=foreign.pk).exists()
