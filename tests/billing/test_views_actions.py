"""Invoice actions through HTTP: create from an order or a project's milestones, edit a draft's
header and lines (errors kept, stale versions refused), check now with its progress, issue
(refused while error findings are open), override (a reason is required), comments, payments,
credit notes, and the client page's billing sections."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from billing import services
from billing.models import CheckFinding, FindingComment, Invoice, InvoiceLine, Payment
from tests.factories import (
    CheckFindingFactory,
    FindingCommentFactory,
    MilestoneFactory,
    ProductFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client, login, finance):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(finance)
    return client


@pytest.fixture
def draft(book, finance) -> Invoice:
    return services.invoice_from_order(by=finance, order=book.order)


def issued(book, finance) -> Invoice:
    draft = services.invoice_from_order(by=finance, order=book.order)
    return services.invoice_issue(by=finance, invoice=draft)


def page(response) -> str:
    return response.content.decode()


# Creating ------------------------------------------------------------------------------------


def test_it_shows_what_an_order_invoice_will_bill_then_creates_the_draft(
    finance_client, book, sent_checks, django_capture_on_commit_callbacks
):
    preview = finance_client.get("/billing/invoices/new/", {"order": book.order.pk})
    assert page(preview).count('data-testid="order-line"') == 2
    assert not Invoice.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post("/billing/invoices/new/", {"order": book.order.pk})

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/billing/invoices/{invoice.pk}/#top"
    assert (invoice.status, invoice.order_id, invoice.lines.count()) == ("draft", book.order.pk, 2)
    assert sent_checks == [[invoice.pk]]


def test_it_says_when_everything_on_the_order_is_invoiced(finance_client, book, draft):
    response = finance_client.post("/billing/invoices/new/", {"order": book.order.pk}, follow=True)

    assert f"Everything on order {book.order.number} is already invoiced." in page(response)
    assert Invoice.objects.count() == 1


def test_it_invoices_a_projects_completed_billable_milestones(finance_client, book):
    project = ProjectFactory(client=book.client, order=book.order)
    done = MilestoneFactory(project=project, completed_on=datetime.date(2026, 5, 1))
    MilestoneFactory(project=project)  # not completed: not billed

    preview = finance_client.get("/billing/invoices/new/", {"project": project.pk})
    response = finance_client.post("/billing/invoices/new/", {"project": project.pk})

    assert page(preview).count('data-testid="milestone"') == 1
    line = InvoiceLine.objects.get()
    assert response.status_code == 302
    assert (line.milestone_id, line.unit_price) == (done.pk, Decimal("5000.00"))


def test_it_needs_an_order_or_a_project(finance_client, db):
    assert finance_client.get("/billing/invoices/new/").status_code == 404


# Editing a draft -----------------------------------------------------------------------------


def test_it_edits_the_header_of_a_draft(finance_client, book, draft):
    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/edit/",
        {"client": book.client.pk, "contract": book.contract.pk, "currency": "EUR",
         "notes": "Per accordi", "version": draft.version},
    )  # fmt: skip

    assert response.status_code == 302
    assert Invoice.objects.get(pk=draft.pk).notes == "Per accordi"


def test_it_keeps_what_was_typed_and_shows_the_error(finance_client, book, draft):
    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/edit/",
        {"client": book.client.pk, "currency": "EUR", "notes": "Kept text",
         "issue_date": "2026-05-10", "due_date": "2026-05-01", "version": draft.version},
    )  # fmt: skip

    html = page(response)
    assert response.status_code == 200
    assert "The due date cannot be before the issue date." in html
    assert "Kept text" in html
    assert Invoice.objects.get(pk=draft.pk).notes == ""


def test_it_refuses_a_stale_header_edit(finance_client, book, draft, finance):
    stale = draft.version
    services.invoice_update(by=finance, invoice=Invoice.objects.get(pk=draft.pk), version=stale)

    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/edit/",
        {"client": book.client.pk, "currency": "EUR", "notes": "Mine", "version": stale},
    )

    assert "Someone else changed this invoice after you opened it." in page(response)
    assert Invoice.objects.get(pk=draft.pk).notes == ""


def test_it_adds_a_line_with_htmx_and_updates_the_totals(finance_client, draft):
    product = ProductFactory(sku="SKU-NEW", vat_rate=Decimal("22.00"))

    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/lines/add/",
        {"sku": "sku-new", "quantity": "2", "unit_price": "10.00", "version": draft.version},
        headers={"HX-Request": "true"},
    )

    html = page(response)
    line = InvoiceLine.objects.get(invoice=draft, product=product)
    assert html.lstrip().startswith('<div id="messages"')
    assert (line.description, line.vat_rate, line.net_amount) == (
        product.name,
        Decimal("22.00"),
        Decimal("20.00"),
    )
    gross = Invoice.objects.get(pk=draft.pk).gross_total
    assert f'data-testid="total-gross">{gross:,.2f} EUR' in html
    assert f'name="version" value="{draft.version + 1}"' in html


def test_it_refuses_a_bad_line_and_keeps_the_input(finance_client, draft):
    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/lines/add/",
        {"sku": "NOPE", "description": "Typed", "quantity": "-1", "unit_price": "10",
         "version": draft.version},
        headers={"HX-Request": "true"},
    )  # fmt: skip

    html = page(response)
    assert response.status_code == 200  # htmx swaps only 2xx: the form comes back with errors
    assert "No active product has SKU NOPE." in html
    assert 'value="Typed"' in html
    assert InvoiceLine.objects.filter(invoice=draft).count() == 2


def test_it_refuses_a_line_added_from_a_stale_page(finance_client, draft):
    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/lines/add/",
        {"description": "Late", "quantity": "1", "unit_price": "1", "vat_rate": "22",
         "version": draft.version - 1},
    )  # fmt: skip

    assert "Someone else changed this invoice" in page(response)
    assert not InvoiceLine.objects.filter(description="Late").exists()


def test_it_removes_a_line_with_htmx(finance_client, draft):
    line = draft.lines.first()

    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/lines/{line.pk}/delete/",
        {"version": draft.version},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert 'id="invoice-lines"' in page(response)
    assert not InvoiceLine.objects.filter(pk=line.pk).exists()


def test_it_deletes_a_draft(finance_client, draft):
    response = finance_client.post(f"/billing/invoices/{draft.pk}/delete/")

    assert response["Location"] == "/billing/"
    assert not Invoice.objects.filter(pk=draft.pk).exists()


# Checks ------------------------------------------------------------------------------------


def test_check_now_enqueues_the_check_and_shows_its_progress(
    finance_client, draft, sent_checks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(
            f"/billing/invoices/{draft.pk}/check/", headers={"HX-Request": "true"}
        )

    html = page(response)
    assert sent_checks == [[draft.pk]]
    assert "Checking the invoice" in html
    assert 'hx-trigger="every 2s"' in html


def test_the_progress_reloads_the_page_once_the_check_has_answered(finance_client, draft):
    since = (timezone.now() - datetime.timedelta(seconds=5)).isoformat()
    services.invoice_refresh_check_status([draft.pk])  # what the worker does at the end

    response = finance_client.get(
        f"/billing/invoices/{draft.pk}/check/", {"since": since}, headers={"HX-Request": "true"}
    )

    assert "Check finished." in page(response)
    assert response["HX-Refresh"] == "true"


def test_the_progress_says_when_the_worker_has_not_answered(finance_client, draft):
    since = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()

    response = finance_client.get(
        f"/billing/invoices/{draft.pk}/check/", {"since": since}, headers={"HX-Request": "true"}
    )

    assert "No change from the check yet" in page(response)
    assert "hx-trigger" not in page(response)


# Issuing -----------------------------------------------------------------------------------


def test_it_refuses_to_issue_with_open_error_findings(finance_client, draft):
    CheckFindingFactory(invoice=draft, severity="error")

    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/issue/", {"version": draft.version}, follow=True
    )

    assert "This invoice has open error findings" in page(response)
    assert Invoice.objects.get(pk=draft.pk).status == "draft"


def test_it_issues_and_shows_the_assigned_number(finance_client, draft):
    CheckFindingFactory(invoice=draft, severity="warning")  # a warning does not block

    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/issue/",
        {"version": draft.version, "issue_date": "2026-06-15"},
        follow=True,
    )

    invoice = Invoice.objects.get(pk=draft.pk)
    assert (invoice.status, invoice.issue_date) == ("issued", datetime.date(2026, 6, 15))
    assert f"Invoice issued with number {invoice.display_number}" in page(response)
    assert f'data-testid="invoice-number">Invoice {invoice.display_number}' in page(response)


def test_it_refuses_to_issue_from_a_stale_page(finance_client, draft):
    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/issue/", {"version": draft.version - 1}, follow=True
    )

    assert "Someone else changed this invoice" in page(response)
    assert Invoice.objects.get(pk=draft.pk).number is None


# Findings ----------------------------------------------------------------------------------


def test_an_override_needs_a_reason(finance_client, draft):
    finding = CheckFindingFactory(invoice=draft)

    response = finance_client.post(f"/billing/findings/{finding.pk}/override/", {"reason": "  "})

    assert response.status_code == 400
    assert 'data-testid="override-error"' in page(response)
    assert CheckFinding.objects.get(pk=finding.pk).status == "open"


def test_an_override_keeps_who_when_and_why(finance_client, draft, finance):
    finding = CheckFindingFactory(invoice=draft)

    response = finance_client.post(
        f"/billing/findings/{finding.pk}/override/", {"reason": "Price agreed in writing"}
    )
    html = page(finance_client.get(response["Location"]))

    finding.refresh_from_db()
    assert response["Location"] == f"/billing/invoices/{draft.pk}/#finding-{finding.pk}"
    assert (finding.status, finding.overridden_by, finding.override_reason) == (
        "overridden",
        finance,
        "Price agreed in writing",
    )
    assert "<q>Price agreed in writing</q>" in html
    assert Invoice.objects.get(pk=draft.pk).check_status == "approved"


def test_it_refuses_to_override_a_finding_twice(finance_client, draft, finance):
    finding = CheckFindingFactory(invoice=draft)
    services.finding_override(by=finance, finding=finding, reason="first")

    response = finance_client.post(
        f"/billing/findings/{finding.pk}/override/", {"reason": "second"}
    )

    assert "Only an open finding can be overridden" in page(response)
    assert CheckFinding.objects.get(pk=finding.pk).override_reason == "first"


def test_the_nam_comments_on_a_finding(client, login, book, draft):
    finding = CheckFindingFactory(invoice=draft)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(book.nam)

    response = client.post(f"/billing/findings/{finding.pk}/comment/", {"text": "Will check"})

    assert response.status_code == 302
    assert FindingComment.objects.get().author == book.nam


def test_an_empty_comment_is_refused(finance_client, draft):
    finding = CheckFindingFactory(invoice=draft)

    response = finance_client.post(f"/billing/findings/{finding.pk}/comment/", {"text": ""})

    assert response.status_code == 400
    assert "This field is required." in page(response)
    assert not FindingComment.objects.exists()


def test_a_comment_from_the_client_page_goes_back_there(client, login, book, draft):
    finding = CheckFindingFactory(invoice=draft)
    login(book.nam)
    back = f"/clients/{book.client.pk}/#findings"

    response = client.post(f"/billing/findings/{finding.pk}/comment/", {"text": "ok", "next": back})
    outside = client.post(
        f"/billing/findings/{finding.pk}/comment/", {"text": "ok", "next": "https://evil.test/"}
    )

    assert response["Location"] == back
    assert outside["Location"] == f"/billing/invoices/{draft.pk}/#finding-{finding.pk}"


# Payments and credit notes -------------------------------------------------------------------


def test_it_records_a_payment(finance_client, book, finance):
    invoice = issued(book, finance)

    response = finance_client.post(
        f"/billing/invoices/{invoice.pk}/payments/add/",
        {"amount": "100.00", "paid_on": "2026-07-01", "method": "bank_transfer",
         "reference": "CRO-1"},
    )  # fmt: skip

    invoice.refresh_from_db()
    assert response.status_code == 302
    assert (invoice.status, invoice.amount_paid) == ("partially_paid", Decimal("100.00"))


def test_it_refuses_a_payment_over_what_is_owed_and_keeps_the_input(finance_client, book, finance):
    invoice = issued(book, finance)

    response = finance_client.post(
        f"/billing/invoices/{invoice.pk}/payments/add/",
        {"amount": "99999.00", "paid_on": "2026-07-01", "method": "bank_transfer",
         "reference": "CRO-TOO-MUCH"},
    )  # fmt: skip

    html = page(response)
    assert response.status_code == 400
    assert "still owed" in html
    assert 'value="CRO-TOO-MUCH"' in html
    assert not Payment.objects.exists()


def test_it_removes_a_payment(finance_client, book, finance):
    invoice = issued(book, finance)
    payment = services.payment_record(
        by=finance, invoice=invoice, amount=Decimal("10"), paid_on=datetime.date(2026, 7, 1)
    )

    finance_client.post(f"/billing/invoices/{invoice.pk}/payments/{payment.pk}/delete/")

    assert not Payment.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"


def test_it_creates_a_credit_note_of_part_of_a_line(finance_client, book, finance):
    invoice = issued(book, finance)
    first, _second = invoice.lines.all()

    response = finance_client.post(
        f"/billing/invoices/{invoice.pk}/credit-note/",
        {f"credit_{first.pk}": "on", f"quantity_{first.pk}": "2",
         f"unit_price_{first.pk}": "", "notes": "Two returned"},
    )  # fmt: skip

    note = Invoice.objects.get(kind="credit_note")
    assert response["Location"] == f"/billing/invoices/{note.pk}/#top"
    line = note.lines.get()
    assert (line.quantity, line.unit_price, note.notes) == (
        Decimal("2"),
        first.unit_price,
        "Two returned",
    )


def test_a_credit_note_needs_a_line(finance_client, book, finance):
    invoice = issued(book, finance)

    response = finance_client.post(f"/billing/invoices/{invoice.pk}/credit-note/", {})

    assert "Choose at least one line to credit." in page(response)
    assert not Invoice.objects.filter(kind="credit_note").exists()


# The client page ---------------------------------------------------------------------------


def test_the_client_page_shows_invoices_balance_and_findings_to_the_nam(
    client, login, book, finance
):
    invoice = issued(book, finance)
    finding = CheckFindingFactory(invoice=invoice, rule="retired", message="Price looks high")
    FindingCommentFactory(finding=finding, text="Asked the client")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(book.nam)

    html = page(client.get(f"/clients/{book.client.pk}/"))

    assert invoice.display_number in html.split('data-testid="client-invoices"')[1]
    assert f'data-testid="open-balance">{invoice.gross_total:,.2f} EUR' in html
    findings = html.split('data-testid="client-findings"')[1]
    assert "Price looks high" in findings
    assert "Asked the client" in findings
    assert 'data-testid="comment-form"' in findings
    assert 'data-testid="override-form"' not in findings  # the NAM does not override


def test_it_edits_a_line_of_a_draft(finance_client, draft):
    line = draft.lines.select_related("product").first()
    sku = line.product.sku

    form = finance_client.get(f"/billing/invoices/{draft.pk}/lines/{line.pk}/edit/")
    response = finance_client.post(
        f"/billing/invoices/{draft.pk}/lines/{line.pk}/edit/",
        {"sku": sku, "description": "Renamed", "quantity": "1", "unit_price": "12.00",
         "discount": "0", "vat_rate": "22", "version": draft.version},
    )  # fmt: skip

    line.refresh_from_db()
    assert f'value="{sku}"' in page(form)
    assert line.product.sku == sku
    assert response.status_code == 302
    assert (line.description, line.net_amount) == ("Renamed", Decimal("12.00"))


def test_a_line_of_an_issued_invoice_cannot_be_edited(finance_client, book, finance):
    invoice = issued(book, finance)
    line = invoice.lines.first()

    response = finance_client.post(
        f"/billing/invoices/{invoice.pk}/lines/{line.pk}/edit/",
        {"description": "Changed", "quantity": "1", "unit_price": "1", "vat_rate": "22",
         "version": invoice.version},
    )  # fmt: skip

    assert "an issued invoice cannot be changed" in page(response)
    line.refresh_from_db()
    assert line.description != "Changed"
