"""Fuzz the whole API with schemathesis: no server errors, no answer that breaks the schema.

The schema is the one the app serves at /api/schema/, loaded through WSGI, so every endpoint a
later issue adds is fuzzed by this test without touching it. It runs as a NAM and as finance
(read-only on clients), against a small book committed to the test database (the clients book
plus its orders corner: contracts, prices, orders, lines, opportunities; its delivery corner; and
its billing ledger: a draft invoice, an issued one with a payment and an open finding). Detail
and action URLs of resources the book has rows for point at a real row the caller sees, and the
ids a body refers to (client, contract, product, order, invoice, ...) point at the book's rows,
with the versions read from the database, so updates, actions and deletes reach the services
behind the 404.

Bounded and reproducible: few examples per operation, derandomized Hypothesis, no shrinking.

One pytest test per caller loops over the operations itself instead of using
`schemathesis.pytest.from_fixture(...).parametrize()`: that loader (schemathesis 4.32) sets
`request.node._nodeid`, which pytest 9 no longer has, and it is the only way to load a schema
that needs the test database (the token) at test time.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from billing.models import Invoice, InvoiceLine
from clients.models import Client
from orders.models import Contract, Order, OrderLine
from projects.models import Project, ServiceCase
from tests.billing.api_book import add_ledgers
from tests.projects.api_book import make_projects_book

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Enough to reach every branch the book sets up; the whole test stays around two minutes.
MAX_EXAMPLES = 8
# A row's URL, or one of its actions (/orders/{id}/transition/, /opportunities/{id}/win/, ...).
DETAIL = re.compile(r"^/api/v1/(?P<resource>[^/]+)/\{id\}/(?:(?P<action>[^/{}]+)/)?$")
# Optimistic locking: a body's version is the row's current one, else every update is a 409.
VERSIONED = {
    "clients": Client,
    "contracts": Contract,
    "orders": Order,
    "projects": Project,
    "service-cases": ServiceCase,
    "invoices": Invoice,
}


def make_caller(principal: str) -> dict[str, Any]:
    """The caller's token and the ids of the book's rows, by resource path."""
    projects_book = make_projects_book()
    orders_book = projects_book.orders
    book = orders_book.book
    ledger = add_ledgers(orders_book).a
    user = book.a.nam if principal == "nam" else book.finance
    side, corner, delivery = book.a, orders_book.a, projects_book.a
    return {
        "token": Token.objects.create(user=user).key,
        # Random ids almost never name a row the caller sees, so positive bodies would all stop
        # at "invalid pk"; these point the references a body has at the book's rows instead.
        "references": {
            "client": side.client.pk,
            "site": side.site.pk,
            "reports_to": side.contact.pk,
            "contacts": [side.contact.pk],
            "parent": None,
            "team": side.team.pk,
            # The account's own NAM: a generated "nam" membership for anyone else would hand
            # the account over and lock the NAM out of the rest of the run.
            "user": side.nam.pk,
            "lead": side.lead.pk,
            "members": [side.nam.pk],
            "contract": corner.contract.pk,
            "product": orders_book.product.pk,
            "products": [orders_book.product.pk],
            "order": corner.order.pk,
            "project": delivery.project.pk,
            "milestone": delivery.first.pk,
            # The completed kick-off: an open milestone may wait for it, and no cycle follows.
            "predecessors": [delivery.done.pk],
            "contact": side.contact.pk,
            # People a row is given to must work on the account.
            "manager": side.nam.pk,
            "owner": side.nam.pk,
            "assignee": side.nam.pk,
            "trainer": side.nam.pk,
            # A draft: lines can be added to it (a payment on it is a clean 400).
            "invoice": ledger.draft.pk,
            "order_line": corner.line.pk,
            # Completed, billable, not invoiced: an invoice from it can be drafted.
            "milestones": [ledger.milestone.pk],
        },
        "rows": {
            "clients": side.client.pk,
            "sites": side.site.pk,
            "contacts": side.contact.pk,
            "account-team-members": side.membership.pk,
            "activities": side.activity.pk,
            "account-plans": side.plan.pk,
            "teams": side.team.pk,
            "products": orders_book.product.pk,
            "contracts": corner.contract.pk,
            "contract-prices": corner.price.pk,
            "orders": corner.order.pk,  # a draft: its lines and transitions are open
            "order-lines": corner.line.pk,
            "opportunities": corner.opportunity.pk,
            "projects": delivery.project.pk,
            "milestones": delivery.first.pk,  # open, waits for nothing: it can be completed
            "tasks": delivery.task.pk,
            "training-sessions": delivery.session.pk,
            "initiatives": delivery.initiative.pk,
            "service-cases": delivery.case.pk,
            "service-levels": delivery.level.pk,
            "invoices": ledger.draft.pk,  # a draft: it can be edited, issued, deleted
            "invoice-lines": ledger.draft_line.pk,
            "payments": ledger.payment.pk,
            "findings": ledger.finding.pk,  # open: it can be overridden
        },
        # Actions that need another row than the resource's default one.
        "action_rows": {
            ("order-lines", "delivery"): corner.confirmed_line.pk,  # deliveries: confirmed only
            ("milestones", "reopen"): delivery.done.pk,  # only a completed one reopens
            ("service-cases", "reopen"): delivery.resolved_case.pk,
            ("invoices", "credit-note"): ledger.issued.pk,  # only an issued invoice is credited
        },
    }


def _current_versions(body: dict[str, Any], resource: str | None, row: int | None) -> None:
    """Put the stored versions into a positive body (else it is a 409, not the service)."""
    if "version" in body and resource in VERSIONED and row is not None:
        body["version"] = VERSIONED[resource].objects.get(pk=row).version
    if "order_version" in body:
        order = body.get("order")
        if resource == "order-lines" and row is not None:
            order = OrderLine.objects.filter(pk=row).values_list("order_id", flat=True).first()
        stored = Order.objects.filter(pk=order).values_list("version", flat=True).first()
        if stored is not None:
            body["order_version"] = stored
    if "invoice_version" in body:
        invoice = body.get("invoice")
        if resource == "invoice-lines" and row is not None:
            lines = InvoiceLine.objects.filter(pk=row)
            invoice = lines.values_list("invoice_id", flat=True).first()
        stored = Invoice.objects.filter(pk=invoice).values_list("version", flat=True).first()
        if stored is not None:
            body["invoice_version"] = stored


def fuzz(operation: Any, mode: GenerationMode, principal: dict[str, Any]) -> str | None:
    """Run one operation's examples; the first failure, described, or None."""
    auth = {"Authorization": f"Token {principal['token']}"}
    match = DETAIL.match(operation.path)
    fixed = None
    # Negative cases need something to break: without a body (`reopen`, `win`, deletes), that
    # is the id itself.
    has_body = bool(operation.body)
    wants_real_row = mode is GenerationMode.POSITIVE or has_body
    if match and match["resource"] in principal["rows"] and wants_real_row:
        row = principal["action_rows"].get((match["resource"], match["action"]))
        fixed = {"id": row or principal["rows"][match["resource"]]}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed, headers=auth)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the case
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE and isinstance(case.body, dict):
            for name, value in principal["references"].items():
                if name in case.body:
                    case.body[name] = value
            # Random strings are never a valid VAT number or tax code; the book's stand.
            for name in ("vat_number", "tax_code", "sdi_code", "pec"):
                case.body.pop(name, None)
            _current_versions(
                case.body,
                match["resource"] if match else None,
                fixed["id"] if fixed else None,
            )
        case.call_and_validate(headers=auth, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Nothing to break: no parameters and no body (`POST /notifications/read-all/`).
        if mode is GenerationMode.NEGATIVE:
            return None
        return f"{operation.label} ({mode.value}): no case could be generated"
    except (Exception, BaseExceptionGroup) as error:  # reported with the operation's name
        return f"{operation.label} ({mode.value}): {error}"
    return None


@pytest.mark.parametrize("principal", ["nam", "finance"])
def test_it_answers_every_operation_within_its_schema(
    principal: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accounts_crm.wsgi import application
    from billing import tasks

    # Invoice changes enqueue their checks on commit; the broker is outside the product.
    monkeypatch.setattr(tasks.invoice_check, "delay", lambda ids: None)

    caller = make_caller(principal)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/", application, headers={"Authorization": f"Token {caller['token']}"}
    )
    # Deletes last: the NAM ending their own membership would hide the book from what follows.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: operation.method.upper() == "DELETE",
    )
    assert len(operations) >= 39  # the clients API alone; later issues only add to it
    failures = [
        failure
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if (failure := fuzz(operation, mode, caller))
    ]
    assert not failures, "\n\n".join(failures)
