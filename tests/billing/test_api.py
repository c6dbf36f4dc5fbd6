"""The billing API: invoices (drafts, from orders and milestones, issue, credit notes, checks),
invoice lines, payments, findings (filters, override, comment) and receivables aging."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import CheckFinding, FindingComment, Invoice, InvoiceLine, Payment
from tests.billing.api_book import BillingBook, make_billing_book
from tests.clients.api_book import api_as
from tests.factories import CheckFindingFactory, InvoiceLineFactory, OrderLineFactory
from tests.orders.test_api import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> BillingBook:
    return make_billing_book()


def version_of(invoice: Invoice) -> int:
    return Invoice.objects.get(pk=invoice.pk).version


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


# Invoices ----------------------------------------------------------------------------------------


def test_it_lets_finance_draft_an_invoice_and_edit_it_with_the_version_it_read(
    book: BillingBook,
) -> None:
    api = api_as(book.book.finance)
    created = api.post(
        "/api/v1/invoices/",
        {"client": book.book.a.client.pk, "contract": book.orders.a.contract.pk,
         "currency": "USD", "notes": "Spring"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft"
    assert body["number"] is None
    assert body["series"] == "FV"
    assert body["currency"] == "EUR"  # the contract's
    assert body["lines"] == []
    url = f"/api/v1/invoices/{body['id']}/"

    edited = api.patch(url, {"notes": "PO 4711", "version": body["version"]}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["notes"] == "PO 4711"
    assert edited.json()["version"] == body["version"] + 1

    stale = api.patch(url, {"notes": "Lost", "version": body["version"]}, format="json")
    assert_error(stale, 409, "concurrent_edit")
    missing = api.patch(url, {"notes": "Lost"}, format="json")
    assert_error(missing, 400, "invalid", {"version"})
    assert Invoice.objects.get(pk=body["id"]).notes == "PO 4711"

    assert api.delete(url).status_code == 204
    assert not Invoice.objects.filter(pk=body["id"]).exists()


def test_it_refuses_to_edit_or_delete_an_issued_invoice(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    url = f"/api/v1/invoices/{book.a.issued.pk}/"
    before = Invoice.objects.filter(pk=book.a.issued.pk).values().get()
    edited = api.patch(url, {"notes": "x", "version": version_of(book.a.issued)}, format="json")
    assert_error(edited, 400, "invoice_immutable")
    assert_error(api.delete(url), 400, "invoice_immutable")
    assert Invoice.objects.filter(pk=book.a.issued.pk).values().get() == before


def test_it_refuses_an_invoice_for_a_client_finance_names_wrongly(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    count = Invoice.objects.count()
    assert_error(
        api.post("/api/v1/invoices/", {"client": 999999}, format="json"), 400, "invalid",
        {"client"},
    )  # fmt: skip
    assert_error(api.post("/api/v1/invoices/", {}, format="json"), 400, "invalid", {"client"})
    assert Invoice.objects.count() == count


def test_it_invoices_what_an_order_has_not_invoiced_yet(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    order = book.orders.a.order  # a draft order: one line, nothing invoiced
    created = api.post("/api/v1/invoices/from-order/", {"order": order.pk}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["order"] == order.pk
    assert [line["order_line"] for line in body["lines"]] == [book.orders.a.line.pk]
    assert Decimal(body["gross_total"]) > 0

    again = api.post("/api/v1/invoices/from-order/", {"order": order.pk}, format="json")
    body = assert_error(again, 400, "nothing_to_invoice")
    assert order.number in body["message"]


def test_it_refuses_to_invoice_another_teams_order_as_if_it_did_not_exist(
    book: BillingBook,
) -> None:
    api = api_as(book.book.a.nam)
    count = Invoice.objects.count()
    # The NAM may not invoice at all: refused before the body is read.
    refused = api.post(
        "/api/v1/invoices/from-order/", {"order": book.orders.a.order.pk}, format="json"
    )
    assert_error(refused, 403, "not_allowed")
    assert_error(
        api_as(book.book.finance).post(
            "/api/v1/invoices/from-order/", {"order": "x"}, format="json"
        ),
        400, "invalid", {"order"},
    )  # fmt: skip
    assert Invoice.objects.count() == count


def test_it_invoices_completed_milestones(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    created = api.post(
        "/api/v1/invoices/from-milestones/", {"milestones": [book.a.milestone.pk]}, format="json"
    )
    assert created.status_code == 201, created.json()
    (line,) = created.json()["lines"]
    assert line["milestone"] == book.a.milestone.pk
    assert Decimal(line["unit_price"]) == Decimal("5000.00")

    again = api.post(
        "/api/v1/invoices/from-milestones/", {"project": book.a.project.pk}, format="json"
    )
    assert_error(again, 400, "nothing_to_invoice")
    both = api.post(
        "/api/v1/invoices/from-milestones/",
        {"project": book.a.project.pk, "milestones": [book.a.milestone.pk]},
        format="json",
    )
    assert_error(both, 400, "invalid")
    foreign = api_as(book.book.finance).post(
        "/api/v1/invoices/from-milestones/", {"milestones": [999999]}, format="json"
    )
    assert_error(foreign, 400, "invalid", {"milestones"})


def test_it_issues_a_draft_with_the_next_number_and_the_contracts_terms(
    book: BillingBook,
) -> None:
    api = api_as(book.book.finance)
    url = f"/api/v1/invoices/{book.a.draft.pk}/issue/"
    version = version_of(book.a.draft)

    stale = api.post(url, {"version": version - 1}, format="json")
    assert_error(stale, 409, "concurrent_edit")
    assert Invoice.objects.get(pk=book.a.draft.pk).status == "draft"

    issued = api.post(url, {"version": version, "issue_date": "2026-04-01"}, format="json")
    assert issued.status_code == 200, issued.json()
    body = issued.json()
    previous = Invoice.objects.filter(series="FV", year=2026).exclude(pk=book.a.draft.pk)
    assert body["status"] == "issued"
    assert body["number"] == max(previous.values_list("number", flat=True)) + 1
    assert body["display_number"] == f"FV-2026/{body['number']:05d}"
    terms = book.orders.a.contract.payment_terms_days
    assert body["due_date"] == str(datetime.date(2026, 4, 1) + datetime.timedelta(days=terms))

    again = api.post(url, {"version": body["version"]}, format="json")
    assert_error(again, 400, "invoice_immutable")


def test_it_refuses_to_issue_over_an_open_error_until_finance_overrides_it(
    book: BillingBook,
) -> None:
    api = api_as(book.book.finance)
    finding = CheckFindingFactory(invoice=book.a.draft, severity="error")
    url = f"/api/v1/invoices/{book.a.draft.pk}/issue/"

    refused = api.post(url, {"version": version_of(book.a.draft)}, format="json")
    assert_error(refused, 400, "invoice_not_issuable")
    assert Invoice.objects.get(pk=book.a.draft.pk).number is None

    overridden = api.post(
        f"/api/v1/findings/{finding.pk}/override/", {"reason": "Agreed price."}, format="json"
    )
    assert overridden.status_code == 200, overridden.json()
    assert overridden.json()["status"] == "overridden"
    assert overridden.json()["overridden_by"] == book.book.finance.pk
    assert Invoice.objects.get(pk=book.a.draft.pk).check_status == "approved"
    issued = api.post(url, {"version": version_of(book.a.draft)}, format="json")
    assert issued.json()["status"] == "issued"


def test_it_cancels_an_invoice_with_a_credit_note_of_all_of_it(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    invoice = book.a.issued
    created = api.post(f"/api/v1/invoices/{invoice.pk}/credit-note/", {}, format="json")
    assert created.status_code == 201, created.json()
    note = created.json()
    assert note["kind"] == "credit_note"
    assert note["credits"] == invoice.pk
    assert note["gross_total"] == "1220.00"

    issued = api.post(
        f"/api/v1/invoices/{note['id']}/issue/", {"version": note["version"]}, format="json"
    )
    assert issued.status_code == 200, issued.json()
    assert issued.json()["display_number"].startswith("NC-")
    detail = api.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert detail["status"] == "cancelled"
    assert detail["credit_notes"] == [note["id"]]
    assert detail["credited"] == "1220.00"


def test_it_credits_part_of_a_line_and_refuses_more_than_the_line(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    url = f"/api/v1/invoices/{book.a.issued.pk}/credit-note/"
    line = book.a.issued_line.pk
    count = Invoice.objects.count()

    too_much = api.post(url, {"lines": [{"line": line, "quantity": "11"}]}, format="json")
    assert_error(too_much, 400, "credit_note_error")
    other_invoice = api.post(url, {"lines": [{"line": book.a.draft_line.pk}]}, format="json")
    assert_error(other_invoice, 400, "credit_note_error")
    unknown = api.post(url, {"lines": [{"line": 999999}]}, format="json")
    assert_error(unknown, 400, "invalid", {"lines.0.line"})
    assert Invoice.objects.count() == count

    partial = api.post(
        url, {"lines": [{"line": line, "quantity": "2", "unit_price": "50.00"}]}, format="json"
    )
    assert partial.status_code == 201, partial.json()
    assert partial.json()["net_total"] == "100.00"


def test_it_sends_the_invoice_to_the_checks_now(
    book: BillingBook, sent_checks: list[list[int]], django_capture_on_commit_callbacks: Any
) -> None:
    api = api_as(book.book.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/invoices/{book.a.issued.pk}/check-now/")
    assert response.status_code == 202
    assert sent_checks == [[book.a.issued.pk]]


def test_it_filters_invoices_with_the_html_lists_filterset(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    drafts = results(api.get("/api/v1/invoices/", {"status": "draft"}))
    assert {row["id"] for row in drafts} == {book.a.draft.pk, book.b.draft.pk}
    flagged = results(api.get("/api/v1/invoices/", {"has_open_findings": "true"}))
    assert {row["id"] for row in flagged} == {book.a.issued.pk, book.b.issued.pk}
    client_a = results(api.get("/api/v1/invoices/", {"client": book.book.a.client.pk}))
    assert {row["id"] for row in client_a} == {book.a.draft.pk, book.a.issued.pk}
    row = next(row for row in client_a if row["id"] == book.a.issued.pk)
    assert row["outstanding"] == "1020.00"
    assert row["open_errors"] == 1
    assert row["nam"] == book.book.a.nam.pk
    by_rule = results(api.get("/api/v1/invoices/", {"rule": "price_vs_contract"}))
    assert len(by_rule) == 2
    assert_error(api.get("/api/v1/invoices/", {"status": "lost"}), 400, "invalid", {"status"})


# Invoice lines -----------------------------------------------------------------------------------


def test_it_adds_changes_and_removes_draft_lines_and_keeps_the_totals(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    draft = book.a.draft
    gross_before = Invoice.objects.get(pk=draft.pk).gross_total
    added = api.post(
        "/api/v1/invoice-lines/",
        {"invoice": draft.pk, "invoice_version": version_of(draft), "description": "Setup",
         "quantity": "3", "unit_price": "33.33", "discount": "10", "vat_rate": "22.00"},
        format="json",
    )  # fmt: skip
    assert added.status_code == 201, added.json()
    # 3 x 33.33 = 99.99 less 10% = 89.991 -> 89.99; VAT 19.7978 -> 19.80.
    assert added.json()["net_amount"] == "89.99"
    assert added.json()["vat_amount"] == "19.80"
    assert Invoice.objects.get(pk=draft.pk).gross_total == gross_before + Decimal("109.79")
    url = f"/api/v1/invoice-lines/{added.json()['id']}/"

    changed = api.patch(url, {"quantity": "1", "invoice_version": version_of(draft)}, format="json")
    assert changed.json()["net_amount"] == "30.00"
    stale = api.patch(url, {"quantity": "5", "invoice_version": 1}, format="json")
    assert_error(stale, 409, "concurrent_edit")
    missing = api.patch(url, {"quantity": "5"}, format="json")
    assert_error(missing, 400, "invalid", {"invoice_version"})
    moved = api.patch(
        url,
        {"invoice": book.a.issued.pk, "invoice_version": version_of(draft)},
        format="json",
    )
    assert_error(moved, 400, "invalid", {"invoice"})
    assert InvoiceLine.objects.get(pk=added.json()["id"]).quantity == Decimal("1")

    no_version = api.delete(url)
    assert_error(no_version, 400, "invalid", {"invoice_version"})
    removed = api.delete(f"{url}?invoice_version={version_of(draft)}")
    assert removed.status_code == 204
    assert Invoice.objects.get(pk=draft.pk).gross_total == gross_before


def test_it_takes_the_products_vat_and_name_for_a_line_without_them(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    product = book.orders.product
    added = api.post(
        "/api/v1/invoice-lines/",
        {"invoice": book.a.draft.pk, "invoice_version": version_of(book.a.draft),
         "product": product.pk, "quantity": "1", "unit_price": "10.00"},
        format="json",
    )  # fmt: skip
    assert added.status_code == 201, added.json()
    assert added.json()["description"] == product.name
    assert Decimal(added.json()["vat_rate"]) == product.vat_rate
    without = api.post(
        "/api/v1/invoice-lines/",
        {"invoice": book.a.draft.pk, "invoice_version": version_of(book.a.draft),
         "description": "Freight", "quantity": "1", "unit_price": "10.00"},
        format="json",
    )  # fmt: skip
    assert_error(without, 400, "invalid", {"vat_rate"})


def test_it_refuses_lines_on_an_issued_invoice_and_bad_numbers(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    issued = book.a.issued
    count = InvoiceLine.objects.count()
    on_issued = api.post(
        "/api/v1/invoice-lines/",
        {"invoice": issued.pk, "invoice_version": version_of(issued), "description": "More",
         "quantity": "1", "unit_price": "1.00", "vat_rate": "22.00"},
        format="json",
    )  # fmt: skip
    assert_error(on_issued, 400, "invoice_immutable")
    negative = api.post(
        "/api/v1/invoice-lines/",
        {"invoice": book.a.draft.pk, "invoice_version": version_of(book.a.draft),
         "description": "Refund", "quantity": "-1", "unit_price": "1.00", "vat_rate": "22.00"},
        format="json",
    )  # fmt: skip
    body = assert_error(negative, 400, "invalid")
    assert "quantity" in body["fields"] or "positive" in body["message"]
    nature = api.post(
        "/api/v1/invoice-lines/",
        {"invoice": book.a.draft.pk, "invoice_version": version_of(book.a.draft),
         "description": "Export", "quantity": "1", "unit_price": "1.00", "vat_rate": "0"},
        format="json",
    )  # fmt: skip
    assert_error(nature, 400, "invalid")
    assert InvoiceLine.objects.count() == count


# Payments ----------------------------------------------------------------------------------------


def test_it_records_payments_until_the_invoice_is_paid(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    invoice = book.a.issued  # 1,220.00, 200.00 paid
    too_much = api.post(
        "/api/v1/payments/",
        {"invoice": invoice.pk, "amount": "1020.01", "paid_on": "2026-04-01"},
        format="json",
    )
    assert_error(too_much, 400, "payment_error")
    on_draft = api.post(
        "/api/v1/payments/",
        {"invoice": book.a.draft.pk, "amount": "1.00", "paid_on": "2026-04-01"},
        format="json",
    )
    assert_error(on_draft, 400, "payment_error")
    assert Payment.objects.filter(invoice=invoice).count() == 1

    paid = api.post(
        "/api/v1/payments/",
        {"invoice": invoice.pk, "amount": "1020.00", "paid_on": "2026-04-01",
         "method": "riba", "reference": "RB-77"},
        format="json",
    )  # fmt: skip
    assert paid.status_code == 201, paid.json()
    assert paid.json()["recorded_by"] == book.book.finance.pk
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"

    assert api.delete(f"/api/v1/payments/{paid.json()['id']}/").status_code == 204
    assert Invoice.objects.get(pk=invoice.pk).status == "partially_paid"
    listed = results(api.get("/api/v1/payments/", {"invoice": invoice.pk}))
    assert [row["id"] for row in listed] == [book.a.payment.pk]


# Findings ----------------------------------------------------------------------------------------


def test_it_lists_findings_by_rule_status_invoice_and_client(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    other = CheckFindingFactory(
        invoice=book.a.draft, rule="due_date_terms", severity="warning", status="resolved",
        resolved_at=datetime.datetime(2026, 3, 3, tzinfo=datetime.UTC), amount_at_stake=0,
    )  # fmt: skip
    ids = lambda **query: {row["id"] for row in results(api.get("/api/v1/findings/", query))}  # noqa: E731
    assert ids() == {book.a.finding.pk, book.b.finding.pk, other.pk}
    assert ids(rule="due_date_terms") == {other.pk}
    assert ids(status="open") == {book.a.finding.pk, book.b.finding.pk}
    assert ids(invoice=book.a.draft.pk) == {other.pk}
    assert ids(client=book.book.b.client.pk) == {book.b.finding.pk}
    assert ids(nam=book.book.a.nam.pk) == {book.a.finding.pk, other.pk}
    row = api.get(f"/api/v1/findings/{book.a.finding.pk}/").json()
    assert row["comments"][0]["text"] == "Asked the NAM."
    assert row["nam"] == book.book.a.nam.pk
    assert_error(api.get("/api/v1/findings/", {"status": "gone"}), 400, "invalid", {"status"})


def test_it_wants_a_reason_to_override_and_only_an_open_finding(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    url = f"/api/v1/findings/{book.a.finding.pk}/override/"
    assert_error(api.post(url, {"reason": "  "}, format="json"), 400, "invalid", {"reason"})
    assert_error(api.post(url, {}, format="json"), 400, "invalid", {"reason"})
    assert CheckFinding.objects.get(pk=book.a.finding.pk).status == "open"

    assert api.post(url, {"reason": "Agreed."}, format="json").status_code == 200
    again = api.post(url, {"reason": "Again."}, format="json")
    assert_error(again, 400, "finding_error")
    assert CheckFinding.objects.get(pk=book.a.finding.pk).override_reason == "Agreed."


def test_it_lets_the_nam_comment_on_a_finding_of_their_account(book: BillingBook) -> None:
    api = api_as(book.book.a.nam)
    url = f"/api/v1/findings/{book.a.finding.pk}/comment/"
    assert_error(api.post(url, {"text": ""}, format="json"), 400, "invalid", {"text"})
    created = api.post(url, {"text": "The client agreed to 100.00."}, format="json")
    assert created.status_code == 201, created.json()
    texts = [c["text"] for c in created.json()["comments"]]
    assert texts == ["Asked the NAM.", "The client agreed to 100.00."]
    comment = FindingComment.objects.get(text="The client agreed to 100.00.")
    assert comment.author == book.book.a.nam
    refused = api.post(f"/api/v1/findings/{book.a.finding.pk}/override/", {"reason": "ok"})
    assert_error(refused, 403, "not_allowed")


# Receivables aging -------------------------------------------------------------------------------


def test_it_ages_receivables_of_the_clients_the_caller_sees(book: BillingBook) -> None:
    finance_rows = results(api_as(book.book.finance).get("/api/v1/receivables-aging/"))
    assert {row["client"] for row in finance_rows} == {
        book.book.a.client.pk,
        book.book.b.client.pk,
    }
    row = next(r for r in finance_rows if r["client"] == book.book.a.client.pk)
    assert row["total"] == "1020.00"
    assert row["client_name"] == book.book.a.client.name
    buckets = ("current", "days_0_30", "days_31_60", "days_61_90", "days_over_90")
    assert sum(Decimal(row[name]) for name in buckets) == Decimal("1020.00")
    nam_rows = results(api_as(book.book.a.nam).get("/api/v1/receivables-aging/"))
    assert [r["client"] for r in nam_rows] == [book.book.a.client.pk]
    assert api_as(None).get("/api/v1/receivables-aging/").status_code == 401


# Query counts ------------------------------------------------------------------------------------


def count_queries(api: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


LISTS = [
    "/api/v1/invoices/",
    "/api/v1/invoice-lines/",
    "/api/v1/payments/",
    "/api/v1/findings/",
    "/api/v1/receivables-aging/",
]


def test_it_lists_billing_rows_in_queries_that_do_not_grow_with_them(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    api.get("/api/v1/invoices/")  # warm the token and the content types
    before = {url: count_queries(api, url) for url in LISTS}
    for _ in range(5):
        copy = InvoiceLineFactory(invoice=book.a.draft)
        CheckFindingFactory(invoice=book.b.issued, line=None, rule="manual", key=str(copy.pk))
        invoice = InvoiceLineFactory(invoice__client=book.book.a.client).invoice
        CheckFindingFactory(invoice=invoice).comments.create(author=book.book.a.nam, text="x")
    OrderLineFactory(order=book.orders.a.order)
    after = {url: count_queries(api, url) for url in LISTS}
    assert after == before
    # The token (1), the caller's roles (1), the page's count (1) and rows (1); findings also
    # fetch their comments (1).
    assert after == {url: 5 if "findings" in url else 4 for url in LISTS}


def test_it_answers_one_invoice_in_a_fixed_number_of_queries(
    book: BillingBook, django_assert_num_queries: Any
) -> None:
    api = api_as(book.book.finance)
    url = f"/api/v1/invoices/{book.a.issued.pk}/"
    api.get(url)
    with CaptureQueriesContext(connection) as first:
        api.get(url)
    for _ in range(3):
        InvoiceLineFactory(invoice=book.a.draft)
    for _ in range(3):
        CheckFindingFactory(invoice=book.a.issued).comments.create(author=book.book.a.nam, text="x")
    with django_assert_num_queries(len(first)):
        api.get(url)


# Schema ------------------------------------------------------------------------------------------


def test_it_documents_the_billing_api_in_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path in [
        "/api/v1/invoices/",
        "/api/v1/invoices/from-order/",
        "/api/v1/invoices/from-milestones/",
        "/api/v1/invoices/{id}/issue/",
        "/api/v1/invoices/{id}/check-now/",
        "/api/v1/invoices/{id}/credit-note/",
        "/api/v1/invoice-lines/",
        "/api/v1/payments/",
        "/api/v1/findings/",
        "/api/v1/findings/{id}/override/",
        "/api/v1/findings/{id}/comment/",
        "/api/v1/receivables-aging/",
    ]:
        assert path in paths
    assert "409" in paths["/api/v1/invoices/{id}/"]["patch"]["responses"]
    assert "409" in paths["/api/v1/invoices/{id}/issue/"]["post"]["responses"]
    assert "409" in paths["/api/v1/invoice-lines/{id}/"]["delete"]["responses"]
    assert "202" in paths["/api/v1/invoices/{id}/check-now/"]["post"]["responses"]
    assert "put" not in paths["/api/v1/payments/{id}/"]
    assert "post" not in paths["/api/v1/findings/"]


def test_it_refuses_percentages_outside_0_to_100_on_a_line(book: BillingBook) -> None:
    api = api_as(book.book.finance)
    count = InvoiceLine.objects.count()
    for field in ("discount", "vat_rate"):
        response = api.post(
            "/api/v1/invoice-lines/",
            {"invoice": book.a.draft.pk, "invoice_version": version_of(book.a.draft),
             "description": "Odd", "quantity": "1", "unit_price": "1.00", "vat_rate": "22",
             field: "101"},
            format="json",
        )  # fmt: skip
        assert_error(response, 400, "invalid", {field})
    assert InvoiceLine.objects.count() == count


def test_it_shows_a_line_without_vat_nature_as_an_empty_code(book: BillingBook) -> None:
    row = api_as(book.book.finance).get(f"/api/v1/invoice-lines/{book.a.draft_line.pk}/").json()
    assert row["vat_nature"] == ""
