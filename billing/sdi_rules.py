"""The exchange system's (SdI) own checks of a FatturaPA file, as pure functions over
billing.fatturapa.Document values, each with the SdI error code it mirrors.

Every rule takes ALL the documents at once (`rule.check(documents, exported)`) and returns its
findings; nothing here reads the database except `exported_numbers` (one query) and the
adapters at the bottom. So a rule can be tested on any document, built from an invoice or by
hand, and a batch costs the same queries for 1 invoice as for 10,000.

| code  | what the exchange system refuses                                                   |
| 00423 | a line's PrezzoTotale differs from PrezzoUnitario x Quantita less its discount by  |
|       | more than 0.01                                                                     |
| 00422 | a summary row's ImponibileImporto differs from the sum of the PrezzoTotale of its  |
|       | lines (same rate and nature) plus its Arrotondamento by more than 1.00             |
| 00421 | a summary row's Imposta differs from ImponibileImporto x AliquotaIVA / 100         |
|       | (rounded half up to the cent) by more than 0.01                                    |
| 00419 | a rate (and nature) of the lines has no summary row                                |
| 00400 | a line at rate 0 without Natura          | 00401 | a line with Natura at a rate > 0 |
| 00429 | a summary row at rate 0 without Natura   | 00430 | a summary row with Natura at > 0 |
| 00417 | the buyer has neither IdFiscaleIVA nor CodiceFiscale                               |
| 00426 | PECDestinatario given with a CodiceDestinatario other than 0000000                 |
| 00427 | a CodiceDestinatario that is not 7 characters (FPR12)                              |
| 00404 | a duplicate: the same seller, year and Numero twice in the batch or already        |
|       | exported for another invoice                                                       |

Re-exporting the SAME invoice is not a duplicate here: a file the exchange system discarded is
sent again with the same number (we do not track the system's receipts).

The invoice checks (billing/checks.py) can run these rules too: `register_with_checks()` adds
one rule "sdi" to that registry (findings keyed "<SdI code>:<subject>"), meant to be called from
billing/apps.py `ready()`, so SdI findings appear in the review queue like every other finding.
Independently, an export refuses an invoice with any SdI finding (billing/fatturapa.py).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing.fatturapa import Document

CENT = Decimal("0.01")
LINE_TOLERANCE = CENT  # 00423
TAXABLE_TOLERANCE = Decimal("1.00")  # 00422
TAX_TOLERANCE = CENT  # 00421
RECIPIENT_CODE_LENGTH = 7
PEC_RECIPIENT_CODE = "0000000"


@dataclass(frozen=True)
class SdiFinding:
    code: str
    invoice_id: int | None
    number: str
    key: str
    subject: str
    expected: Any
    actual: Any
    line_number: int | None = None
    line_id: int | None = None

    def __str__(self) -> str:
        return gettext(
            "%(number)s: SdI %(code)s, %(subject)s (expected %(expected)s, found %(actual)s)"
        ) % {
            "number": self.number,
            "code": self.code,
            "subject": self.subject,
            "expected": self.expected,
            "actual": self.actual,
        }


Exported = dict[tuple[str, int, str], int]  # (seller id, year, number) -> invoice id


@dataclass(frozen=True)
class SdiRule:
    code: str
    title: Any
    check: Callable[[Sequence[Document], Exported], list[SdiFinding]]


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _finding(doc: Document, code: str, key: str, subject: str, expected: Any, actual: Any,
             line: Any = None) -> SdiFinding:  # fmt: skip
    return SdiFinding(
        code=code, invoice_id=doc.invoice_id, number=doc.number, key=key, subject=subject,
        expected=expected, actual=actual,
        line_number=line.number if line is not None else None,
        line_id=line.line_id if line is not None else None,
    )  # fmt: skip


def _row_label(rate: Decimal, nature: str) -> str:
    label = f"{rate:.2f}%"
    return f"{label} {nature}" if nature else label


def line_total(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00423: PrezzoTotale = PrezzoUnitario x Quantita less the percent discount, within 0.01."""
    found = []
    for doc in documents:
        for line in doc.lines:
            expected = line.unit_price * line.quantity * (100 - line.discount) / 100
            if abs(line.total - expected) > LINE_TOLERANCE:
                found.append(
                    _finding(
                        doc,
                        "00423",
                        f"line:{line.number}",
                        gettext("line %s total") % line.number,
                        _half_up(expected),
                        line.total,
                        line,
                    )
                )
    return found


def _lines_by_row(doc: Document) -> dict[tuple[Decimal, str], Decimal]:
    sums: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    for line in doc.lines:
        sums[(line.vat_rate, line.nature)] += line.total
    return sums


