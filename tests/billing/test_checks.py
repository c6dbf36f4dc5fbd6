"""The invoice checks (billing/checks.py): each rule flags its error and not its near miss; the
upsert, auto-resolve and override rules; batch vs one by one; query counts; the tasks."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts_crm.access import Role
from accounts_crm.models import Notification
from billing import checks, services, tasks
from billing.errors import InvoiceNotIssuableError
from billing.models import CheckFinding, Invoice
from orders.models import Contract
from tests.billing.check_book import JULY_1, CheckWorld, LineSpec, build_check_book, fiscal_client
from tests.factories import ContractPriceFactory, OrderFactory, UserFactory

D = Decimal
TODAY = datetime.date(2026, 11, 27)


# The rules of billing/checks.py. Other modules may register more (billing/sdi_rules.py); these
# tests pin the behaviour of these fifteen, so they run with only them.
CORE_RULES = {
    "price_vs_contract", "price_vs_order", "discount_vs_contract", "quantity_vs_ordered",
    "quantity_vs_delivered", "milestone_not_completed", "contract_validity", "contract_cap",
    "due_date_terms", "line_arithmetic", "invoice_totals", "duplicate_invoice",
    "billed_outside_group", "missing_fiscal_data", "order_not_confirmed",
}  # fmt: skip


@pytest.fixture(autouse=True)
def core_rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(checks.RULES) >= CORE_RULES
    core = {code: rule for code, rule in checks.RULES.items() if code in CORE_RULES}
    monkeypatch.setattr(checks, "RULES", core)


@pytest.fixture
def world(db: None) -> CheckWorld:
    return CheckWorld()


def run(*invoices: Invoice, today: datetime.date = TODAY) -> dict[str, int]:
    return checks.check_invoices([i.pk for i in invoices], today=today)


def rules_of(invoice: Invoice, status: str = "open") -> set[str]:
    return set(
        CheckFinding.objects.filter(invoice=invoice, status=status).values_list("rule", flat=True)
    )


def finding(invoice: Invoice, rule: str) -> CheckFinding:
    return CheckFinding.objects.get(invoice=invoice, rule=rule)


# The registry ------------------------------------------------------------------------------


def test_every_rule_has_a_code_severity_message_and_a_runnable_query(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("1")])
    assert set(checks.RULES) == CORE_RULES
    for code, rule in checks.RULES.items():
        assert rule.code == code
        assert rule.severity in ("error", "warning")
        assert "%(" in str(rule.message)
        assert rule.__doc__
        sql, params = rule.query([invoice.pk], today=TODAY)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert len(cursor.description) == 9
        assert rule.rows([invoice.pk], today=TODAY) == []


def test_a_clean_invoice_is_clean(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("2"), world.b("1")])
    run(invoice)
    invoice.refresh_from_db()
    assert CheckFinding.objects.filter(invoice=invoice).count() == 0
    assert invoice.check_status == "clean"


# Price vs contract and order ---------------------------------------------------------------


def test_it_flags_a_price_above_the_contract_price(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("2", unit_price=D("85.00"))])
    run(invoice)
    found = finding(invoice, "price_vs_contract")
    assert (found.expected_value, found.actual_value) == (D("80.00"), D("85.00"))
    assert found.amount_at_stake == D("10.00")
    assert found.compared_to == world.price_a
    assert found.line == invoice.lines.get()
    assert found.severity == "error"
    assert found.expected == "80.00 EUR"
    assert "price_vs_order" in rules_of(invoice)


def test_a_price_valid_from_the_invoice_date_applies(world: CheckWorld) -> None:
    world.price_a.valid_to = datetime.date(2026, 6, 30)
    world.price_a.save()
    ContractPriceFactory(
        contract=world.contract, product=world.product_a, unit_price=D("85.00"),
        valid_from=JULY_1,
    )  # fmt: skip
    on_the_day = world.invoice([world.a("1", unit_price=D("85.00"))], order=None)
    the_day_before = world.invoice(
        [world.a("1", unit_price=D("85.00"))], order=None,
        issue_date=JULY_1 - datetime.timedelta(days=1),
    )  # fmt: skip
    run(on_the_day, the_day_before)
    assert "price_vs_contract" not in rules_of(on_the_day)
    assert finding(the_day_before, "price_vs_contract").expected_value == D("80.00")


def test_an_effective_price_within_half_a_cent_is_not_flagged(world: CheckWorld) -> None:
    # 88.89 less 10% = 80.001: the same agreed price to the cent.
    near = world.invoice([world.a("1", unit_price=D("88.89"), discount=D("10"))], order=None)
    off = world.invoice([world.a("1", unit_price=D("88.90"), discount=D("10"))], order=None)
    run(near, off)
    assert rules_of(near) == set()
    assert finding(off, "price_vs_contract").actual_value == D("80.01")


def test_it_flags_a_price_that_differs_from_the_order_line(world: CheckWorld) -> None:
    cheaper = world.invoice([world.b("1", unit_price=D("37.00"))])
    same = world.invoice([world.b("1")])
    run(cheaper, same)
    found = finding(cheaper, "price_vs_order")
    assert found.compared_to == world.line_b
    assert (found.expected_value, found.actual_value) == (D("33.3270"), D("33.3000"))
    assert rules_of(same) == set()


# Discount ----------------------------------------------------------------------------------


def test_it_flags_a_discount_other_than_the_contracts(world: CheckWorld) -> None:
    bare = LineSpec(product=world.product_b, unit_price=D("37.03"), discount=D("5"))
    at_default = LineSpec(product=world.product_b, unit_price=D("37.03"), discount=D("10"))
    flagged = world.invoice([bare], order=None)
    fine = world.invoice([at_default], order=None)
    run(flagged, fine)
    found = finding(flagged, "discount_vs_contract")
    assert (found.expected_value, found.actual_value) == (D("10"), D("5"))
    assert found.severity == "warning"
    assert found.compared_to == world.contract
    assert rules_of(fine) == set()


def test_a_line_with_an_agreed_price_is_not_held_to_the_default_discount(
    world: CheckWorld,
) -> None:
    invoice = world.invoice([world.a("1")])  # 80.00 agreed, no discount
    run(invoice)
    assert "discount_vs_contract" not in rules_of(invoice)


# Quantities --------------------------------------------------------------------------------


def test_it_flags_cumulative_over_billing_on_every_invoice_that_bills_the_line(
    world: CheckWorld,
) -> None:
    first = world.invoice([world.a("6")])
    second = world.invoice([world.a("5")], status="draft", issue_date=None)
    run(first, second)
    for invoice in (first, second):
        found = finding(invoice, "quantity_vs_ordered")
        assert (found.expected_value, found.actual_value) == (D("10"), D("11"))
        assert found.key == str(world.line_a.pk)
        assert found.compared_to == world.line_a
    assert finding(second, "quantity_vs_ordered").amount_at_stake == D("80.00")


def test_billing_exactly_the_ordered_quantity_is_fine(world: CheckWorld) -> None:
    first = world.invoice([world.a("6")])
    second = world.invoice([world.a("4")])
    run(first, second)
    assert rules_of(first) == rules_of(second) == set()


def test_it_warns_when_billing_ahead_of_delivery(world: CheckWorld) -> None:
    world.line_a.delivered_quantity = D("3")
    world.line_a.save()
    ahead = world.invoice([world.a("4")])
    run(ahead)
    found = finding(ahead, "quantity_vs_delivered")
    assert (found.expected_value, found.actual_value, found.severity) == (D("3"), D("4"), "warning")
    assert "quantity_vs_ordered" not in rules_of(ahead)


def test_a_credit_note_that_fixes_an_over_billing_resolves_it(world: CheckWorld) -> None:
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    first = world.invoice([world.a("6")])
    second = world.invoice([world.a("5")])
    run(first, second)
    assert "quantity_vs_ordered" in rules_of(second)
    note = services.credit_note_create(
        by=finance, invoice=second,
        lines=[services.CreditLine(second.lines.get(), quantity=D("1"))],
    )  # fmt: skip
    run(note)  # a draft credit note has credited nothing yet
    assert "quantity_vs_ordered" in rules_of(second)
    services.invoice_issue(by=finance, invoice=note, issue_date=datetime.date(2026, 7, 10))
    run(note)  # checking the credit note re-checks the invoice it credits
    assert "quantity_vs_ordered" not in rules_of(second)
    assert finding(second, "quantity_vs_ordered").status == "resolved"
    run(first)
    assert rules_of(first) == set()


# Milestones --------------------------------------------------------------------------------


def test_it_flags_billing_a_milestone_not_completed_by_the_invoice_date(
    world: CheckWorld,
) -> None:
    open_one = world.invoice([LineSpec(milestone=world.open_milestone)])
    completed_later = world.invoice(
        [LineSpec(milestone=world.done)], issue_date=datetime.date(2026, 6, 19)
    )
    completed_that_day = world.invoice(
        [LineSpec(milestone=world.done)], issue_date=datetime.date(2026, 6, 20)
    )
    run(open_one, completed_later, completed_that_day)
    found = finding(open_one, "milestone_not_completed")
    assert found.compared_to == world.open_milestone
    assert found.amount_at_stake == D("5000.00")
    assert found.actual == "-"
    assert finding(completed_later, "milestone_not_completed").actual == "2026-06-20"
    assert "milestone_not_completed" not in rules_of(completed_that_day)


# Contract validity -------------------------------------------------------------------------


def _contract(world: CheckWorld, **fields: object) -> Contract:
    Contract.objects.filter(pk=world.contract.pk).update(**fields)
    world.contract.refresh_from_db()
    return world.contract


def test_it_flags_an_invoice_after_the_contract_ended(world: CheckWorld) -> None:
    _contract(world, ends_on=datetime.date(2026, 6, 30), status="expired")
    late = world.invoice([world.a("1")])
    on_the_last_day = world.invoice([world.a("1")], issue_date=datetime.date(2026, 6, 30))
    run(late, on_the_last_day)
    found = finding(late, "contract_validity")
    assert found.actual == "2026-07-01"
    assert found.compared_to == world.contract
    assert "contract_validity" not in rules_of(on_the_last_day)


def test_an_active_auto_renew_contract_is_extended_by_renewal(world: CheckWorld) -> None:
    _contract(world, ends_on=datetime.date(2026, 6, 30), auto_renew=True)
    invoice = world.invoice([world.a("1")])
    run(invoice)
    assert "contract_validity" not in rules_of(invoice)


def test_an_invoice_before_the_contract_starts_is_flagged(world: CheckWorld) -> None:
    early = world.invoice([world.a("1")], issue_date=datetime.date(2025, 12, 31))
    run(early)
    assert "contract_validity" in rules_of(early)


def test_it_flags_invoicing_on_a_terminated_contract_from_its_termination(
    world: CheckWorld,
) -> None:
    before = world.invoice([world.a("1")])
    draft = world.invoice([world.a("1")], status="draft", issue_date=None)
    world.contract.status = "terminated"
    world.contract.save()  # audited: the contract's history dates the termination (today)
    run(before, draft)
    assert "contract_validity" not in rules_of(before)
    assert "terminated" in finding(draft, "contract_validity").expected


# Cap ---------------------------------------------------------------------------------------


def test_it_flags_cumulative_billing_over_the_cap_and_a_credit_note_fixes_it(db: None) -> None:
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    world = CheckWorld(cap=D("500.00"), finance=finance)
    first = world.invoice([world.a("4")])  # 320.00
    exactly = world.invoice([world.a("2"), world.b("1")], status="draft", issue_date=None)
    run(first, exactly)  # 320 + 160 + 33.33 = 513.33
    found = finding(exactly, "contract_cap")
    assert (found.expected_value, found.actual_value) == (D("500.00"), D("513.33"))
    assert found.amount_at_stake == D("13.33")
    assert "contract_cap" in rules_of(first)
    note = services.credit_note_create(
        by=finance, invoice=first, lines=[services.CreditLine(first.lines.get(), quantity=D("1"))]
    )
    services.invoice_issue(by=finance, invoice=note, issue_date=datetime.date(2026, 7, 2))
    run(note, exactly)  # 513.33 - 80 = 433.33
    assert rules_of(first) == rules_of(exactly) == set()


# Due date ----------------------------------------------------------------------------------


def test_it_flags_a_due_date_beyond_the_payment_terms(world: CheckWorld) -> None:
    late = world.invoice([world.a("1")], due_date=datetime.date(2026, 8, 16))
    on_terms = world.invoice([world.a("2")], due_date=datetime.date(2026, 8, 15))
    run(late, on_terms)
    found = finding(late, "due_date_terms")
    assert (found.expected, found.actual) == ("2026-08-15", "2026-08-16")
    assert found.amount_at_stake == late.gross_total
    assert rules_of(on_terms) == set()


# Arithmetic --------------------------------------------------------------------------------


def test_it_flags_a_line_net_off_by_a_cent_and_keeps_half_up_rounding(world: CheckWorld) -> None:
    # 1 x 37.03 less 10% = 33.327 -> 33.33; 3 x 33.33 less 10% = 89.991 -> 89.99;
    # 0.5 x 0.01 = 0.005 -> 0.01 (half up).
    wrong = world.invoice([world.b("1", net_amount=D("33.32"), vat_amount=D("7.33"))])
    right = world.invoice(
        [
            world.b("1"),
            LineSpec(product=world.product_b, quantity=D("0.5"), unit_price=D("0.01"),
                     discount=D("10"), net_amount=D("0.00"), vat_amount=D("0.00")),
        ],
        order=None,
    )  # fmt: skip
    run(wrong, right)
    found = finding(wrong, "line_arithmetic")
    assert (found.expected_value, found.actual_value) == (D("33.33"), D("33.32"))
    # 0.5 x 0.01 x 0.9 = 0.0045 -> 0.00: not flagged; its VAT 0.00 neither.
    assert rules_of(right) == set()


def test_half_a_cent_rounds_up(world: CheckWorld) -> None:
    rounded_down = world.invoice(
        [LineSpec(product=world.product_b, quantity=D("1"), unit_price=D("0.05"),
                  discount=D("10"), net_amount=D("0.04"), vat_amount=D("0.01"))],
        order=None,
    )  # fmt: skip  # 0.045 -> 0.05 half up; VAT 22% of 0.05 = 0.011 -> 0.01
    run(rounded_down)
    found = finding(rounded_down, "line_arithmetic")
    assert (found.key, found.expected_value) == (f"{rounded_down.lines.get().pk}:net", D("0.05"))


def test_it_flags_totals_that_are_not_the_sum_of_the_lines(world: CheckWorld) -> None:
    wrong = world.invoice([world.b("1")], totals=(D("33.33"), D("7.34")))
    run(wrong)
    found = finding(wrong, "invoice_totals")
    assert (found.key, found.expected_value, found.actual_value) == ("vat", D("7.33"), D("7.34"))
    assert found.amount_at_stake == D("0.01")


# Duplicates --------------------------------------------------------------------------------


def test_it_flags_a_likely_duplicate_and_not_one_a_month_later(world: CheckWorld) -> None:
    lines = [LineSpec(product=world.product_b, unit_price=D("33.33"), discount=D("10"))]
    first = world.invoice(lines, order=None)
    again = world.invoice(lines, order=None, issue_date=JULY_1 + datetime.timedelta(days=30))
    much_later = world.invoice(lines, order=None, issue_date=JULY_1 + datetime.timedelta(days=61))
    run(first, again, much_later)
    assert finding(first, "duplicate_invoice").compared_to == again
    assert finding(again, "duplicate_invoice").key == str(first.pk)
    assert rules_of(much_later) == set()


def test_same_amount_but_other_lines_and_order_is_not_a_duplicate(world: CheckWorld) -> None:
    a = world.invoice([LineSpec(product=world.product_b, unit_price=D("33.33"), discount=D("10"))],
                      order=None)  # fmt: skip
    b = world.invoice([LineSpec(product=world.product_a, unit_price=D("33.33"), discount=D("10"))],
                      order=None)  # fmt: skip
    run(a, b)
    assert "duplicate_invoice" not in rules_of(a) | rules_of(b)


# Billed entity -----------------------------------------------------------------------------


def test_it_flags_a_billed_client_outside_the_ordering_group(world: CheckWorld) -> None:
    stranger = fiscal_client()
    subsidiary = fiscal_client(parent=world.client)
    outside = world.invoice([world.b("1")], client=stranger)
    inside = world.invoice([world.b("2")], client=subsidiary)
    run(outside, inside)
    found = finding(outside, "billed_outside_group")
    assert found.compared_to == world.order
    assert (found.expected, found.actual) == (world.client.name, stranger.name)
    assert rules_of(inside) == set()


def test_it_flags_missing_fiscal_data(world: CheckWorld) -> None:
    world.client.sdi_code = ""
    world.client.pec = "billing@client.example"
    world.client.save()
    with_pec_only = world.invoice([world.b("1")])
    run(with_pec_only)
    assert rules_of(with_pec_only) == set()  # PEC is enough
    world.client.pec = ""
    world.client.save()
    run(with_pec_only)
    found = finding(with_pec_only, "missing_fiscal_data")
    assert (found.key, found.compared_to) == ("delivery", world.client)


# Order status ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "submitted", "cancelled"])
def test_it_flags_invoicing_an_unconfirmed_or_cancelled_order(
    world: CheckWorld, status: str
) -> None:
    type(world.order).objects.filter(pk=world.order.pk).update(status=status)
    invoice = world.invoice([world.a("1")])
    run(invoice)
    found = finding(invoice, "order_not_confirmed")
    assert (found.actual, found.compared_to) == (status, world.order)
    assert found.amount_at_stake == D("80.00")


@pytest.mark.parametrize("status", ["confirmed", "in_progress", "fulfilled"])
def test_confirmed_orders_are_fine(world: CheckWorld, status: str) -> None:
    type(world.order).objects.filter(pk=world.order.pk).update(status=status)
    invoice = world.invoice([world.a("1")])
    run(invoice)
    assert rules_of(invoice) == set()


def test_lines_of_another_unconfirmed_order_are_flagged(world: CheckWorld) -> None:
    other = OrderFactory(client=world.client, contract=world.contract, status="draft")
    other_line = type(world.line_a).objects.create(
        order=other, product=world.product_a, quantity=D("1"), unit_price=D("80.00"),
        vat_rate=D("22.00"),
    )  # fmt: skip
    invoice = world.invoice([world.a("1"), LineSpec(order_line=other_line)])
    run(invoice)
    assert finding(invoice, "order_not_confirmed").key == str(other.pk)


# Upsert, resolve, override -----------------------------------------------------------------


def test_running_twice_gives_the_same_findings(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("12", unit_price=D("85.00"))])
    first = run(invoice)
    rows = list(CheckFinding.objects.values_list("pk", "rule", "key", "status", "first_seen_at"))
    second = run(invoice)
    assert rows == list(
        CheckFinding.objects.values_list("pk", "rule", "key", "status", "first_seen_at")
    )
    assert first["created"] == len(rows) == 4
    assert second["created"] == 0
    assert second["resolved"] == 0


def test_a_finding_that_no_longer_holds_is_resolved_and_reopens_if_it_returns(
    world: CheckWorld,
) -> None:
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    invoice = world.invoice([world.a("1", unit_price=D("85.00"))], status="draft", issue_date=None)
    run(invoice)
    line = invoice.lines.get()
    line.unit_price = D("80.00")
    services.invoice_line_save(by=finance, line=line)
    run(invoice)
    found = finding(invoice, "price_vs_contract")
    assert found.status == "resolved"
    assert found.resolved_at is not None
    invoice.refresh_from_db()
    assert invoice.check_status == "clean"
    line.unit_price = D("90.00")
    services.invoice_line_save(by=finance, line=line)
    run(invoice)
    found.refresh_from_db()
    assert (found.status, found.resolved_at, found.actual_value) == ("open", None, D("90.00"))
    assert CheckFinding.objects.filter(invoice=invoice, rule="price_vs_contract").count() == 1


def test_an_overridden_finding_stays_overridden_until_its_values_change(
    world: CheckWorld,
) -> None:
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    invoice = world.invoice([world.a("1", unit_price=D("85.00"))], status="draft", issue_date=None)
    run(invoice)
    for found in CheckFinding.objects.filter(invoice=invoice):
        services.finding_override(by=finance, finding=found, reason="Agreed by phone")
    run(invoice)
    invoice.refresh_from_db()
    assert rules_of(invoice, "overridden") == {"price_vs_contract", "price_vs_order"}
    assert invoice.check_status == "approved"
    line = invoice.lines.get()
    line.unit_price = D("86.00")
    services.invoice_line_save(by=finance, line=line)
    run(invoice)
    reopened = finding(invoice, "price_vs_contract")
    assert (reopened.status, reopened.override_reason, reopened.overridden_by) == ("open", "", None)
    invoice.refresh_from_db()
    assert invoice.check_status == "flagged"


def test_issuing_is_refused_while_error_findings_are_open(world: CheckWorld) -> None:
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    invoice = world.invoice([world.a("1", unit_price=D("85.00"))], status="draft", issue_date=None)
    run(invoice)
    with pytest.raises(InvoiceNotIssuableError):
        services.invoice_issue(by=finance, invoice=invoice, issue_date=JULY_1)
    invoice.refresh_from_db()
    assert invoice.status == "draft"
    assert invoice.number is None
    for found in CheckFinding.objects.filter(invoice=invoice):
        services.finding_override(by=finance, finding=found, reason="Price agreed in writing")
    issued = services.invoice_issue(by=finance, invoice=invoice, issue_date=JULY_1)
    assert issued.number is not None


def test_paid_and_cancelled_invoices_are_not_checked(world: CheckWorld) -> None:
    paid = world.invoice([world.a("1", unit_price=D("85.00"))], status="paid")
    Invoice.objects.filter(pk=paid.pk).update(amount_paid=paid.gross_total)
    assert run(paid)["checked"] == 0
    assert not CheckFinding.objects.filter(invoice=paid).exists()


# New errors notify -------------------------------------------------------------------------


def test_new_error_findings_notify_finance_and_the_nam_once(world: CheckWorld) -> None:
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    invoice = world.invoice([world.a("1", unit_price=D("85.00"))])
    run(invoice)
    run(invoice)
    notified = Notification.objects.filter(kind="invoice_finding")
    errors = CheckFinding.objects.filter(invoice=invoice, severity="error")
    assert set(notified.values_list("user_id", flat=True)) == {finance.pk, world.nam.pk}
    assert notified.count() == 2 * errors.count()
    assert {n.target for n in notified} == set(errors)


def test_warnings_notify_nobody(world: CheckWorld) -> None:
    UserFactory(username="finance", roles=[Role.FINANCE])
    invoice = world.invoice([world.a("1")], due_date=datetime.date(2026, 9, 1))
    run(invoice)
    assert rules_of(invoice) == {"due_date_terms"}
    assert not Notification.objects.exists()


# Messages ----------------------------------------------------------------------------------


def test_a_finding_reads_in_the_viewers_language(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("1", unit_price=D("1085.50"))], order=None)
    run(invoice)
    found = finding(invoice, "price_vs_contract")
    with translation.override("en"):
        english = checks.display_message(found)
    with translation.override("it"):
        italian = checks.display_message(found)
    assert "1,085.50 EUR" in english or "1085.50 EUR" in english
    assert "1.085,50 EUR" in italian or "1085,50 EUR" in italian
    assert found.message == english


def test_a_finding_of_a_rule_that_is_gone_shows_its_stored_message(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("1")])
    gone = CheckFinding.objects.create(
        invoice=invoice, rule="retired_rule", key="x", severity="warning", message="Kept text."
    )
    assert checks.display_message(gone) == "Kept text."


# The book: batch vs one by one, query counts -------------------------------------------------


def _snapshot() -> set[tuple]:
    return set(
        CheckFinding.objects.values_list(
            "invoice_id", "line_id", "rule", "key", "severity", "expected", "actual",
            "expected_value", "actual_value", "amount_at_stake", "compared_to_type_id",
            "compared_to_id", "status",
        )
    )  # fmt: skip


@pytest.mark.django_db
def test_the_nightly_batch_finds_what_checks_one_by_one_find() -> None:
    book = build_check_book(2)
    assert len(book.invoices) >= 30
    for invoice in book.invoices:
        checks.check_invoices([invoice.pk], today=TODAY)
    one_by_one = _snapshot()
    statuses = dict(Invoice.objects.values_list("pk", "check_status"))
    CheckFinding.objects.all().delete()
    Invoice.objects.update(check_status="unchecked")
    checks.check_open_book(today=TODAY)
    assert _snapshot() == one_by_one
    assert dict(Invoice.objects.values_list("pk", "check_status")) == statuses
    for invoice in book.invoices:
        assert rules_of(invoice) == book.expected[invoice.pk], invoice
        assert statuses[invoice.pk] == ("flagged" if book.expected[invoice.pk] else "clean")


@pytest.mark.django_db
def test_the_check_costs_the_same_queries_for_3_and_for_30_invoices() -> None:
    UserFactory(username="finance", roles=[Role.FINANCE])
    book = build_check_book(2)
    small = [pk for pk in book.ids if book.expected[pk]][:3]
    with CaptureQueriesContext(connection) as few:
        checks.check_invoices(small, today=TODAY)
    CheckFinding.objects.all().delete()
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as many:
        checks.check_invoices(book.ids, today=TODAY)
    assert len(few) == len(many)
    assert len(many) <= len(checks.RULES) + 15


# Tasks -------------------------------------------------------------------------------------


def test_the_invoice_task_checks_and_is_idempotent(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("1", unit_price=D("85.00"))])
    tasks.invoice_check.run([invoice.pk])
    tasks.invoice_check.run([invoice.pk])
    assert CheckFinding.objects.filter(invoice=invoice).count() == 2
    invoice.refresh_from_db()
    assert invoice.check_status == "flagged"


def test_the_nightly_task_checks_the_open_book_and_is_idempotent(world: CheckWorld) -> None:
    invoice = world.invoice([world.a("1", unit_price=D("85.00"))])
    first = tasks.invoice_check_nightly.run()
    second = tasks.invoice_check_nightly.run()
    assert first["created"] == 2
    assert second["created"] == 0
    assert CheckFinding.objects.filter(invoice=invoice, status="open").count() == 2


def test_the_nightly_check_is_scheduled() -> None:
    from accounts_crm.celery import app

    entry = app.conf.beat_schedule["invoice-check-nightly"]
    assert entry["task"] == "billing.tasks.invoice_check_nightly"


def test_services_enqueue_a_check_that_the_task_runs(
    world: CheckWorld, sent_checks: list[list[int]], django_capture_on_commit_callbacks: object
) -> None:
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.invoice_from_order(by=finance, order=world.order)
    assert sent_checks == [[invoice.pk]]
    tasks.invoice_check.run(sent_checks[0])
    invoice.refresh_from_db()
    assert invoice.check_status in ("clean", "flagged")
    assert invoice.check_status == ("flagged" if rules_of(invoice) else "clean")


def test_the_nightly_task_retries_only_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from celery.exceptions import Retry
    from django.db import OperationalError

    def unreachable(**kwargs: object) -> None:
        raise OperationalError("connection refused")

    def broken(**kwargs: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(checks, "check_open_book", unreachable)
    monkeypatch.setattr(tasks.invoice_check_nightly, "retry", lambda **kw: Retry())
    with pytest.raises(Retry):
        tasks.invoice_check_nightly.run()
    monkeypatch.setattr(checks, "check_open_book", broken)
    with pytest.raises(ValueError, match="a bug"):
        tasks.invoice_check_nightly.run()
