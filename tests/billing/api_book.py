"""The orders API book (tests/orders/api_book.py) plus a billing ledger per team.

Each side's ledger, written through billing/services.py by finance:
- `draft`: a draft invoice of the side's confirmed order (one line, `draft_line`, billing all
  4 of its confirmed line), issuable (no findings);
- `issued`: an issued invoice of one line (10 x 100.00 at 22%: 1,220.00 gross) with a
  payment of 200.00 (`payment`), so partially paid, and an open error finding on it
  (`finding`, as the checks would write it) with a comment by finance;
- `project`: a project with one completed billable milestone (`milestone`, 5,000.00) not
  invoiced yet, for invoices from milestones.
Side A's account team also has a project manager (`pm_a`), who sees A's invoices and does
nothing else in billing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User

from accounts_crm.access import Role
from billing import services
from billing.models import CheckFinding, FindingComment, Invoice, InvoiceLine, Payment
from projects.models import Milestone, Project
from tests.clients.api_book import Book, Side
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    FindingCommentFactory,
    MilestoneFactory,
    ProjectFactory,
    UserFactory,
)
from tests.orders.api_book import Corner, OrdersBook, make_orders_book


@dataclass
class Ledger:
    draft: Invoice
    draft_line: InvoiceLine
    issued: Invoice
    issued_line: InvoiceLine
    payment: Payment
    finding: CheckFinding
    comment: FindingComment
    project: Project
    milestone: Milestone


@dataclass
class BillingBook:
    orders: OrdersBook
    pm_a: User
    a: Ledger
    b: Ledger

    @property
    def book(self) -> Book:
        """The clients' book: principals and clients, as the shared matrix helpers want it."""
        return self.orders.book


def make_ledger(side: Side, corner: Corner, finance: User) -> Ledger:
    draft = services.invoice_from_order(by=finance, order=corner.confirmed_order)
    issued = services.invoice_create(
        by=finance, invoice=Invoice(client=side.client, contract=corner.contract)
    )
    issued_line = services.invoice_line_save(
        by=finance,
        line=InvoiceLine(
            invoice=issued, description="Consulting", quantity=Decimal("10"),
            unit_price=Decimal("100.00"), vat_rate=Decimal("22.00"),
        ),
    )  # fmt: skip
    issued = services.invoice_issue(
        by=finance, invoice=issued, issue_date=datetime.date(2026, 3, 2)
    )
    payment = services.payment_record(
        by=finance, invoice=issued, amount=Decimal("200.00"), paid_on=datetime.date(2026, 3, 20)
    )
    finding = CheckFindingFactory(invoice=issued, line=issued_line, severity="error")
    comment = FindingCommentFactory(finding=finding, author=finance, text="Asked the NAM.")
    project = ProjectFactory(client=side.client, order=corner.confirmed_order, manager=side.nam)
    milestone = MilestoneFactory(
        project=project, name="Acceptance", completed_on=datetime.date(2026, 2, 27)
    )
    return Ledger(
        draft=draft,
        draft_line=draft.lines.get(),
        issued=Invoice.objects.get(pk=issued.pk),
        issued_line=issued_line,
        payment=payment,
        finding=finding,
        comment=comment,
        project=project,
        milestone=milestone,
    )


def add_project_manager(side: Side) -> User:
    pm = UserFactory(username=f"pm_{side.team.pk}", roles=[Role.ACCOUNT_STAFF])
    AccountTeamMemberFactory(client=side.client, user=pm, role="project_manager")
    return pm


def add_ledgers(orders: OrdersBook) -> BillingBook:
    """Billing on top of an orders book (the fuzz test's projects book has one inside)."""
    book = orders.book
    return BillingBook(
        orders=orders,
        pm_a=add_project_manager(book.a),
        a=make_ledger(book.a, orders.a, book.finance),
        b=make_ledger(book.b, orders.b, book.finance),
    )


def make_billing_book() -> BillingBook:
    return add_ledgers(make_orders_book())
