"""The billing admin opens for support staff; what moves money or status is read-only there."""

from __future__ import annotations

import datetime

import pytest

from billing.models import Invoice
from tests.factories import (
    FindingCommentFactory,
    InvoiceCounterFactory,
    InvoiceLineFactory,
    PaymentFactory,
)

pytestmark = pytest.mark.django_db


def test_it_lists_and_opens_every_billing_model(admin_user, login) -> None:
    line = InvoiceLineFactory()
    payment = PaymentFactory(invoice=line.invoice)
    comment = FindingCommentFactory(finding__invoice=line.invoice)
    counter = InvoiceCounterFactory()
    client = login(admin_user)
    for url in (
        "/admin/billing/invoice/",
        f"/admin/billing/invoice/{line.invoice.pk}/change/",
        "/admin/billing/payment/",
        f"/admin/billing/payment/{payment.pk}/change/",
        "/admin/billing/checkfinding/",
        f"/admin/billing/checkfinding/{comment.finding.pk}/change/",
        "/admin/billing/findingcomment/",
        f"/admin/billing/findingcomment/{comment.pk}/change/",
        "/admin/billing/invoicecounter/",
        f"/admin/billing/invoicecounter/{counter.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url


def test_a_draft_has_editable_lines_and_an_issued_invoice_nothing(admin_user, login) -> None:
    line = InvoiceLineFactory()
    client = login(admin_user)
    page = client.get(f"/admin/billing/invoice/{line.invoice.pk}/change/")
    assert b'name="lines-0-quantity"' in page.content
    assert b'name="status"' not in page.content
    Invoice.objects.filter(pk=line.invoice.pk).update(
        status="issued", number=1, year=2026, issue_date=datetime.date(2026, 1, 5)
    )
    page = client.get(f"/admin/billing/invoice/{line.invoice.pk}/change/")
    assert b'name="lines-0-quantity"' not in page.content
    assert b'name="due_date"' not in page.content
    assert b'name="notes"' in page.content
    delete = client.get(f"/admin/billing/invoice/{line.invoice.pk}/delete/")
    assert delete.status_code == 403
