"""Every constraint and trigger of billing/models.py, violated once; and the rounding rule."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from billing.models import CheckFinding, Invoice, InvoiceLine
from tests.factories import (
    CheckFindingFactory,
    CreditNoteFactory,
    FindingCommentFactory,
    InvoiceCounterFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    PaymentFactory,
)

D = Decimal
DAY = datetime.date(2026, 3, 10)


def violates(constraint: str, write: Callable[[], object]) -> None:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    assert caught.value.__cause__.diag.constraint_name == constraint


def _issued(**fields: object) -> Invoice:
    """An invoice in the issued state written straight (the numbering is the services' job)."""
    number = fields.pop("number", 1)
    invoice = InvoiceFactory(**fields)
    InvoiceLineFactory(invoice=invoice)
    Invoice.objects.filter(pk=invoice.pk).update(
        status="issued", number=number, year=2026, issue_date=DAY,
        due_date=DAY, net_total=D("100.00"), vat_total=D("22.00"), gross_total=D("122.00"),
    )  # fmt: skip
    invoice.refresh_from_db()
    return invoice


INVOICE_UPDATES = [
    ({"kind": "proforma"}, "invoice_kind_valid"),
    ({"status": "sent", "number": 1, "year": 2026, "issue_date": DAY}, "invoice_status_valid"),
    ({"check_status": "maybe"}, "invoice_check_status_valid"),
    ({"kind": "credit_note"}, "invoice_credits_only_on_credit_notes"),
    ({"number": 7}, "invoice_number_iff_issued"),
    ({"status": "issued"}, "invoice_number_iff_issued"),
    ({"issue_date": DAY, "due_date": DAY - datetime.timedelta(days=1)}, "invoice_due_after_issue"),
    ({"net_total": D("10.00"), "vat_total": D("2.20"), "gross_total": D("12.21")},
     "invoice_totals_consistent"),
    ({"net_total": D("-10.00"), "vat_total": D("10.00"), "gross_total": D("0")},
     "invoice_totals_consistent"),
    ({"amount_paid": D("0.01")}, "invoice_paid_within_total"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "constraint"), INVOICE_UPDATES)
def test_it_refuses_an_invalid_invoice(fields: dict, constraint: str) -> None:
    invoice = InvoiceFactory()
    violates(constraint, lambda: Invoice.objects.filter(pk=invoice.pk).update(**fields))


@pytest.mark.django_db
def test_it_requires_the_year_of_the_issue_date_on_issued_invoices() -> None:
    invoice = _issued()
    with pytest.raises(DatabaseError), transaction.atomic():
        # The immutability trigger fires first on issued rows: check the draft path instead.
        Invoice.objects.filter(pk=invoice.pk).update(year=2025)
    draft = InvoiceFactory()
    violates(
        "invoice_number_iff_issued",
        lambda: Invoice.objects.filter(pk=draft.pk).update(
            status="issued", number=3, year=2025, issue_date=DAY
        ),
    )


@pytest.mark.django_db
def test_a_credit_note_needs_the_invoice_it_corrects() -> None:
    violates("invoice_credits_only_on_credit_notes", lambda: CreditNoteFactory(credits=None))


@pytest.mark.django_db
def test_an_invoice_cannot_credit_another() -> None:
    other = InvoiceFactory()
    violates("invoice_credits_only_on_credit_notes", lambda: InvoiceFactory(credits=other))


@pytest.mark.django_db
def test_numbers_are_unique_per_series_and_year() -> None:
    first = _issued(number=1)
    second = InvoiceFactory(client=first.client)
    InvoiceLineFactory(invoice=second)
    update = {"status": "issued", "number": 1, "year": 2026, "issue_date": DAY}
    violates("invoice_number_unique", lambda: Invoice.objects.filter(pk=second.pk).update(**update))
    # Another series or year may reuse the number.
    Invoice.objects.filter(pk=second.pk).update(**update, series="FX")


@pytest.mark.django_db
def test_full_clean_gives_the_constraint_message() -> None:
    invoice = InvoiceFactory.build(
        client=InvoiceFactory().client, issue_date=DAY, due_date=DAY - datetime.timedelta(1)
    )
    invoice.created_by = invoice.client.team.lead
    with pytest.raises(ValidationError, match="due date cannot be before the issue date"):
        invoice.full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [({"discount": D("150")}, "discount is between 0 and 100%."),
     ({"vat_rate": D("122")}, "VAT rate is between 0 and 100%.")],
)  # fmt: skip
def test_the_percentage_range_constraints_say_so_in_words(fields: dict, message: str) -> None:
    # The field validators usually answer first; the constraints' own messages must still render.
    line = InvoiceLineFactory()
    for name, value in fields.items():
        setattr(line, name, value)
    with pytest.raises(ValidationError) as caught:
        line.validate_constraints()
    assert message in " ".join(caught.value.messages)