def taxable_per_rate(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00422: ImponibileImporto = sum of its lines' PrezzoTotale + Arrotondamento, within 1.00."""
    found = []
    for doc in documents:
        sums = _lines_by_row(doc)
        for row in doc.summaries:
            expected = sums.get((row.vat_rate, row.nature), Decimal("0")) + row.rounding
            if abs(row.taxable - expected) > TAXABLE_TOLERANCE:
                label = _row_label(row.vat_rate, row.nature)
                found.append(
                    _finding(
                        doc,
                        "00422",
                        f"taxable:{label}",
                        gettext("taxable at %s") % label,
                        _half_up(expected),
                        row.taxable,
                    )
                )
    return found


def tax_per_rate(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00421: Imposta = ImponibileImporto x AliquotaIVA / 100 rounded half up, within 0.01."""
    found = []
    for doc in documents:
        for row in doc.summaries:
            expected = _half_up(row.taxable * row.vat_rate / 100)
            if abs(row.tax - expected) > TAX_TOLERANCE:
                label = _row_label(row.vat_rate, row.nature)
                found.append(
                    _finding(
                        doc,
                        "00421",
                        f"tax:{label}",
                        gettext("VAT at %s") % label,
                        expected,
                        row.tax,
                    )
                )
    return found


def summary_per_rate(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00419: every (rate, nature) of the lines has its summary row."""
    found = []
    for doc in documents:
        rows = {(row.vat_rate, row.nature) for row in doc.summaries}
        for rate, nature in sorted(_lines_by_row(doc)):
            if (rate, nature) not in rows:
                label = _row_label(rate, nature)
                found.append(
                    _finding(
                        doc,
                        "00419",
                        f"summary:{label}",
                        gettext("summary row"),
                        label,
                        gettext("missing"),
                    )
                )
    return found


def line_nature(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00400 (rate 0, no Natura) and 00401 (Natura at a rate above 0) on the lines."""
    found = []
    for doc in documents:
        for line in doc.lines:
            if line.vat_rate == 0 and not line.nature:
                found.append(
                    _finding(
                        doc,
                        "00400",
                        f"line:{line.number}",
                        gettext("line %s nature") % line.number,
                        gettext("a nature code"),
                        gettext("none"),
                        line,
                    )
                )
            elif line.vat_rate != 0 and line.nature:
                found.append(
                    _finding(
                        doc,
                        "00401",
                        f"line:{line.number}",
                        gettext("line %s nature") % line.number,
                        gettext("no nature code"),
                        line.nature,
                        line,
                    )
                )
    return found


def summary_nature(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00429 (summary at rate 0, no Natura) and 00430 (summary with Natura at a rate above 0)."""
    found = []
    for doc in documents:
        for row in doc.summaries:
            label = _row_label(row.vat_rate, row.nature)
            if row.vat_rate == 0 and not row.nature:
                found.append(
                    _finding(
                        doc,
                        "00429",
                        f"summary:{label}",
                        gettext("summary nature"),
                        gettext("a nature code"),
                        gettext("none"),
                    )
                )
            elif row.vat_rate != 0 and row.nature:
                found.append(
                    _finding(
                        doc,
                        "00430",
                        f"summary:{label}",
                        gettext("summary nature"),
                        gettext("no nature code"),
                        row.nature,
                    )
                )
    return found


def buyer_identified(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00417: the buyer has a VAT number (IdFiscaleIVA) or a tax code (CodiceFiscale)."""
    return [
        _finding(
            doc,
            "00417",
            "buyer",
            gettext("buyer identifier"),
            gettext("a VAT number or a tax code"),
            gettext("none"),
        )
        for doc in documents
        if not doc.buyer.vat_number and not doc.buyer.tax_code
    ]


def recipient_code(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00427: CodiceDestinatario has 7 characters (FPR12); 00426: PECDestinatario only with
    CodiceDestinatario 0000000."""
    found = []
    for doc in documents:
        if len(doc.recipient_code) != RECIPIENT_CODE_LENGTH:
            found.append(
                _finding(
                    doc,
                    "00427",
                    "recipient_code",
                    gettext("recipient code"),
                    gettext("7 characters"),
                    doc.recipient_code or gettext("none"),
                )
            )
        if doc.pec and doc.recipient_code != PEC_RECIPIENT_CODE:
            found.append(
                _finding(
                    doc,
                    "00426",
                    "pec",
                    gettext("PEC with a recipient code"),
                    PEC_RECIPIENT_CODE,
                    doc.recipient_code,
                )
            )
    return found


def duplicate_number(documents: Sequence[Document], exported: Exported) -> list[SdiFinding]:
    """00404: one seller, one year, one number: across the batch and the files already exported
    for OTHER invoices."""
    seen: dict[tuple[str, int, str], list[Document]] = defaultdict(list)
    for doc in documents:
        seen[(doc.seller_id, doc.year, doc.number)].append(doc)
    found = []
    for key, docs in seen.items():
        others = {d.invoice_id for d in docs}
        previous = exported.get(key)
        if previous is not None and previous not in others:
            others.add(previous)
        if len(others) < 2:
            continue
        for doc in docs:
            found.append(
                _finding(
                    doc,
                    "00404",
                    "number",
                    gettext("number %s") % doc.number,
                    gettext("unique in %s") % doc.year,
                    gettext("%s documents") % len(others),
                )
            )
    return found


RULES: tuple[SdiRule, ...] = (
    SdiRule("00423", _("SdI 00423: line total"), line_total),
    SdiRule("00422", _("SdI 00422: taxable per VAT rate"), taxable_per_rate),
    SdiRule("00421", _("SdI 00421: VAT per rate"), tax_per_rate),
    SdiRule("00419", _("SdI 00419: summary row per VAT rate"), summary_per_rate),
    SdiRule("00400", _("SdI 00400/00401: line nature code"), line_nature),
    SdiRule("00429", _("SdI 00429/00430: summary nature code"), summary_nature),
    SdiRule("00417", _("SdI 00417: buyer VAT number or tax code"), buyer_identified),
    SdiRule("00427", _("SdI 00426/00427: recipient code and PEC"), recipient_code),
    SdiRule("00404", _("SdI 00404: duplicate number"), duplicate_number),
)


def run(documents: Sequence[Document], *, exported: Exported | None = None) -> list[SdiFinding]:
    """Every SdI rule over `documents`; the findings in document then rule order."""
    exported = exported or {}
    found = [finding for rule in RULES for finding in rule.check(documents, exported)]
    order = {doc.invoice_id: position for position, doc in enumerate(documents)}
    return sorted(found, key=lambda f: order.get(f.invoice_id, 0))


def exported_numbers(documents: Sequence[Document]) -> Exported:
    """(seller, year, number) -> invoice of the files already exported for the invoices of other
    documents with those years (one query)."""
    from billing.models import EInvoiceExport

    years = {doc.year for doc in documents}
    ids = [doc.invoice_id for doc in documents if doc.invoice_id is not None]
    rows = (
        EInvoiceExport.objects.filter(invoice__year__in=years)
        .exclude(invoice_id__in=ids)
        .select_related("invoice")
        .only(
            "seller_prefix",
            "invoice__series",
            "invoice__year",
            "invoice__number",
            "invoice__issue_date",
            "invoice__status",
        )
    )
    return {
        (row.seller_prefix, row.invoice.year, row.invoice.display_number): row.invoice_id
        for row in rows
    }


# The invoice checks' registry (billing/checks.py) ------------------------------------------


def invoice_findings(
    invoice_ids: Sequence[int], *, today: datetime.date | None = None
) -> list[SdiFinding]:
    """All SdI findings of the given invoices, from the database (a fixed number of queries)."""
    from billing import fatturapa
    from billing.models import SellerProfile

    documents = fatturapa.build_documents(
        list(invoice_ids), seller=SellerProfile.objects.first(), today=today
    )
    return run(documents, exported=exported_numbers(documents))


_registered: list[type] = []


def register_with_checks() -> type:
    """Register the SdI checks in the invoice checks' registry (billing/checks.py RULES) as ONE
    rule, code "sdi", whose findings are keyed "<SdI code>:<subject>" (e.g. "00423:line:2"):
    the documents are built once per run (three queries), not once per SdI code. Its `rows()`
    computes in Python instead of SQL, so its `query()` is not meaningful. Idempotent; called
    from billing/apps.py `ready()` (not at import, so importing this module has no effect on
    the registry)."""
    from billing import checks

    if _registered:
        return _registered[0]

    class SdiChecks(checks.Rule):
        code = "sdi"
        title = _("Exchange system (SdI) checks")
        value_kind = "text"
        message = _("%(subject)s: the exchange system expects %(expected)s, found %(actual)s.")

        def rows(
            self, invoice_ids: Sequence[int], *, today: datetime.date | None = None
        ) -> list[checks.Row]:
            if not invoice_ids:
                return []
            return [
                checks.Row(
                    invoice_id=f.invoice_id, line_id=f.line_id, key=f"{f.code}:{f.key}",
                    expected=str(f.expected), actual=str(f.actual),
                    amount_at_stake=Decimal("0"), compared_id=None,
                    subject=f"SdI {f.code}, {f.subject}", currency="",
                )
                for f in invoice_findings(invoice_ids, today=today)
            ]  # fmt: skip

    checks.register(SdiChecks)
    _registered.append(SdiChecks)
    return SdiChecks
