"""The access matrix of the billing HTML pages: every invoice page and action x principal, as in
tests/orders/test_access_matrix_html.py.

Principals: an admin, finance, the NAM on client A's account team, a NAM of another client (B),
the lead of A's team, the lead of another team, a project manager on A's account team, and
anonymous.
Expected: 200 (page) or 302 (action done) when the role allows it; 403 when the person sees the
invoice but the role does not allow the action (only finance and admin manage invoices, record
payments and override; the NAM, the lead, finance and admin comment); 404 when they do not see
it; a redirect to the login page for anonymous. Lists (and the CSV) never contain a foreign row.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from accounts_crm.access import Role
from billing import services
from billing.models import CheckFinding, FindingComment, Invoice, InvoiceLine, Payment
from clients.models import Client
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    ContractFactory,
    MilestoneFactory,
    OrderFactory,
    OrderLineFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PRINCIPALS = ["admin", "finance", "nam", "nam_other", "lead", "lead_other", "pm", "anonymous"]
RIGHTS = {
    "admin": {"read", "manage", "comment"},
    "finance": {"read", "manage", "comment"},
    "nam": {"read", "comment"},
    "lead": {"read", "comment"},
    "pm": {"read"},
    "nam_other": set(),
    "lead_other": set(),
    "anonymous": set(),
}
SEES_A = {"admin", "finance", "nam", "lead", "pm"}


@dataclass
class World:
    a: Client
    b: Client
    users: dict[str, Any]
    draft: Invoice  # from order A, with an open error finding
    clean_draft: Invoice  # from order A2, issuable
    spare_draft: Invoice  # to delete
    issued: Invoice  # issued from order A3
    finding: CheckFinding
    fresh_order: Any  # nothing invoiced yet
    project: Any
    foreign: Invoice


def _order(client: Client, number: str, contract: Any) -> Any:
    order = OrderFactory(client=client, number=number, contract=contract, status="confirmed")
    OrderLineFactory(order=order, quantity=Decimal("4"), unit_price=Decimal("50.00"))
    return order


@pytest.fixture
def world(db) -> World:
    lead, lead_other = (UserFactory(roles=[Role.TEAM_LEAD]) for _ in range(2))
    a = ClientFactory(team=TeamFactory(lead=lead), name="Alpha")
    b = ClientFactory(team=TeamFactory(lead=lead_other), name="Bravo")
    finance = UserFactory(roles=[Role.FINANCE])
    users = {
        "admin": UserFactory(roles=[Role.ADMIN]),
        "finance": finance,
        "nam": AccountTeamMemberFactory(client=a, role="nam").user,
        "nam_other": AccountTeamMemberFactory(client=b, role="nam").user,
        "lead": lead,
        "lead_other": lead_other,
        "pm": AccountTeamMemberFactory(client=a, role="project_manager").user,
        "anonymous": None,
    }
    contract = ContractFactory(client=a)
    draft = services.invoice_from_order(by=finance, order=_order(a, "ORD-A", contract))
    finding = CheckFindingFactory(invoice=draft, severity="error")
    clean_draft = services.invoice_from_order(by=finance, order=_order(a, "ORD-A2", contract))
    spare_draft = services.invoice_from_order(by=finance, order=_order(a, "ORD-A4", contract))
    issued = services.invoice_issue(
        by=finance,
        invoice=services.invoice_from_order(by=finance, order=_order(a, "ORD-A3", contract)),
    )
    project = ProjectFactory(client=a)
    MilestoneFactory(project=project, completed_on=datetime.date(2026, 5, 1))
    foreign = services.invoice_from_order(
        by=finance, order=_order(b, "ORD-B", ContractFactory(client=b))
    )
    CheckFindingFactory(invoice=foreign)
    return World(
        a=a, b=b, users=users, draft=draft, clean_draft=clean_draft, spare_draft=spare_draft,
        issued=issued, finding=finding, fresh_order=_order(a, "ORD-A5", contract),
        project=project, foreign=foreign,
    )  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    need: str  # read, manage, comment, signed_in
    url: Callable[[World], str]
    data: Callable[[World], dict] = lambda w: {}
    done: Callable[[World], bool] | None = None


def _url(path: str) -> Callable[[World], str]:
    return lambda w: path.format(
        draft=w.draft.pk, clean=w.clean_draft.pk, spare=w.spare_draft.pk, issued=w.issued.pk,
        finding=w.finding.pk, order=w.fresh_order.pk, project=w.project.pk,
        line=w.draft.lines.first().pk,
    )  # fmt: skip


def _version(invoice: Invoice) -> int:
    return Invoice.objects.get(pk=invoice.pk).version


ENDPOINTS = [
    Endpoint("invoice detail", "get", "read", _url("/billing/invoices/{draft}/")),
    Endpoint("issued invoice detail", "get", "read", _url("/billing/invoices/{issued}/")),
    Endpoint("print", "get", "read", _url("/billing/invoices/{issued}/print/")),
    Endpoint("check progress", "get", "read", _url("/billing/invoices/{draft}/check/")),
    Endpoint(
        "create from order page", "get", "manage", _url("/billing/invoices/new/?order={order}")
    ),
    Endpoint(
        "create from order",
        "post",
        "manage",
        _url("/billing/invoices/new/"),
        lambda w: {"order": w.fresh_order.pk},
        done=lambda w: Invoice.objects.filter(order=w.fresh_order).exists(),
    ),
    Endpoint(
        "create from milestones page",
        "get",
        "manage",
        _url("/billing/invoices/new/?project={project}"),
    ),
    Endpoint(
        "create from milestones",
        "post",
        "manage",
        _url("/billing/invoices/new/"),
        lambda w: {"project": w.project.pk},
        done=lambda w: InvoiceLine.objects.filter(milestone__project=w.project).exists(),
    ),
    Endpoint("edit page", "get", "manage", _url("/billing/invoices/{draft}/edit/")),
    Endpoint(
        "edit",
        "post",
        "manage",
        _url("/billing/invoices/{draft}/edit/"),
        lambda w: {
            "client": w.a.pk,
            "currency": "EUR",
            "notes": "EDITED",
            "version": _version(w.draft),
        },
        done=lambda w: Invoice.objects.get(pk=w.draft.pk).notes == "EDITED",
    ),
    Endpoint(
        "line add",
        "post",
        "manage",
        _url("/billing/invoices/{draft}/lines/add/"),
        lambda w: {
            "description": "MATRIX",
            "quantity": "1",
            "unit_price": "5",
            "vat_rate": "22",
            "version": _version(w.draft),
        },
        done=lambda w: InvoiceLine.objects.filter(description="MATRIX").exists(),
    ),
    Endpoint(
        "line edit page", "get", "manage", _url("/billing/invoices/{draft}/lines/{line}/edit/")
    ),
    Endpoint(
        "line delete",
        "post",
        "manage",
        _url("/billing/invoices/{draft}/lines/{line}/delete/"),
        lambda w: {"version": _version(w.draft)},
        done=lambda w: w.draft.lines.count() == 0,
    ),
    Endpoint(
        "delete draft",
        "post",
        "manage",
        _url("/billing/invoices/{spare}/delete/"),
        done=lambda w: not Invoice.objects.filter(pk=w.spare_draft.pk).exists(),
    ),
    Endpoint("check now", "post", "manage", _url("/billing/invoices/{draft}/check/")),
    Endpoint(
        "issue",
        "post",
        "manage",
        _url("/billing/invoices/{clean}/issue/"),
        lambda w: {"version": _version(w.clean_draft)},
        done=lambda w: Invoice.objects.get(pk=w.clean_draft.pk).number is not None,
    ),
    Endpoint(
        "payment",
        "post",
        "manage",
        _url("/billing/invoices/{issued}/payments/add/"),
        lambda w: {"amount": "10", "paid_on": "2026-07-01", "method": "bank_transfer"},
        done=lambda w: Payment.objects.exists(),
    ),
    Endpoint("credit note page", "get", "manage", _url("/billing/invoices/{issued}/credit-note/")),
    Endpoint(
        "credit note",
        "post",
        "manage",
        _url("/billing/invoices/{issued}/credit-note/"),
        lambda w: {f"credit_{w.issued.lines.first().pk}": "on"},
        done=lambda w: Invoice.objects.filter(credits=w.issued).exists(),
    ),
    Endpoint(
        "override",
        "post",
        "manage",
        _url("/billing/findings/{finding}/override/"),
        lambda w: {"reason": "MATRIX"},
        done=lambda w: CheckFinding.objects.get(pk=w.finding.pk).status == "overridden",
    ),
    Endpoint(
        "comment",
        "post",
        "comment",
        _url("/billing/findings/{finding}/comment/"),
        lambda w: {"text": "MATRIX"},
        done=lambda w: FindingComment.objects.filter(text="MATRIX").exists(),
    ),
    Endpoint("invoice list", "get", "signed_in", lambda w: "/billing/"),
    Endpoint("review queue", "get", "signed_in", lambda w: "/billing/review/"),
    Endpoint("receivables", "get", "signed_in", lambda w: "/billing/receivables/"),
]


def expected_status(principal: str, endpoint: Endpoint) -> int:
    if principal == "anonymous":
        return 302
    allowed = 200 if endpoint.method == "get" else 302
    if endpoint.need == "signed_in":
        return allowed
    if principal not in SEES_A:
        return 404
    return allowed if endpoint.need in RIGHTS[principal] else 403


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_it_answers_each_principal_as_its_role_allows(
    as_principal, world, principal: str, endpoint: Endpoint
) -> None:
    http = as_principal(principal)

    response = getattr(http, endpoint.method)(endpoint.url(world), endpoint.data(world))

    expected = expected_status(principal, endpoint)
    assert response.status_code == expected, response.content[:300]
    if principal == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")
    if endpoint.done is not None:
        assert endpoint.done(world) is (expected == 302 and principal != "anonymous")


# Lists: exactly the rows the principal sees, never a foreign one -----------------------------

A_ROWS = {"ORD-A", "ORD-A2", "ORD-A3", "ORD-A4"}
B_ROWS = {"ORD-B"}
SEEN = {"admin": A_ROWS | B_ROWS, "finance": A_ROWS | B_ROWS, "nam": A_ROWS, "lead": A_ROWS,
        "pm": A_ROWS, "nam_other": B_ROWS, "lead_other": B_ROWS}  # fmt: skip


def listed_orders(response) -> set[str]:
    """The order numbers of the invoices listed (an invoice's number is not known up front)."""
    if response["Content-Type"].startswith("text/csv"):
        content = b"".join(response.streaming_content).decode()
        return {row[3] for row in list(csv.reader(io.StringIO(content)))[1:]}
    html = response.content.decode()
    return set(
        re.findall(r'data-testid="invoice-row">.*?text-body-secondary">([^<]+)</div>', html, re.S)
    )


@pytest.mark.parametrize("principal", [p for p in PRINCIPALS if p != "anonymous"])
@pytest.mark.parametrize("url", ["/billing/", "/billing/?format=csv"])
def test_the_invoice_list_shows_only_the_rows_each_principal_sees(
    as_principal, principal: str, url: str
) -> None:
    response = as_principal(principal).get(url)

    assert listed_orders(response) == SEEN[principal]


@pytest.mark.parametrize("principal", [p for p in PRINCIPALS if p != "anonymous"])
def test_the_review_queue_shows_only_the_findings_each_principal_sees(
    as_principal, world, principal: str
) -> None:
    html = as_principal(principal).get("/billing/review/").content.decode()

    clients = set(re.findall(r'data-testid="finding-row".*?<a href="/clients/\d+/">([^<]+)</a>',
                             html, re.S))  # fmt: skip
    expected = (
        {"Alpha", "Bravo"}
        if principal in ("admin", "finance")
        else ({"Alpha"} if principal in SEES_A else {"Bravo"})
    )
    assert clients == expected


def test_a_line_of_another_invoice_is_not_found_behind_a_visible_one(as_principal, world):
    http = as_principal("finance")
    foreign_line = world.foreign.lines.first()

    response = http.post(
        f"/billing/invoices/{world.draft.pk}/lines/{foreign_line.pk}/delete/",
        {"version": _version(world.draft)},
    )

    assert response.status_code == 404
    assert InvoiceLine.objects.filter(pk=foreign_line.pk).exists()
