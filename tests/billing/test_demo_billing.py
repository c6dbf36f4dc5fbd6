"""The demo book's invoices: a year of mostly clean invoices, every kind of mistake the checks
look for, overdue and partially paid ones, credit notes, gapless numbers; safe to seed twice."""

import datetime

import pytest
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts_crm import demo
from billing.models import CheckFinding, Invoice, InvoiceCounter, InvoiceLine, Payment

pytestmark = pytest.mark.django_db


def billing_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Invoice, InvoiceLine, Payment, InvoiceCounter, CheckFinding)
    }


def test_it_seeds_a_year_of_invoices_once() -> None:
    demo.seed()
    before = billing_counts()
    demo.seed()
    assert billing_counts() == before
    today = timezone.localdate()
    invoices = Invoice.objects.filter(kind="invoice")
    assert invoices.count() > 300
    oldest = invoices.exclude(issue_date=None).order_by("issue_date").first().issue_date
    assert today - oldest > datetime.timedelta(days=300)
    assert Invoice.objects.overdue(today).count() > 5
    assert invoices.filter(status="partially_paid").count() > 5
    assert invoices.filter(status="paid").count() > invoices.count() / 2
    assert Invoice.objects.filter(kind="credit_note", status="issued").exists()
    assert invoices.filter(status="draft").exists()


def test_every_demo_mistake_is_in_the_book() -> None:
    demo.seed()
    for code, _ in demo.BILLING_ERRORS:
        assert Invoice.objects.filter(notes__startswith=f"[demo: {code}]").exists(), code


def test_issued_numbers_are_gapless_and_match_the_counters() -> None:
    demo.seed()
    numbered = (
        Invoice.objects.exclude(number=None)
        .values("series", "year")
        .annotate(count=Count("pk"), last=Max("number"))
    )
    counters = {(c.series, c.year): c.last_number for c in InvoiceCounter.objects.all()}
    assert {(row["series"], row["year"]) for row in numbered} == set(counters)
    for row in numbered:
        assert row["count"] == row["last"] == counters[(row["series"], row["year"])]


def test_paid_amounts_match_the_payments() -> None:
    demo.seed()
    mismatched = (
        Invoice.objects.exclude(status="draft")
        .annotate(paid=Count("payments"))
        .filter(Q(amount_paid__gt=0, paid=0) | Q(amount_paid=0, paid__gt=0))
    )
    assert not mismatched.exists()
    assert Payment.objects.exists()


def test_the_checks_find_every_rule_on_the_demo_book_and_pass_most_invoices() -> None:
    checks = pytest.importorskip("billing.checks", reason="the rules engine is not installed")
    demo.seed()
    found = set(CheckFinding.objects.filter(status="open").values_list("rule", flat=True))
    assert set(checks.RULES) <= found
    checked = Invoice.objects.filter(status__in=("draft", "issued", "partially_paid"))
    assert checked.filter(check_status="clean").count() > checked.count() / 2
    assert checked.filter(check_status="flagged").count() >= len(demo.BILLING_ERRORS) - 2
    before = billing_counts()
    demo.seed()
    assert billing_counts() == before
