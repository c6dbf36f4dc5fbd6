"""The exchange system's own checks (billing/sdi_rules.py): each rule on a document that passes
and on one that fails, the documents built from invoices, and the hook into the invoice checks."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import pytest

from billing import fatturapa, sdi_rules, services
from billing.fatturapa import Document, Line, Party, Summary
from billing.models import EInvoiceExport, InvoiceLine
from tests.factories import ClientFactory, InvoiceFactory, SellerProfileFactory


def line(number: int = 1, *, quantity: str = "2", price: str = "50.00", total: str = "100.00",
         rate: str = "22.00", nature: str = "", discount: str = "0") -> Line:  # fmt: skip
    return Line(
        number=number, description=f"Line {number}", quantity=Decimal(quantity),
        unit_price=Decimal(price), discount=Decimal(discount), total=Decimal(total),
        vat_rate=Decimal(rate), nature=nature, line_id=number,
    )  # fmt: skip


def summary(*, rate: str = "22.00", nature: str = "", taxable: str = "100.00",
            tax: str = "22.00") -> Summary:  # fmt: skip
    return Summary(
        vat_rate=Decimal(rate), nature=nature, taxable=Decimal(taxable), tax=Decimal(tax),
        esigibilita="I" if not nature else "",
    )  # fmt: skip


EXEMPT = {"rate": "0.00", "nature": "N4", "taxable": "40.00", "tax": "0.00"}


def document(**changes: object) -> Document:
    """A document every rule accepts: 2 x 50.00 at 22%, one exempt line of 40.00 (N4)."""
    values = {
        "invoice_id": 1, "document_type": "TD01", "number": "FV-2026/00001",
        "date": datetime.date(2026, 3, 10), "currency": "EUR", "seller_id": "IT01234560017",
        "buyer": Party(name="Buyer S.p.A.", country="IT", vat_number="07654320154",
                       tax_code="", street="Via Roma 1", postal_code="00184", city="Roma",
                       province="RM"),
        "recipient_code": "M5UXCR1", "pec": "",
        "lines": [line(1), line(2, quantity="1", price="40.00", total="40.00", rate="0.00",
                                nature="N4")],
        "summaries": [summary(), summary(rate="0.00", nature="N4", taxable="40.00", tax="0.00")],
    }  # fmt: skip
    values.update(changes)
    return Document(**values)


def codes(documents: list[Document], exported: dict | None = None) -> list[str]:
    return [finding.code for finding in sdi_rules.run(documents, exported=exported)]


def test_a_correct_document_has_no_finding() -> None:
    assert codes([document()]) == []


# 00423 line total ----------------------------------------------------------------------------


def test_00423_flags_a_line_total_that_is_not_price_times_quantity() -> None:
    doc = document(lines=[line(total="100.02")], summaries=[summary(taxable="100.02")])

    [finding] = sdi_rules.line_total([doc], {})

    assert (finding.code, finding.key, finding.expected, finding.actual) == (
        "00423", "line:1", Decimal("100.00"), Decimal("100.02")
    )  # fmt: skip
    assert finding.line_id == 1


def test_00423_accepts_a_cent_and_the_percent_discount() -> None:
    lines = [
        line(1, total="100.01"),
        line(2, quantity="3", price="33.33", discount="10", total="89.99"),
    ]

    assert sdi_rules.line_total([document(lines=lines)], {}) == []


# 00422 taxable per rate ----------------------------------------------------------------------


def test_00422_flags_a_taxable_amount_more_than_one_euro_off_its_lines() -> None:
    doc = document(summaries=[summary(taxable="101.01", tax="22.22"),
                              summary(**EXEMPT)])  # fmt: skip

    assert [f.code for f in sdi_rules.taxable_per_rate([doc], {})] == ["00422"]


def test_00422_accepts_up_to_one_euro_and_counts_the_rounding() -> None:
    off_by_one = document(summaries=[summary(taxable="101.00", tax="22.22"),
                                     summary(**EXEMPT)])  # fmt: skip
    rounded = summary(taxable="103.00", tax="22.66")
    rounded.rounding = Decimal("2.50")
    with_rounding = document(summaries=[rounded, summary(**EXEMPT)])  # fmt: skip

    assert sdi_rules.taxable_per_rate([off_by_one, with_rounding], {}) == []


# 00421 tax per rate -------------------------------------------------------------------------


def test_00421_flags_a_tax_that_is_not_taxable_times_rate() -> None:
    doc = document(summaries=[summary(tax="22.02"),
                              summary(**EXEMPT)])  # fmt: skip

    [finding] = sdi_rules.tax_per_rate([doc], {})

    assert (finding.code, finding.expected, finding.actual) == (
        "00421", Decimal("22.00"), Decimal("22.02")
    )  # fmt: skip


def test_00421_rounds_half_up_and_accepts_a_cent() -> None:
    # 10.25 x 22% = 2.255 -> 2.26 half up (2.25 would be half even, still within a cent).
    half_up = document(lines=[line(quantity="1", price="10.25", total="10.25")],
                       summaries=[summary(taxable="10.25", tax="2.26")])  # fmt: skip
    a_cent = document(summaries=[summary(tax="22.01"),
                                 summary(**EXEMPT)])  # fmt: skip

    assert sdi_rules.tax_per_rate([half_up, a_cent], {}) == []


# 00419 a summary row per rate ---------------------------------------------------------------


def test_00419_flags_a_rate_without_its_summary_row() -> None:
    doc = document(summaries=[summary()])

    [finding] = sdi_rules.summary_per_rate([doc], {})

    assert (finding.code, finding.expected) == ("00419", "0.00% N4")


def test_00419_passes_with_a_row_per_rate_and_nature() -> None:
    assert sdi_rules.summary_per_rate([document()], {}) == []


# 00400 / 00401 / 00429 / 00430 nature codes ---------------------------------------------------


def test_00400_flags_a_zero_rate_line_without_nature() -> None:
    doc = document(lines=[line(1), line(2, quantity="1", price="40.00", total="40.00",
                                        rate="0.00")])  # fmt: skip

    assert [f.code for f in sdi_rules.line_nature([doc], {})] == ["00400"]


def test_00401_flags_a_nature_on_a_taxed_line() -> None:
    exempt = line(2, quantity="1", price="40.00", total="40.00", rate="0.00", nature="N4")
    doc = document(lines=[line(1, nature="N4"), exempt])

    assert [f.code for f in sdi_rules.line_nature([doc], {})] == ["00401"]


def test_line_natures_pass_exactly_at_rate_zero() -> None:
    assert sdi_rules.line_nature([document()], {}) == []


def test_00429_flags_a_zero_rate_summary_without_nature() -> None:
    doc = document(summaries=[summary(), summary(rate="0.00", taxable="40.00", tax="0.00")])

    assert [f.code for f in sdi_rules.summary_nature([doc], {})] == ["00429"]


def test_00430_flags_a_nature_on_a_taxed_summary() -> None:
    doc = document(summaries=[summary(nature="N4"),
                              summary(**EXEMPT)])  # fmt: skip

    assert [f.code for f in sdi_rules.summary_nature([doc], {})] == ["00430"]


def test_summary_natures_pass_exactly_at_rate_zero() -> None:
    assert sdi_rules.summary_nature([document()], {}) == []


# 00417 buyer identified ----------------------------------------------------------------------


def test_00417_flags_a_buyer_without_vat_number_or_tax_code() -> None:
    buyer = dataclasses.replace(document().buyer, vat_number="", tax_code="")

    assert [f.code for f in sdi_rules.buyer_identified([document(buyer=buyer)], {})] == ["00417"]


@pytest.mark.parametrize(("vat", "tax_code"), [("07654320154", ""), ("", "RSSMRA80A01H501U")])
def test_00417_passes_with_either_identifier(vat: str, tax_code: str) -> None:
    buyer = dataclasses.replace(document().buyer, vat_number=vat, tax_code=tax_code)

    assert sdi_rules.buyer_identified([document(buyer=buyer)], {}) == []


# 00426 / 00427 recipient code and PEC ---------------------------------------------------------


def test_00426_flags_a_pec_with_a_recipient_code() -> None:
    doc = document(pec="buyer@pec.example.it")

    assert [f.code for f in sdi_rules.recipient_code([doc], {})] == ["00426"]


@pytest.mark.parametrize("code", ["ABC123", "ABCD1234", ""])
def test_00427_flags_a_recipient_code_that_is_not_seven_characters(code: str) -> None:
    assert [f.code for f in sdi_rules.recipient_code([document(recipient_code=code)], {})] == [
        "00427"
    ]


@pytest.mark.parametrize(
    ("code", "pec"),
    [("M5UXCR1", ""), ("0000000", "buyer@pec.example.it"), ("0000000", ""), ("XXXXXXX", "")],
)
def test_recipient_code_and_pec_pass_when_consistent(code: str, pec: str) -> None:
    assert sdi_rules.recipient_code([document(recipient_code=code, pec=pec)], {}) == []


# 00404 duplicate number ----------------------------------------------------------------------


def test_00404_flags_two_documents_with_one_number_in_one_year() -> None:
    first, second = document(invoice_id=1), document(invoice_id=2)

    assert codes([first, second]) == ["00404", "00404"]


def test_00404_flags_a_number_already_exported_for_another_invoice() -> None:
    exported = {("IT01234560017", 2026, "FV-2026/00001"): 99}

    assert codes([document(invoice_id=1)], exported) == ["00404"]


def test_00404_passes_other_years_sellers_and_the_same_invoice_again() -> None:
    other_year = document(invoice_id=2, date=datetime.date(2025, 3, 10))
    other_seller = document(invoice_id=3, seller_id="IT07654320154")
    exported = {("IT01234560017", 2026, "FV-2026/00001"): 1}

    assert codes([document(invoice_id=1), other_year, other_seller], exported) == []


def test_exported_numbers_come_from_other_invoices_files(db: None, finance: object) -> None:
    seller = SellerProfileFactory()
    client = ClientFactory(vat_number="07654320154", sdi_code="M5UXCR1")
    exported_invoice = _issued(finance, client)
    this_invoice = _issued(finance, client)
    EInvoiceExport.objects.create(
        invoice=exported_invoice, seller_prefix=seller.file_prefix, progressive=1,
        file_name="IT01234560017_00001.xml", document_type="TD01", xml="<x/>", sha256="0" * 64,
        validation="valid", created_by=finance,
    )  # fmt: skip
    docs = fatturapa.build_documents([this_invoice], seller=seller)

    assert sdi_rules.exported_numbers(docs) == {
        ("IT01234560017", exported_invoice.year, exported_invoice.display_number):
            exported_invoice.pk
    }  # fmt: skip


# From invoices ------------------------------------------------------------------------------


def _issued(finance: object, client: object, *lines: tuple[str, str, str]) -> object:
    invoice = InvoiceFactory(client=client, created_by=finance)
    for price, rate, nature in lines or [("100.00", "22.00", "")]:
        services.invoice_line_save(
            by=finance,
            line=InvoiceLine(invoice=invoice, description="Servizio", quantity=Decimal("1"),
                             unit_price=Decimal(price), vat_rate=Decimal(rate),
                             vat_nature=nature),
        )  # fmt: skip
    return services.invoice_issue(by=finance, invoice=invoice)


def test_invoice_findings_read_the_invoices_in_a_fixed_number_of_queries(
    db: None, finance: object, django_assert_num_queries: object
) -> None:
    SellerProfileFactory()
    identified = ClientFactory(vat_number="07654320154", sdi_code="M5UXCR1")
    anonymous = ClientFactory()
    invoices = [_issued(finance, identified) for _ in range(3)] + [_issued(finance, anonymous)]

    # Seller, invoices with clients, lines, files already exported: 4 whatever the count.
    with django_assert_num_queries(4):
        found = sdi_rules.invoice_findings([invoice.pk for invoice in invoices])

    assert [(f.code, f.invoice_id) for f in found] == [("00417", invoices[-1].pk)]


def test_invoice_findings_check_drafts_dated_today(db: None, finance: object) -> None:
    draft = InvoiceFactory(client=ClientFactory(vat_number="07654320154"), created_by=finance)
    services.invoice_line_save(
        by=finance,
        line=InvoiceLine(invoice=draft, description="x", quantity=Decimal("4"),
                         unit_price=Decimal("0.25"), vat_rate=Decimal("22.00")),
    )  # fmt: skip

    found = sdi_rules.invoice_findings([draft.pk], today=datetime.date(2026, 5, 1))

    # Rounding the VAT of 1.00 per line (0.22) is right; no seller profile needed for checks.
    assert [f.code for f in found] == []


def test_register_with_checks_adds_one_rule_to_the_invoice_checks(
    db: None, finance: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = pytest.importorskip("billing.checks")
    monkeypatch.setattr(checks, "RULES", dict(checks.RULES))
    monkeypatch.setattr(sdi_rules, "_registered", [])
    invoice = _issued(finance, ClientFactory())

    rule_class = sdi_rules.register_with_checks()

    assert sdi_rules.register_with_checks() is rule_class
    rule = checks.rule_for("sdi")
    [row] = rule.rows([invoice.pk])
    assert (row.invoice_id, row.key, row.subject) == (
        invoice.pk, "00417:buyer", "SdI 00417, buyer identifier"
    )  # fmt: skip
    assert rule.rows([]) == []
