"""Invoice pages: the list (search, filters, sort, pages, CSV, htmx), the detail (lines, totals,
payments, findings with what they were compared with, history) and the print view; query counts
pinned on the list and the detail."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from billing.models import Invoice
from orders.models import ContractPrice
from tests.factories import (
    CheckFindingFactory,
    ClientFactory,
    ContractPriceFactory,
    FindingCommentFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    ProductFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client, login, finance):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(finance)
    return client


def issued(book, finance, **kwargs) -> Invoice:
    draft = services.invoice_from_order(by=finance, order=book.order)
    return services.invoice_issue(by=finance, invoice=draft, **kwargs)


def numbers(response) -> list[str]:
    return re.findall(
        r'data-testid="invoice-row">\s*<td><a[^>]*>([^<]+)</a>', response.content.decode()
    )


# List ----------------------------------------------------------------------------------------


def test_it_lists_invoices_with_amounts_in_the_locale_format(finance_client, book, finance):
    invoice = issued(book, finance, issue_date=datetime.date(2026, 3, 2))

    html = finance_client.get("/billing/").content.decode()

    assert numbers(finance_client.get("/billing/")) == [invoice.display_number]
    assert f"{invoice.gross_total:,.2f} EUR" in html


def test_it_formats_money_in_italian(client, login, finance, book):
    issued(book, finance)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    login(finance)

    html = client.get("/billing/").content.decode()

    gross = Invoice.objects.get().gross_total
    italian = f"{gross:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert f"{italian} EUR" in html


def test_it_searches_by_number_and_client(finance_client, book, finance):
    invoice = issued(book, finance)
    other = InvoiceFactory(client=ClientFactory(name="Zeta Srl"))

    by_number = finance_client.get("/billing/", {"q": invoice.display_number})
    by_client = finance_client.get("/billing/", {"q": "Zeta"})

    assert numbers(by_number) == [invoice.display_number]
    assert numbers(by_client) == [other.display_number]


def test_it_filters_by_status_check_status_overdue_and_open_findings(finance_client, book, finance):
    late = issued(book, finance, issue_date=timezone.localdate() - datetime.timedelta(days=90))
    draft = InvoiceFactory(client=book.client)
    CheckFindingFactory(invoice=draft, rule="vat_arithmetic")

    assert numbers(finance_client.get("/billing/", {"status": "draft"})) == [draft.display_number]
    assert numbers(finance_client.get("/billing/", {"overdue": "true"})) == [late.display_number]
    assert numbers(finance_client.get("/billing/", {"has_open_findings": "true"})) == [
        draft.display_number
    ]
    assert numbers(finance_client.get("/billing/", {"rule": "vat_arithmetic"})) == [
        draft.display_number
    ]
    assert numbers(finance_client.get("/billing/", {"check_status": "flagged"})) == []


def test_it_filters_by_client_and_nam_from_dropdowns(finance_client, book, finance):
    invoice = issued(book, finance)
    InvoiceFactory(client=ClientFactory(name="Other"))

    page = finance_client.get("/billing/").content.decode()
    by_nam = finance_client.get("/billing/", {"nam": book.nam.pk})
    by_client = finance_client.get("/billing/", {"client": book.client.pk})

    assert f'<option value="{book.client.pk}">{book.client.name}</option>' in page
    assert numbers(by_nam) == [invoice.display_number]
    assert numbers(by_client) == [invoice.display_number]


def test_it_says_what_is_wrong_with_a_bad_filter(finance_client, book):
    InvoiceFactory(client=book.client)

    response = finance_client.get("/billing/", {"issued_after": "not-a-date"})

    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()
    assert 'value="not-a-date"' in response.content.decode()  # what was typed is kept


def test_it_sorts_by_total_both_ways(finance_client, book):
    small = InvoiceFactory(client=book.client)
    big = InvoiceFactory(client=book.client)
    InvoiceLineFactory(invoice=big)
    Invoice.objects.filter(pk=big.pk).update(
        net_total=Decimal("100"), vat_total=Decimal("22"), gross_total=Decimal("122")
    )

    up = numbers(finance_client.get("/billing/", {"ordering": "gross_total"}))
    down = numbers(finance_client.get("/billing/", {"ordering": "-gross_total"}))

    assert up == [small.display_number, big.display_number]
    assert down == [big.display_number, small.display_number]


def test_it_paginates(finance_client, book):
    for _ in range(27):
        InvoiceFactory(client=book.client)

    first = finance_client.get("/billing/")
    second = finance_client.get("/billing/", {"page": 2})

    assert (len(numbers(first)), len(numbers(second))) == (25, 2)


def test_it_answers_htmx_with_the_results_partial(finance_client, book):
    InvoiceFactory(client=book.client)

    response = finance_client.get("/billing/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html


def test_it_exports_the_filtered_list_as_csv(finance_client, book, finance):
    invoice = issued(book, finance)
    InvoiceFactory(client=ClientFactory(name="Not me"))

    response = finance_client.get("/billing/", {"client": book.client.pk, "format": "csv"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][:3] == ["Number", "Kind", "Client"]
    assert [row[0] for row in rows[1:]] == [invoice.display_number]
    assert rows[1][10] == str(invoice.gross_total)


def test_it_runs_as_many_queries_for_30_invoices_as_for_2(finance_client, book):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert finance_client.get("/billing/").status_code == 200
        return len(captured)

    for _ in range(2):
        CheckFindingFactory(invoice=InvoiceFactory(client=ClientFactory(), order=book.order))
    few = queries()
    for _ in range(28):
        CheckFindingFactory(invoice=InvoiceFactory(client=ClientFactory(), order=book.order))
    assert queries() == few


# Detail --------------------------------------------------------------------------------------


def test_it_shows_lines_totals_and_what_they_bill(finance_client, book, finance):
    draft = services.invoice_from_order(by=finance, order=book.order)

    html = finance_client.get(f"/billing/invoices/{draft.pk}/").content.decode()

    assert html.count('data-testid="invoice-line"') == 2
    assert f'data-testid="total-gross">{draft.gross_total:,.2f} EUR' in html
    assert f"/orders/{book.order.pk}/#lines" in html
    assert 'data-testid="line-form"' in html  # a draft takes new lines


def test_it_shows_a_finding_with_expected_actual_and_what_it_was_compared_with(
    finance_client, book, finance
):
    draft = services.invoice_from_order(by=finance, order=book.order)
    price = ContractPriceFactory(contract=book.contract, product=ProductFactory())
    finding = CheckFindingFactory(
        invoice=draft, rule="retired_rule", expected="80.00 EUR", actual="100.00 EUR",
        message="The unit price is above the contract price.",
        compared_to_type=ContentType.objects.get_for_model(ContractPrice),
        compared_to_id=price.pk,
    )  # fmt: skip
    FindingCommentFactory(finding=finding, author=book.nam, text="Client agreed by phone")

    html = finance_client.get(f"/billing/invoices/{draft.pk}/").content.decode()

    assert f'id="finding-{finding.pk}"' in html
    assert "The unit price is above the contract price." in html
    assert 'data-testid="finding-expected">80.00 EUR' in html
    assert 'data-testid="finding-actual">100.00 EUR' in html
    assert f'href="/orders/contracts/{book.contract.pk}/#prices"' in html
    assert "Client agreed by phone" in html
    assert 'data-testid="override-form"' in html
    assert 'data-testid="issue-blocked"' in html  # an open error blocks issuing


def test_it_shows_payments_and_the_outstanding_amount(finance_client, book, finance):
    invoice = issued(book, finance)
    services.payment_record(
        by=finance, invoice=invoice, amount=Decimal("100.00"), paid_on=timezone.localdate(),
        reference="BONIFICO-1",
    )  # fmt: skip

    html = finance_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()

    assert "BONIFICO-1" in html
    outstanding = invoice.gross_total - Decimal("100.00")
    assert f'data-testid="outstanding">{outstanding:,.2f} EUR' in html
    assert 'data-testid="line-form"' not in html  # an issued invoice takes no lines


def test_it_shows_the_change_history(finance_client, book, finance):
    invoice = issued(book, finance)

    html = finance_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()

    history = html.split('data-testid="history"')[1]
    assert "Number" in history
    assert str(invoice.number) in history


def test_it_answers_404_for_an_unknown_invoice(finance_client, db):
    assert finance_client.get("/billing/invoices/999999/").status_code == 404


def test_it_runs_as_many_queries_for_30_lines_as_for_1(finance_client, book, finance):
    draft = InvoiceFactory(client=book.client, order=book.order, contract=book.contract)
    price = ContractPriceFactory(contract=book.contract, product=ProductFactory())
    kind = ContentType.objects.get_for_model(ContractPrice)

    def add() -> None:
        line = InvoiceLineFactory(invoice=draft, order_line=book.line_a, product=ProductFactory())
        finding = CheckFindingFactory(
            invoice=draft, line=line, compared_to_type=kind, compared_to_id=price.pk
        )
        FindingCommentFactory(finding=finding)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert finance_client.get(f"/billing/invoices/{draft.pk}/").status_code == 200
        return len(captured)

    add()
    few = queries()
    for _ in range(29):
        add()
    assert queries() == few


# Print -------------------------------------------------------------------------------------


def test_it_prints_the_invoice_on_a4_without_the_navigation(finance_client, book, finance):
    invoice = issued(book, finance)

    response = finance_client.get(f"/billing/invoices/{invoice.pk}/print/")

    html = response.content.decode()
    assert response.status_code == 200
    assert invoice.display_number in html
    assert "billing_print.css" in html
    assert "navbar" not in html
    assert book.client.name in html
    assert html.count('data-testid="print-line"') == 2


def test_it_renders_a_finding_message_in_the_viewers_language(client, login, book, finance):
    draft = services.invoice_from_order(by=finance, order=book.order)
    CheckFindingFactory(
        invoice=draft, rule="price_vs_contract", message="stored text",
        params={"expected": "1234.50", "actual": "1300.00", "currency": "EUR", "subject": "WID"},
    )  # fmt: skip
    login(finance)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(f"/billing/invoices/{draft.pk}/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    italian = client.get(f"/billing/invoices/{draft.pk}/").content.decode()

    assert "stored text" not in english
    assert "1234.50 EUR" in english
    assert 'data-testid="finding-expected">1234.50 EUR' in english
    assert 'data-testid="finding-expected">1234,50 EUR' in italian


def test_a_finding_without_params_shows_its_stored_message(finance_client, book, finance):
    draft = services.invoice_from_order(by=finance, order=book.order)
    CheckFindingFactory(invoice=draft, rule="price_vs_contract", params={}, message="As stored")

    html = finance_client.get(f"/billing/invoices/{draft.pk}/").content.decode()

    assert 'data-testid="finding-message">As stored<' in html


# Buttons billing adds to the order and project pages -------------------------------------------


def test_finance_invoices_a_confirmed_order_from_its_page_and_the_nam_is_not_offered_it(
    finance_client, book, login, client
) -> None:
    order_url = f"/orders/{book.order.pk}/"
    link = f'href="/billing/invoices/new/?order={book.order.pk}"'

    assert link in finance_client.get(order_url).content.decode()
    book.order.status = "draft"
    book.order.save(update_fields=["status"])
    assert link not in finance_client.get(order_url).content.decode()

    book.order.status = "confirmed"
    book.order.save(update_fields=["status"])
    finance_client.logout()
    login(book.nam)
    assert link not in client.get(order_url).content.decode()


def test_finance_invoices_a_projects_milestones_from_its_page(finance_client, book) -> None:
    project = ProjectFactory(client=book.client)

    page = finance_client.get(f"/projects/{project.pk}/").content.decode()

    assert f'href="/billing/invoices/new/?project={project.pk}"' in page