LINE_UPDATES = [
    ({"quantity": D("0")}, "invoice_line_quantity_positive"),
    ({"quantity": D("-1")}, "invoice_line_quantity_positive"),
    ({"unit_price": D("-0.01")}, "invoice_line_price_not_negative"),
    ({"discount": D("100.01")}, "invoice_line_discount_range"),
    ({"discount": D("-1")}, "invoice_line_discount_range"),
    ({"vat_rate": D("101")}, "invoice_line_vat_rate_range"),
    ({"vat_rate": D("0")}, "invoice_line_vat_nature_iff_zero_rate"),
    ({"vat_nature": "N4"}, "invoice_line_vat_nature_iff_zero_rate"),
    ({"net_amount": D("-1")}, "invoice_line_amounts_not_negative"),
    ({"vat_amount": D("-1")}, "invoice_line_amounts_not_negative"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "constraint"), LINE_UPDATES)
def test_it_refuses_an_invalid_line(fields: dict, constraint: str) -> None:
    line = InvoiceLineFactory()
    violates(constraint, lambda: InvoiceLine.objects.filter(pk=line.pk).update(**fields))


@pytest.mark.django_db
def test_a_zero_rate_line_with_a_nature_is_fine() -> None:
    line = InvoiceLineFactory(vat_rate=D("0"), vat_nature="N3.1")
    assert line.vat_amount == D("0.00")


@pytest.mark.django_db
def test_a_line_bills_an_order_line_or_a_milestone_not_both() -> None:
    from tests.factories import MilestoneFactory, OrderLineFactory

    violates(
        "invoice_line_bills_one_thing",
        lambda: InvoiceLineFactory(order_line=OrderLineFactory(), milestone=MilestoneFactory()),
    )


@pytest.mark.django_db
def test_payment_constraints() -> None:
    violates("payment_amount_positive", lambda: PaymentFactory(amount=D("0")))
    violates("payment_method_valid", lambda: PaymentFactory(method="bitcoin"))


@pytest.mark.django_db
def test_one_counter_per_series_and_year() -> None:
    InvoiceCounterFactory(series="FV", year=2026)
    InvoiceCounterFactory(series="FV", year=2027)
    violates("invoice_counter_unique", lambda: InvoiceCounterFactory(series="FV", year=2026))


FINDING_UPDATES = [
    ({"severity": "fatal"}, "finding_severity_valid"),
    ({"status": "ignored"}, "finding_status_valid"),
    ({"status": "overridden"}, "finding_override_has_reason"),
    ({"status": "resolved"}, "finding_resolved_at_iff_resolved"),
    ({"resolved_at": timezone.now()}, "finding_resolved_at_iff_resolved"),
    ({"compared_to_id": 5}, "finding_compared_to_complete"),
    ({"amount_at_stake": D("-1")}, "finding_amount_at_stake_not_negative"),
    ({"last_seen_at": timezone.now() - datetime.timedelta(days=1)}, "finding_seen_in_order"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "constraint"), FINDING_UPDATES)
def test_it_refuses_an_invalid_finding(fields: dict, constraint: str) -> None:
    finding = CheckFindingFactory()
    violates(constraint, lambda: CheckFinding.objects.filter(pk=finding.pk).update(**fields))


