"""An invoice cancelled by a credit note of its whole amount is left out with its credit note
everywhere revenue is summed (billing.filters.in_revenue): the team lead's revenue by month, the
NAM's invoiced this year, finance's credit sales for DSO, and the invoice list behind them.
Counting the credit note alone made the revenue negative."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from accounts_crm.access import Role
from billing.models import Invoice
from dashboards import finance, nam, team
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    CreditNoteFactory,
    InvoiceFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2026, 10, 1)


def issue(invoice: Invoice, *, net: str, on: datetime.date, number: int, status: str) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(
        status=status, number=number, year=on.year, issue_date=on,
        due_date=on + datetime.timedelta(days=30), net_total=D(net), gross_total=D(net),
    )  # fmt: skip


@pytest.fixture
def book(make_user: Callable[..., User]) -> dict[str, object]:
    nam_user = make_user(Role.ACCOUNT_STAFF, username="nam")
    client = ClientFactory(name="Acme")
    AccountTeamMemberFactory(client=client, user=nam_user)
    kept = InvoiceFactory(client=client)
    issue(kept, net="400.00", on=datetime.date(2026, 9, 10), number=1, status="issued")
    cancelled = InvoiceFactory(client=client)
    issue(cancelled, net="250.00", on=datetime.date(2026, 9, 12), number=2, status="cancelled")
    note = CreditNoteFactory(client=client, credits=cancelled)
    issue(note, net="250.00", on=datetime.date(2026, 9, 20), number=1, status="issued")
    return {"client": client, "nam": nam_user}


def test_the_team_leads_revenue_counts_the_cancelled_invoice_with_its_credit_note(
    book: dict[str, object], admin_user: User
) -> None:
    months = team.months_up_to(TODAY, 3)
    accounts = team.visible_accounts(user=admin_user, filters={})
    rows = team.revenue_by_month(user=admin_user, accounts=accounts, months=months, today=TODAY)
    assert [(r["month"], r["net"]) for r in rows] == [(datetime.date(2026, 9, 1), D("400.00"))]


def test_the_nams_invoiced_this_year_nets_the_cancelled_invoice_to_zero(
    book: dict[str, object],
) -> None:
    client = book["client"]
    figures = nam.revenue_this_year([client.pk], user=book["nam"], today=TODAY)
    assert figures[client.pk]["invoiced"] == D("400.00")


def test_finances_credit_sales_net_the_cancelled_invoice_to_zero(
    book: dict[str, object], admin_user: User
) -> None:
    assert finance.credit_sales(user=admin_user, today=TODAY) == D("400.00")


def test_the_revenue_list_behind_the_figures_nets_to_the_same(
    book: dict[str, object], admin_user: User, client: HttpClient
) -> None:
    client.force_login(admin_user)
    response = client.get(reverse("billing:invoice_list"), {"in_revenue": "true"})
    assert response.status_code == 200
    listed = list(response.context["page"].object_list)
    assert listed == [Invoice.objects.get(number=1, kind=Invoice.Kind.INVOICE)]
    signed = sum(
        (-i.net_total if i.kind == Invoice.Kind.CREDIT_NOTE else i.net_total) for i in listed
    )
    assert signed == D("400.00")
