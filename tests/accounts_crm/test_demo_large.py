"""The large-book generator (accounts_crm/demo_large.py) at a tiny factor: the same code as the
full-size run, so it keeps working; the book is consistent and carries the error mix."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max

from accounts_crm import demo_large
from billing.models import Invoice, InvoiceCounter, InvoiceLine, Payment
from clients.models import Client
from orders.models import Order, OrderLine
from projects.models import Milestone, Project

pytestmark = pytest.mark.django_db

FACTOR = 0.001


@pytest.fixture
def large_book() -> demo_large.Sizes:
    demo_large.seed_large(factor=FACTOR)
    return demo_large.Sizes.for_factor(FACTOR)


def large(model, path: str = "client__name"):
    return model.objects.filter(**{f"{path}__startswith": f"{demo_large.PREFIX} "})


def test_it_makes_the_sizes_of_its_factor(large_book: demo_large.Sizes) -> None:
    sizes = large_book
    assert large(Client, "name").count() == sizes.clients
    assert large(Client, "name").filter(parent=None).count() == sizes.groups
    assert large(Order).count() == sizes.orders
    assert large(OrderLine, "order__client__name").count() == sizes.orders * 5
    assert large(Project).count() == sizes.projects
    assert large(Milestone, "project__client__name").count() == sizes.projects * 5
    originals = large(Invoice).filter(kind="invoice").exclude(notes="[large: duplicate]")
    assert originals.count() == sizes.invoices
    assert large(InvoiceLine, "invoice__client__name").count() >= sizes.invoices * 3


def test_full_size_is_what_the_issue_asks() -> None:
    full = demo_large.Sizes.for_factor(1)
    assert (full.clients, full.groups, full.nams, full.teams) == (2000, 300, 60, 8)
    assert (full.orders * full.lines_per_order, full.invoices * full.lines_per_invoice) == (
        1_000_000,
        400_000,
    )
    assert full.projects * full.milestones_per_project == 100_000


def test_numbers_are_gapless_and_the_counters_match(large_book: demo_large.Sizes) -> None:
    numbered = (
        Invoice.objects.exclude(number=None)
        .values("series", "year")
        .annotate(count=Count("pk"), last=Max("number"))
    )
    counters = {(c.series, c.year): c.last_number for c in InvoiceCounter.objects.all()}
    assert numbered
    for row in numbered:
        assert row["count"] == row["last"] == counters[(row["series"], row["year"])]
    with connection.cursor() as cursor:
        assert demo_large.verify(cursor) == {}


def test_the_book_has_the_statuses_and_the_mistakes(large_book: demo_large.Sizes) -> None:
    invoices = large(Invoice)
    for status in ("draft", "issued", "partially_paid", "paid"):
        assert invoices.filter(status=status).exists(), status
    assert invoices.filter(kind="credit_note", status="issued").exists()
    assert Payment.objects.filter(invoice__in=invoices).exists()
    marked = set(invoices.filter(notes__startswith="[large:").values_list("notes", flat=True))
    assert {f"[large: {code}]" for code in demo_large.ERROR_KINDS} <= marked
    assert "[large: duplicate]" in marked


def test_the_checks_flag_the_mistakes(large_book: demo_large.Sizes) -> None:
    from billing import checks

    checks.check_open_book()
    found = set(
        large(Invoice).filter(findings__status="open").values_list("findings__rule", flat=True)
    )
    assert {"price_vs_order", "discount_vs_contract", "quantity_vs_ordered", "due_date_terms",
            "line_arithmetic", "invoice_totals", "billed_outside_group", "order_not_confirmed",
            "duplicate_invoice", "milestone_not_completed", "quantity_vs_delivered",
            "contract_validity", "contract_cap", "missing_fiscal_data"} <= found  # fmt: skip
    checked = large(Invoice).filter(status__in=("draft", "issued", "partially_paid"))
    assert checked.filter(check_status="clean").exists()


def test_the_command_makes_it_once(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("seed_demo", "--scale", "large", "--factor", str(FACTOR))
    assert "Large book (factor 0.001) made in" in capsys.readouterr().out
    before = (Order.objects.count(), Invoice.objects.count())
    call_command("seed_demo", "--scale", "large", "--factor", str(FACTOR))
    assert "already there" in capsys.readouterr().out
    assert (Order.objects.count(), Invoice.objects.count()) == before