@pytest.mark.django_db
def test_an_override_with_reason_person_and_time_is_fine(finance: object) -> None:
    finding = CheckFindingFactory()
    CheckFinding.objects.filter(pk=finding.pk).update(
        status="overridden", override_reason="Agreed by phone", overridden_by=finance,
        overridden_at=timezone.now(),
    )  # fmt: skip
    violates(
        "finding_override_has_reason",
        lambda: CheckFinding.objects.filter(pk=finding.pk).update(override_reason=""),
    )


@pytest.mark.django_db
def test_one_finding_per_invoice_rule_and_subject() -> None:
    finding = CheckFindingFactory(key="12")
    CheckFindingFactory(invoice=finding.invoice, rule=finding.rule, key="13")
    violates(
        "finding_unique_per_subject",
        lambda: CheckFindingFactory(invoice=finding.invoice, rule=finding.rule, key="12"),
    )


@pytest.mark.django_db
def test_a_finding_points_at_what_it_was_compared_with() -> None:
    line = InvoiceLineFactory()
    finding = CheckFindingFactory(
        invoice=line.invoice,
        compared_to_type=ContentType.objects.get_for_model(InvoiceLine),
        compared_to_id=line.pk,
    )
    assert finding.compared_to == line


@pytest.mark.django_db
def test_a_comment_needs_text() -> None:
    violates("finding_comment_not_empty", lambda: FindingCommentFactory(text=""))


# Immutability of issued invoices: the database refuses even a raw update ------------------


@pytest.mark.django_db
def test_the_database_refuses_changing_an_issued_invoice() -> None:
    invoice = _issued()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(due_date=DAY + datetime.timedelta(days=9))
    with (
        pytest.raises(DatabaseError, match="cannot be deleted"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk])
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).delete()  # its lines go first, and are refused
    # What moves after issuing still moves.
    Invoice.objects.filter(pk=invoice.pk).update(
        status="paid", amount_paid=D("122.00"), check_status="clean", notes="Paid by wire"
    )


@pytest.mark.django_db
def test_the_database_refuses_touching_lines_of_an_issued_invoice() -> None:
    invoice = _issued()
    line = invoice.lines.get()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(unit_price=D("1.00"))
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).delete()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceLineFactory(invoice=invoice)
    draft = InvoiceFactory(client=invoice.client)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(invoice=draft)


@pytest.mark.django_db
def test_save_refuses_changing_an_issued_invoice() -> None:
    invoice = _issued()
    invoice.due_date = DAY + datetime.timedelta(days=30)
    with pytest.raises(ValidationError, match="issued invoice cannot be changed"):
        invoice.save()
    invoice.refresh_from_db()
    invoice.notes = "A note may still be added"
    invoice.save()


# The rounding rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "discount", "rate", "net", "vat"),
    [
        ("3", "33.33", "10", "22", "89.99", "19.80"),  # 89.991 -> 89.99; 19.7978 -> 19.80
        ("1", "0.125", "0", "22", "0.13", "0.03"),  # half up at the cent
        ("2", "10.005", "0", "10", "20.01", "2.00"),  # 20.01 x 10% = 2.001
        ("1", "100", "0", "0", "100.00", "0.00"),
    ],
)
def test_the_rounding_rule(
    quantity: str, price: str, discount: str, rate: str, net: str, vat: str
) -> None:
    line = InvoiceLine(quantity=D(quantity), unit_price=D(price), discount=D(discount),
                       vat_rate=D(rate))  # fmt: skip
    line.compute_amounts()
    assert (line.net_amount, line.vat_amount) == (D(net), D(vat))


@pytest.mark.django_db
def test_bulk_loaders_may_write_issued_invoices_inside_the_documented_escape() -> None:
    import pgtrigger

    from billing.models import IMMUTABILITY_TRIGGERS

    invoice = _issued()
    with pgtrigger.ignore(*IMMUTABILITY_TRIGGERS):
        InvoiceLineFactory(invoice=invoice)
        Invoice.objects.filter(pk=invoice.pk).update(net_total=D("200.00"), gross_total=D("222.00"))
    assert invoice.lines.count() == 2
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        InvoiceLineFactory(invoice=invoice)
