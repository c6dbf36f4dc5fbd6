"""The billing API access matrix: every endpoint x action x principal, against team A's rows.

Principals: A's NAM, a project manager on A's account team, the lead of A's team, an outsider
(B's NAM), finance, admin, anonymous. Same rules as the other matrices: a row you may not see
is 404 (and never listed), a row you see but may not change is 403, anonymous is 401, an action
the endpoint does not offer is 405, and a refused write changes nothing. On top of DESIGN.md's
"only finance issues invoices, records payments and overrides check findings": only finance
(and admin) create and edit invoices at all, and the account's NAM, its team lead and finance
comment on findings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from billing.models import CheckFinding, FindingComment, Invoice, InvoiceLine, Payment
from tests.billing.api_book import BillingBook, make_billing_book
from tests.clients.api_book import api_as
from tests.clients.test_access_matrix_api import snapshot
from tests.orders.test_access_matrix_api import assert_refused_cleanly

pytestmark = pytest.mark.django_db

PRINCIPALS = ["nam", "pm", "lead", "outsider", "finance", "admin", "anon"]

# Which side's rows each principal's list shows ("ab" = both, "" = not asked: 401).
LIST_SEES = {
    "nam": "a",
    "pm": "a",
    "lead": "a",
    "outsider": "b",
    "finance": "ab",
    "admin": "ab",
    "anon": "",
}

# Answers per principal, in PRINCIPALS order.
SEES_A = [200, 200, 200, 404, 200, 200, 401]
# Finance's: refused (403) before the body names a row, so the outsider is 403 too.
FINANCE_CREATES = [403, 403, 403, 403, 201, 201, 401]
FINANCE_CHANGES = [403, 403, 403, 404, 200, 200, 401]
FINANCE_DELETES = [403, 403, 403, 404, 204, 204, 401]
NOT_OFFERED = [405, 405, 405, 405, 405, 405, 401]


def principal(book: BillingBook, name: str) -> Any:
    return {
        "nam": book.book.a.nam,
        "pm": book.pm_a,
        "lead": book.book.a.lead,
        "outsider": book.book.b.nam,
        "finance": book.book.finance,
        "admin": book.book.admin,
        "anon": None,
    }[name]


def version_of(invoice: Invoice) -> int:
    return Invoice.objects.get(pk=invoice.pk).version


class Resource:
    """One endpoint: its model, a side's rows (the first is side A's row under test), valid
    payloads, and the query a delete needs."""

    def __init__(
        self,
        model: type[models.Model],
        rows: Callable[[BillingBook, str], list[models.Model]],
        create: Callable[[BillingBook], dict[str, Any]],
        update: Callable[[BillingBook], dict[str, Any]],
        expected: dict[str, list[int]],
        delete_query: Callable[[BillingBook], str] = lambda book: "",
    ) -> None:
        self.model, self.rows, self.create, self.update = model, rows, create, update
        self.expected, self.delete_query = expected, delete_query


def ledger(book: BillingBook, side: str) -> Any:
    return getattr(book, side)


RESOURCES = {
    "invoices": Resource(
        Invoice,
        lambda book, s: [ledger(book, s).draft, ledger(book, s).issued],
        lambda book: {
            "client": book.book.a.client.pk,
            "contract": book.orders.a.contract.pk,
            "notes": "Spring campaign",
        },
        lambda book: {"notes": "PO 4711 on the invoice", "version": version_of(book.a.draft)},
        {
            "retrieve": SEES_A,
            "create": FINANCE_CREATES,
            "update": FINANCE_CHANGES,
            "delete": FINANCE_DELETES,
        },
    ),
    "invoice-lines": Resource(
        InvoiceLine,
        lambda book, s: [ledger(book, s).draft_line, ledger(book, s).issued_line],
        lambda book: {
            "invoice": book.a.draft.pk,
            "invoice_version": version_of(book.a.draft),
            "description": "Installation",
            "quantity": "1",
            "unit_price": "150.00",
            "vat_rate": "22.00",
        },
        lambda book: {"quantity": "2", "invoice_version": version_of(book.a.draft)},
        {
            "retrieve": SEES_A,
            "create": FINANCE_CREATES,
            "update": FINANCE_CHANGES,
            "delete": FINANCE_DELETES,
        },
        delete_query=lambda book: f"?invoice_version={version_of(book.a.draft)}",
    ),
    "payments": Resource(
        Payment,
        lambda book, s: [ledger(book, s).payment],
        lambda book: {"invoice": book.a.issued.pk, "amount": "100.00", "paid_on": "2026-04-01"},
        lambda book: {"reference": "CRO 123"},
        {
            "retrieve": SEES_A,
            "create": FINANCE_CREATES,
            "update": NOT_OFFERED,  # a wrong payment is deleted and recorded again
            "delete": FINANCE_DELETES,
        },
    ),
    "findings": Resource(
        CheckFinding,
        lambda book, s: [ledger(book, s).finding],
        lambda book: {"invoice": book.a.issued.pk, "rule": "manual", "severity": "error"},
        lambda book: {"status": "resolved"},
        # The checks write findings; people override and comment (below).
        {
            "retrieve": SEES_A,
            "create": NOT_OFFERED,
            "update": NOT_OFFERED,
            "delete": NOT_OFFERED,
        },
    ),
}

ACTIONS = ["list", "retrieve", "create", "update", "delete"]


def draft_state(book: BillingBook) -> Any:
    return snapshot(book.a.draft)


class StateAction:
    """A POST on one of side A's rows (or on a list, `row` None); `state` reads what it
    changes."""

    def __init__(
        self,
        url: Callable[[BillingBook], str],
        payload: Callable[[BillingBook], dict[str, Any]],
        state: Callable[[BillingBook], Any],
        expected: list[int],
    ) -> None:
        self.url, self.payload, self.state, self.expected = url, payload, state, expected


def invoice_ids(book: BillingBook) -> list[int]:
    return list(Invoice.objects.order_by("pk").values_list("pk", flat=True))


STATE_ACTIONS = {
    "from-order": StateAction(
        lambda b: "/api/v1/invoices/from-order/",
        lambda b: {"order": b.orders.a.order.pk},
        invoice_ids,
        FINANCE_CREATES,
    ),
    "from-milestones": StateAction(
        lambda b: "/api/v1/invoices/from-milestones/",
        lambda b: {"project": b.a.project.pk},
        invoice_ids,
        FINANCE_CREATES,
    ),
    "issue": StateAction(
        lambda b: f"/api/v1/invoices/{b.a.draft.pk}/issue/",
        lambda b: {"version": version_of(b.a.draft)},
        draft_state,
        FINANCE_CHANGES,
    ),
    "credit-note": StateAction(
        lambda b: f"/api/v1/invoices/{b.a.issued.pk}/credit-note/",
        lambda b: {"notes": "Wrong rate"},
        invoice_ids,
        [403, 403, 403, 404, 201, 201, 401],  # a detail action: the outsider sees no row
    ),
    "override": StateAction(
        lambda b: f"/api/v1/findings/{b.a.finding.pk}/override/",
        lambda b: {"reason": "Price agreed by e-mail on 2 March."},
        lambda b: snapshot(b.a.finding),
        FINANCE_CHANGES,
    ),
    "comment": StateAction(
        lambda b: f"/api/v1/findings/{b.a.finding.pk}/comment/",
        lambda b: {"text": "The client confirmed the price."},
        lambda b: FindingComment.objects.count(),
        # The NAM and the team lead comment; the project manager reads.
        [201, 403, 201, 404, 201, 201, 401],
    ),
}

CELLS = [(r, a, p) for r in RESOURCES for a in ACTIONS for p in PRINCIPALS]
ACTION_CELLS = [(a, p) for a in [*STATE_ACTIONS, "check-now"] for p in PRINCIPALS]


def test_it_checks_every_cell_of_the_matrix() -> None:
    # 4 endpoints x 5 actions x 7 principals, and 7 actions x 7 principals.
    assert len(CELLS) + len(ACTION_CELLS) == 189


@pytest.mark.parametrize(("resource", "action", "who"), CELLS)
def test_it_answers_per_the_access_rules(resource: str, action: str, who: str) -> None:
    book = make_billing_book()
    spec = RESOURCES[resource]
    api = api_as(principal(book, who))
    base = f"/api/v1/{resource}/"
    row_a = spec.rows(book, "a")[0]
    detail = f"{base}{row_a.pk}/"

    if action == "list":
        response = api.get(base)
        if who == "anon":
            assert response.status_code == 401
            return
        assert response.status_code == 200
        ids = {item["id"] for item in response.json()["results"]}
        # Exactly the rows this person sees: none of the other team's, all of their own.
        assert ids == {row.pk for s in LIST_SEES[who] for row in spec.rows(book, s)}
        return

    expected_status = spec.expected[action][PRINCIPALS.index(who)]
    before = snapshot(row_a)
    count_before = spec.model._default_manager.count()
    if action == "retrieve":
        response = api.get(detail)
    elif action == "create":
        response = api.post(base, spec.create(book), format="json")
    elif action == "update":
        response = api.patch(detail, spec.update(book), format="json")
    else:
        response = api.delete(detail + spec.delete_query(book))

    assert response.status_code == expected_status, response.content[:300]
    if expected_status >= 400:
        assert_refused_cleanly(response, expected_status)
        assert snapshot(row_a) == before
        assert spec.model._default_manager.count() == count_before
    if expected_status == 200 and action == "retrieve":
        assert response.json()["id"] == row_a.pk
    if expected_status == 201:
        assert spec.model._default_manager.count() == count_before + 1
        assert response.json()["id"]
    if expected_status == 200 and action == "update":
        assert snapshot(row_a) != before
    if expected_status == 204:
        assert snapshot(row_a) is None


@pytest.mark.parametrize(("name", "who"), ACTION_CELLS)
def test_it_guards_billing_actions_per_the_access_rules(
    name: str, who: str, sent_checks: list[list[int]], django_capture_on_commit_callbacks: Any
) -> None:
    book = make_billing_book()
    api = api_as(principal(book, who))
    if name == "check-now":
        url, payload = f"/api/v1/invoices/{book.a.issued.pk}/check-now/", {}
        expected = [403, 403, 403, 404, 202, 202, 401]
        state: Callable[[], Any] = lambda: list(sent_checks)  # noqa: E731
    else:
        spec = STATE_ACTIONS[name]
        url, payload, expected = spec.url(book), spec.payload(book), spec.expected
        state = lambda: spec.state(book)  # noqa: E731
    before = state()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url, payload, format="json")

    expected_status = expected[PRINCIPALS.index(who)]
    assert response.status_code == expected_status, response.content[:300]
    if expected_status >= 400:
        assert_refused_cleanly(response, expected_status)
        assert state() == before
    else:
        assert response.json()["id"]
        assert state() != before
