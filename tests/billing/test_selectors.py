"""billing/selectors.py and filters.py: aging buckets, uninvoiced quantities, visibility,
list annotations, the review queue; query counts pinned."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from accounts_crm.access import roles_of
from billing import selectors, services
from billing.filters import FindingFilter, InvoiceFilter
from billing.models import Invoice
from tests.billing.conftest import Book
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    FindingCommentFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    PaymentFactory,
    UserFactory,
)

D = Decimal
TODAY = datetime.date(2026, 10, 1)
_number = iter(range(1, 10_000))


def issued(client: object, *, gross: str, due: datetime.date, paid: str = "0") -> Invoice:
    """An issued invoice of `gross` (VAT-free line) due on `due`, written straight."""
    invoice = InvoiceFactory(client=client)
    InvoiceLineFactory(invoice=invoice, unit_price=D(gross), vat_rate=D("0"), vat_nature="N4")
    Invoice.objects.filter(pk=invoice.pk).update(
        status="partially_paid" if D(paid) else "issued", number=next(_number),
        year=min(due.year, 2026), issue_date=min(due, datetime.date(2026, 1, 1)),
        due_date=due, net_total=D(gross), gross_total=D(gross), amount_paid=D(paid),
    )  # fmt: skip
    return Invoice.objects.get(pk=invoice.pk)


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


# Aging -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_aging_buckets_by_days_past_due(finance: User) -> None:
    client = ClientFactory(name="Acme")
    for days, gross in [(-5, "1"), (0, "2"), (1, "10"), (30, "20"), (31, "100"), (60, "200"),
                        (61, "1000"), (90, "2000"), (91, "10000"), (400, "20000")]:  # fmt: skip
        issued(client, gross=gross, due=days_ago(days))
    issued(client, gross="500", due=days_ago(10), paid="123.45")  # counts what is still owed
    paid = issued(client, gross="7", due=days_ago(100))
    Invoice.objects.filter(pk=paid.pk).update(status="paid", amount_paid=D("7"))
    InvoiceFactory(client=client)  # a draft owes nothing

    [row] = selectors.receivables_aging(user=finance, today=TODAY)
    assert row["client__name"] == "Acme"
    assert (row["current"], row["days_0_30"], row["days_31_60"]) == (
        D("3.00"), D("406.55"), D("300.00"),
    )  # fmt: skip
    assert (row["days_61_90"], row["days_over_90"], row["total"]) == (
        D("3000.00"), D("30000.00"), D("33709.55"),
    )  # fmt: skip
    # The book's buckets are the same amounts, summed in one query grouped by bucket.
    ClientFactory(name="Beta")  # nothing outstanding: adds nothing
    issued(ClientFactory(name="Gamma"), gross="5", due=days_ago(45))
    assert selectors.receivables_by_bucket(user=finance, today=TODAY) == {
        "current": D("3.00"), "days_0_30": D("406.55"), "days_31_60": D("305.00"),
        "days_61_90": D("3000.00"), "days_over_90": D("30000.00"), "total": D("33714.55"),
    }  # fmt: skip


@pytest.mark.django_db
def test_aging_subtracts_credit_notes_and_shows_only_visible_clients(finance: User) -> None:
    book = Book()
    invoice = issued(book.client, gross="1000", due=days_ago(40))
    note = InvoiceFactory(kind="credit_note", series="NC", credits=invoice, client=book.client)
    InvoiceLineFactory(invoice=note, unit_price=D("250"), vat_rate=D("0"), vat_nature="N4")
    Invoice.objects.filter(pk=note.pk).update(
        status="issued", number=1, year=2026, issue_date=datetime.date(2026, 2, 1),
        net_total=D("250"), gross_total=D("250"),
    )  # fmt: skip
    issued(ClientFactory(), gross="99", due=days_ago(40))

    rows = {r["client_id"]: r for r in selectors.receivables_aging(user=finance, today=TODAY)}
    assert rows[book.client.pk]["days_31_60"] == D("750.00")
    assert len(rows) == 2
    nam_rows = list(selectors.receivables_aging(user=book.nam, today=TODAY))
    assert [r["client_id"] for r in nam_rows] == [book.client.pk]
    assert list(selectors.receivables_aging(user=UserFactory(), today=TODAY)) == []
    by_bucket = selectors.receivables_by_bucket(user=book.nam, today=TODAY)
    assert (by_bucket["days_31_60"], by_bucket["total"]) == (D("750.00"), D("750.00"))
    assert selectors.receivables_by_bucket(user=UserFactory(), today=TODAY)["total"] == D("0")


# Uninvoiced quantities -----------------------------------------------------------------------


@pytest.mark.django_db
def test_uninvoiced_quantities_follow_the_one_rule(finance: User) -> None:
    book = Book()
    assert selectors.uninvoiced_quantities(order=book.order) == {
        book.line_a.pk: D("10"), book.line_b.pk: D("3"),
    }  # fmt: skip
    draft = InvoiceFactory(client=book.client)
    InvoiceLineFactory(invoice=draft, order_line=book.line_a, quantity=D("4"))  # reserves 4
    cancelled = issued(book.client, gross="1", due=TODAY)
    Invoice.objects.filter(pk=cancelled.pk).update(status="cancelled")
    assert selectors.uninvoiced_quantities(order=book.order)[book.line_a.pk] == D("6")
    draft_note = InvoiceFactory(kind="credit_note", series="NC", credits=draft,
                                client=book.client)  # fmt: skip
    InvoiceLineFactory(invoice=draft_note, order_line=book.line_a, quantity=D("1"))
    assert selectors.uninvoiced_quantities(order=book.order)[book.line_a.pk] == D("6")
    over = InvoiceFactory(client=book.client)
    InvoiceLineFactory(invoice=over, order_line=book.line_b, quantity=D("5"))  # over-billed
    assert selectors.uninvoiced_quantities(order=book.order)[book.line_b.pk] == D("0")
    annotated = selectors.with_invoiced_quantity(book.order.lines.filter(pk=book.line_b.pk))
    assert annotated.get().invoiced_quantity == D("5")


# Lists, details and the review queue ---------------------------------------------------------


@pytest.mark.django_db
def test_invoice_list_visibility_and_annotations(
    finance: User, django_assert_num_queries: object
) -> None:
    book = Book()
    mine = issued(book.client, gross="1000", due=days_ago(3), paid="400")
    CheckFindingFactory(invoice=mine, severity="error", amount_at_stake=D("20"))
    CheckFindingFactory(invoice=mine, severity="warning", amount_at_stake=D("5"))
    CheckFindingFactory(invoice=mine, status="resolved", resolved_at=timezone.now())
    other = issued(ClientFactory(), gross="10", due=TODAY)
    for _ in range(3):
        issued(ClientFactory(), gross="10", due=TODAY)

    outsider = AccountTeamMemberFactory(role="project_manager").user
    for person, expected in [(finance, 5), (book.nam, 1), (book.lead, 1), (outsider, 0)]:
        roles_of(person)
        with django_assert_num_queries(1):
            rows = list(selectors.invoice_list(user=person, today=TODAY))
        assert len(rows) == expected
    row = next(r for r in selectors.invoice_list(user=finance, today=TODAY) if r.pk == mine.pk)
    assert (row.open_findings, row.open_errors, row.amount_at_stake) == (2, 1, D("25.00"))
    assert (row.outstanding, row.overdue, row.nam_id) == (D("600.00"), True, book.nam.pk)
    row = next(r for r in selectors.invoice_list(user=finance, today=TODAY) if r.pk == other.pk)
    assert (row.open_findings, row.overdue, row.outstanding) == (0, False, D("10.00"))


@pytest.mark.django_db
def test_invoice_detail_prefetches_everything(
    finance: User, django_assert_num_queries: object
) -> None:
    book = Book()
    invoice = issued(book.client, gross="1000", due=days_ago(3))
    PaymentFactory(invoice=invoice, amount=D("10"))
    for _ in range(3):
        FindingCommentFactory(finding=CheckFindingFactory(invoice=invoice))
    roles_of(finance)
    with django_assert_num_queries(6):  # invoice, lines, payments, findings, comments, notes
        detail = selectors.invoice_detail(user=finance, pk=invoice.pk)
        assert len(detail.lines.all()) == 1
        assert [p.recorded_by.username for p in detail.payments.all()]
        assert all(f.comments.all()[0].author for f in detail.findings.all())
    with pytest.raises(Invoice.DoesNotExist):
        selectors.invoice_detail(user=UserFactory(), pk=invoice.pk)


@pytest.mark.django_db
def test_the_review_queue_and_its_filters(finance: User, django_assert_num_queries: object) -> None:
    book = Book()
    invoice = issued(book.client, gross="1000", due=TODAY)
    big = CheckFindingFactory(invoice=invoice, rule="price_vs_contract", amount_at_stake=D("90"))
    CheckFindingFactory(invoice=invoice, rule="cap", amount_at_stake=D("10"))
    CheckFindingFactory(invoice=invoice, rule="cap", status="resolved", resolved_at=timezone.now())
    elsewhere = CheckFindingFactory(rule="cap", amount_at_stake=D("50"))

    roles_of(finance)
    with django_assert_num_queries(1):
        queue = [(f.invoice.client.name, f.rule) for f in selectors.review_queue(user=finance)]
    assert len(queue) == 3
    assert next(f.pk for f in selectors.review_queue(user=book.nam)) == big.pk
    assert len(list(selectors.review_queue(user=book.nam))) == 2

    def filtered(**data: object) -> list[int]:
        qs = FindingFilter(data, queryset=selectors.review_queue(user=finance)).qs
        return [f.pk for f in qs]

    assert filtered(rule="cap") == [elsewhere.pk, *filtered(rule="cap", client=book.client.pk)]
    assert filtered(nam=book.nam.pk, min_amount_at_stake="50") == [big.pk]
    grouped = {r["rule"]: r for r in selectors.review_queue_by_rule(user=finance)}
    assert (grouped["cap"]["findings"], grouped["cap"]["invoices"]) == (2, 2)
    assert grouped["cap"]["amount_at_stake"] == D("60.00")


@pytest.mark.django_db
def test_invoice_filter(finance: User) -> None:
    book = Book()
    late = issued(book.client, gross="100", due=days_ago(5))
    CheckFindingFactory(invoice=late, rule="cap")
    on_time = issued(ClientFactory(name="Zeta"), gross="100", due=TODAY)
    draft = services.invoice_from_order(by=finance, order=book.order)

    def filtered(**data: object) -> set[int]:
        qs = InvoiceFilter(data, queryset=selectors.invoice_list(user=finance, today=TODAY)).qs
        return {i.pk for i in qs}

    assert filtered(overdue="true") == {late.pk}
    assert filtered(has_open_findings="true") == {late.pk}
    assert filtered(has_open_findings="false") == {on_time.pk, draft.pk}
    assert filtered(rule="cap") == {late.pk}
    assert filtered(status="draft") == {draft.pk}
    assert filtered(nam=book.nam.pk) == {late.pk, draft.pk}
    assert filtered(q="zeta") == {on_time.pk}
    assert filtered(q=f"FV-2026/{on_time.number:05d}") == {on_time.pk}
    assert filtered(due_before=days_ago(1).isoformat()) == {late.pk}
    assert filtered(client=book.client.pk, kind="invoice") == {late.pk, draft.pk}


@pytest.mark.django_db
def test_client_billing_summary(finance: User) -> None:
    book = Book()
    issued(book.client, gross="100", due=days_ago(5))
    issued(book.client, gross="50", due=TODAY + datetime.timedelta(days=5))
    CheckFindingFactory(invoice__client=book.client)
    summary = selectors.client_billing_summary(user=book.nam, client=book.client)
    assert summary["open_balance"] == D("150.00")
    assert summary["open_findings"] == 1
    assert selectors.client_billing_summary(user=UserFactory(), client=book.client) == {
        "open_balance": D("0"), "overdue": D("0"), "open_findings": 0,
    }  # fmt: skip
