"""FatturaPA 1.2.x (FPR12, B2B) export of issued invoices (TD01) and credit notes (TD04).

Pipeline: `build_documents(invoices)` reads the invoices in a fixed number of queries and maps
each to a `Document` (the data the file will carry); billing/sdi_rules.py runs the exchange
system's own checks over those documents; `render_xml` writes the file; `validate_xml` checks
it against the schema of settings.FATTURAPA_SCHEMA_PATH. The services `einvoice_export` and
`einvoice_export_batch` do all of it in one transaction, finance only.

Where the fiscal facts come from (decisions):

- Seller: the one SellerProfile row (admin-edited).
- Split payment (EsigibilitaIVA "S"): the buyer's `Client.split_payment` flag, read at export
  time, on the summary rows with VAT (a nature row carries no esigibilita). The file is kept
  (EInvoiceExport.xml), so a later change of the flag does not rewrite what was sent.
- Reverse charge and every other non-taxed case: the line's nature code (N6.x for reverse
  charge, N3.2 intra-EU, N7 ...) at rate 0; the summary row gets the nature's legal reference.
- Stamp duty (bollo virtuale, 2.00): due when the lines at rate 0 with a nature subject to it
  (STAMP_DUTY_NATURES: not exports, intra-EU supplies, reverse charge or N7) add up to more than
  77.47; derived, not stored.
- Summary rows: one per (rate, nature); taxable = sum of the lines' net amounts, tax = sum of
  the lines' VAT amounts (what the invoice charges). SdI 00421 then checks that tax against
  taxable x rate, so an invoice whose per-line rounding drifted is refused, not silently changed.
- Numero: the invoice's display number (FV-2026/00001); Data: its issue date.
- Foreign buyer: IdFiscaleIVA with its own country (the VAT number without its prefix),
  CAP "00000", no province, CodiceDestinatario "XXXXXXX".
- Italian buyer: CodiceDestinatario is its SDI code; without one (or with "0000000") the code is
  "0000000" and its PEC (if any) goes to PECDestinatario.
- Text must be Latin-1: typographic quotes, dashes, ellipsis and special spaces are mapped to
  ASCII; anything else outside Latin-1 refuses the export naming the field.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts_crm.access import AnyUser
from accounts_crm.errors import DomainError, NotAllowedError
from billing import policies
from billing.models import (
    ISSUED_STATUSES,
    EInvoiceExport,
    Invoice,
    InvoiceLine,
    SellerProfile,
)
from clients.validators import SDI_CODE_PEC, normalize_vat_number

NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
DSIG_FILE = "xmldsig-core-schema.xsd"
FORMAT = "FPR12"
DOCUMENT_TYPES = {Invoice.Kind.INVOICE: "TD01", Invoice.Kind.CREDIT_NOTE: "TD04"}
FOREIGN_RECIPIENT_CODE = "XXXXXXX"
FOREIGN_POSTAL_CODE = "00000"
PROGRESSIVE_WIDTH = 5
PROGRESSIVE_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

STAMP_DUTY_THRESHOLD = Decimal("77.47")
STAMP_DUTY_AMOUNT = Decimal("2.00")
# Natures whose amounts bring stamp duty (DPR 642/72): not exports and the like (N3.1, N3.2,
# N3.3, N3.4), reverse charge (N6.x, VAT is applied by the buyer) nor N7.
STAMP_DUTY_NATURES = frozenset({"N1", "N2.1", "N2.2", "N3.5", "N3.6", "N4", "N5"})

# The legal reference written on a summary row of each nature (RiferimentoNormativo).
NATURE_REFERENCES = {
    "N1": "Escluse art. 15 DPR 633/72",
    "N2.1": "Non soggette art. 7-7septies DPR 633/72",
    "N2.2": "Non soggette, altri casi",
    "N3.1": "Non imponibili esportazioni art. 8 DPR 633/72",
    "N3.2": "Non imponibili cessioni intracomunitarie art. 41 DL 331/93",
    "N3.3": "Non imponibili cessioni verso San Marino art. 71 DPR 633/72",
    "N3.4": "Non imponibili operazioni assimilate alle esportazioni",
    "N3.5": "Non imponibili a seguito di dichiarazioni d'intento",
    "N3.6": "Non imponibili, altre operazioni",
    "N4": "Esenti art. 10 DPR 633/72",
    "N5": "Regime del margine",
    "N6.1": "Inversione contabile art. 74 c. 7-8 DPR 633/72",
    "N6.2": "Inversione contabile art. 17 c. 5 DPR 633/72",
    "N6.3": "Inversione contabile art. 17 c. 6 lett. a DPR 633/72",
    "N6.4": "Inversione contabile art. 17 c. 6 lett. a-bis DPR 633/72",
    "N6.5": "Inversione contabile art. 17 c. 6 lett. b DPR 633/72",
    "N6.6": "Inversione contabile art. 17 c. 6 lett. c DPR 633/72",
    "N6.7": "Inversione contabile art. 17 c. 6 lett. a-ter DPR 633/72",
    "N6.8": "Inversione contabile art. 17 c. 6 lett. d-bis, d-ter, d-quater DPR 633/72",
    "N6.9": "Inversione contabile art. 17 c. 2 DPR 633/72",
    "N7": "IVA assolta in altro stato UE",
}

SCHEMA_NOT_CONFIGURED = "not validated: schema not configured"


class EInvoiceError(DomainError):
    """The invoice cannot be exported as it is (its data, the seller profile or the schema)."""

    code = "einvoice_error"


class EInvoiceRefusedError(EInvoiceError):
    """The exchange system's checks found problems: nothing is exported. `findings` lists them."""

    code = "einvoice_refused"

    def __init__(self, message: str, findings: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


# Latin-1 text ------------------------------------------------------------------------------

LATIN1_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2007": " ", "\u2009": " ",
        "\u200a": " ", "\u202f": " ",
        "\u200b": "", "\ufeff": "",
        "\u2022": "-", "\u20ac": "EUR",
        "\t": " ", "\r": " ", "\n": " ",
    }
)  # fmt: skip
# XML 1.0 control characters never allowed, and Latin-1's C1 range the schema's pattern refuses.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def latin1_text(value: str, field_name: str, *, max_length: int | None = None) -> str:
    """`value` as FatturaPA text: mapped to Latin-1 (typographic punctuation and special spaces
    become ASCII), trimmed; refused with a message naming the field when a character cannot be
    mapped or the text is empty or too long."""
    text = (value or "").translate(LATIN1_MAP).strip()
    text = re.sub(r" {2,}", " ", text)
    for char in text:
        if ord(char) > 0xFF or _FORBIDDEN.match(char):
            raise EInvoiceError(
                _(
                    "%(field)s contains %(char)s (U+%(code)04X), which a FatturaPA file cannot "
                    "carry (Latin-1 only): replace it."
                )
                % {"field": field_name, "char": repr(char), "code": ord(char)}
            )
    if not text:
        raise EInvoiceError(_("%(field)s is empty.") % {"field": field_name})
    if max_length is not None and len(text) > max_length:
        raise EInvoiceError(
            _("%(field)s has %(length)s characters; FatturaPA allows %(max)s.")
            % {"field": field_name, "length": len(text), "max": max_length}
        )
    return text


# Number formats ----------------------------------------------------------------------------


def amount(value: Decimal) -> str:
    """Amounts: exactly 2 decimals, half up."""
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rate(value: Decimal) -> str:
    """VAT rates: 22.00."""
    return amount(value)


def price(value: Decimal) -> str:
    """Unit prices and quantities: 2 to 8 decimals (trailing zeros past the second dropped)."""
    exact = Decimal(value).quantize(Decimal("1E-8"), rounding=ROUND_HALF_UP)
    text = format(exact, "f").rstrip("0")
    whole, _dot, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def progressive_code(value: int) -> str:
    """A progressive in base 36, 5 characters (00001 ... ZZZZZ)."""
    if not 0 < value < 36**PROGRESSIVE_WIDTH:
        raise EInvoiceError(_("The e-invoice file progressive is exhausted for this seller."))
    digits = ""
    while value:
        value, digit = divmod(value, 36)
        digits = PROGRESSIVE_DIGITS[digit] + digits
    return digits.rjust(PROGRESSIVE_WIDTH, "0")


def file_name(seller_prefix: str, progressive: int) -> str:
    return f"{seller_prefix}_{progressive_code(progressive)}.xml"


# Documents ---------------------------------------------------------------------------------


@dataclass
class Line:
    number: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal  # percent
    total: Decimal  # PrezzoTotale
    vat_rate: Decimal
    nature: str = ""
    line_id: int | None = None


@dataclass
class Summary:
    vat_rate: Decimal
    nature: str
    taxable: Decimal
    tax: Decimal
    esigibilita: str = ""  # I, D, S or empty
    reference: str = ""
    rounding: Decimal = Decimal("0")


@dataclass
class Party:
    name: str
    country: str
    vat_number: str  # without the country prefix
    tax_code: str
    street: str
    postal_code: str
    city: str
    province: str


@dataclass
class Document:
    """What one FatturaPA body will carry, in the format's terms (pure data: the SdI rules run
    on it, so they can be tested on any document, not only on ones built from invoices)."""

    invoice_id: int | None
    document_type: str
    number: str
    date: datetime.date
    currency: str
    seller_id: str  # IdPaese + IdCodice of the seller
    buyer: Party
    recipient_code: str
    pec: str
    lines: list[Line]
    summaries: list[Summary]
    stamp_duty: Decimal | None = None
    related: tuple[str, datetime.date] | None = None  # credited invoice: number, date
    due_date: datetime.date | None = None
    split_payment: bool = False
    line_ids: dict[int, int] = field(default_factory=dict)  # line number -> InvoiceLine id

    @property
    def year(self) -> int:
        return self.date.year

    @property
    def total(self) -> Decimal:
        return sum((s.taxable + s.tax for s in self.summaries), Decimal("0.00"))

    @property
    def amount_due(self) -> Decimal:
        """What the buyer pays us: with split payment, the VAT goes to the State."""
        if self.split_payment:
            return sum((s.taxable for s in self.summaries), Decimal("0.00"))
        return self.total


def seller_profile() -> SellerProfile:
    seller = SellerProfile.objects.first()
    if seller is None:
        raise EInvoiceError(
            _("The seller fiscal profile is missing: fill it in in the admin before exporting.")
        )
    return seller


def stamp_duty_due(lines: Iterable[Line]) -> bool:
    subject = sum(
        (line.total for line in lines if line.vat_rate == 0 and line.nature in STAMP_DUTY_NATURES),
        Decimal("0"),
    )
    return subject > STAMP_DUTY_THRESHOLD


def _summaries(lines: list[Line], *, split_payment: bool) -> list[Summary]:
    groups: dict[tuple[Decimal, str], Summary] = {}
    for line in lines:
        key = (line.vat_rate, line.nature)
        row = groups.setdefault(
            key,
            Summary(
                vat_rate=line.vat_rate, nature=line.nature, taxable=Decimal("0.00"),
                tax=Decimal("0.00"), reference=NATURE_REFERENCES.get(line.nature, ""),
                esigibilita=("S" if split_payment else "I") if line.vat_rate > 0 else "",
            ),
        )  # fmt: skip
        row.taxable += line.total
    return list(groups.values())


def _buyer(client: Any) -> tuple[Party, str, str]:
    country = (client.country or "IT").upper()
    vat = normalize_vat_number(client.vat_number)
    if country != "IT" and vat.startswith(country):
        vat = vat[len(country) :]
    if country == "GR" and vat.startswith("EL"):
        vat = vat[2:]
    party = Party(
        name=client.legal_name or client.name,
        country=country,
        vat_number=vat,
        tax_code=(client.tax_code or "").upper() if country == "IT" else "",
        street=client.street,
        postal_code=client.postal_code if country == "IT" else FOREIGN_POSTAL_CODE,
        city=client.city,
        province=(client.province or "").upper() if country == "IT" else "",
    )
    if country != "IT":
        return party, FOREIGN_RECIPIENT_CODE, ""
    code = (client.sdi_code or "").upper()
    if code and code != SDI_CODE_PEC:
        return party, code, ""
    return party, SDI_CODE_PEC, client.pec or ""


def build_documents(
    invoices: Iterable[Invoice | int],
    *,
    seller: SellerProfile | None,
    today: datetime.date | None = None,
) -> list[Document]:
    """Documents of the given invoices (or ids): two queries (invoices with their client and
    credited invoice, then all their lines), whatever their number. A draft is dated `today`
    (the date it would get if issued now); without a seller the seller id is empty."""
    ids = [invoice if isinstance(invoice, int) else invoice.pk for invoice in invoices]
    rows = Invoice.objects.filter(pk__in=ids).select_related("client", "credits").order_by("pk")
    lines_by_invoice: dict[int, list[InvoiceLine]] = {}
    for line in InvoiceLine.objects.filter(invoice_id__in=ids).order_by("position", "pk"):
        lines_by_invoice.setdefault(line.invoice_id, []).append(line)
    documents = []
    for invoice in rows:
        client = invoice.client
        lines = [
            Line(
                number=position, description=line.description, quantity=line.quantity,
                unit_price=line.unit_price, discount=line.discount, total=line.net_amount,
                vat_rate=line.vat_rate, nature=line.vat_nature, line_id=line.pk,
            )
            for position, line in enumerate(lines_by_invoice.get(invoice.pk, []), start=1)
        ]  # fmt: skip
        summaries = _summaries(lines, split_payment=client.split_payment)
        for summary in summaries:
            summary.tax = sum(
                (
                    line.vat_amount
                    for line in lines_by_invoice.get(invoice.pk, [])
                    if (line.vat_rate, line.vat_nature) == (summary.vat_rate, summary.nature)
                ),
                Decimal("0.00"),
            )
        buyer, code, pec = _buyer(client)
        documents.append(
            Document(
                invoice_id=invoice.pk,
                document_type=DOCUMENT_TYPES[invoice.kind],
                number=invoice.display_number,
                date=invoice.issue_date or today or timezone.localdate(),
                currency=invoice.currency,
                seller_id=seller.file_prefix if seller else "",
                buyer=buyer,
                recipient_code=code,
                pec=pec,
                lines=lines,
                summaries=summaries,
                stamp_duty=STAMP_DUTY_AMOUNT if stamp_duty_due(lines) else None,
                related=(
                    (invoice.credits.display_number, invoice.credits.issue_date)
                    if invoice.credits_id
                    else None
                ),
                due_date=invoice.due_date if invoice.kind == Invoice.Kind.INVOICE else None,
                split_payment=client.split_payment,
                line_ids={line.number: line.line_id for line in lines},
            )
        )
    return documents


# XML ---------------------------------------------------------------------------------------


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _address(parent: ET.Element, party: Any, label: str, *, number: str = "") -> None:
    sede = _add(parent, "Sede")
    _add(sede, "Indirizzo", latin1_text(party.street, _("%s street") % label, max_length=60))
    if number:
        _add(sede, "NumeroCivico", latin1_text(number, _("%s street number") % label))
    if not re.fullmatch(r"[0-9]{5}", party.postal_code or ""):
        raise EInvoiceError(
            _("%(who)s postal code %(value)r is not 5 digits.")
            % {"who": label, "value": party.postal_code}
        )
    _add(sede, "CAP", party.postal_code)
    _add(sede, "Comune", latin1_text(party.city, _("%s city") % label, max_length=60))
    if party.province:
        _add(sede, "Provincia", party.province)
    _add(sede, "Nazione", party.country)


def render_xml(document: Document, *, seller: SellerProfile, progressive: int) -> bytes:
    """The FPR12 file of one document (UTF-8, Latin-1 characters only)."""
    ET.register_namespace("p", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}FatturaElettronica", {"versione": FORMAT})
    header = _add(root, "FatturaElettronicaHeader")

    transmission = _add(header, "DatiTrasmissione")
    transmitter = _add(transmission, "IdTrasmittente")
    _add(transmitter, "IdPaese", seller.transmitter_country)
    _add(transmitter, "IdCodice", seller.transmitter_code)
    _add(transmission, "ProgressivoInvio", progressive_code(progressive))
    _add(transmission, "FormatoTrasmissione", FORMAT)
    _add(transmission, "CodiceDestinatario", document.recipient_code)
    if document.pec:
        _add(transmission, "PECDestinatario", document.pec)

    seller_label = _("Seller")
    cedente = _add(header, "CedentePrestatore")
    anagraphic = _add(cedente, "DatiAnagrafici")
    vat_id = _add(anagraphic, "IdFiscaleIVA")
    _add(vat_id, "IdPaese", "IT")
    _add(vat_id, "IdCodice", seller.vat_number)
    if seller.tax_code:
        _add(anagraphic, "CodiceFiscale", seller.tax_code)
    _add(
        _add(anagraphic, "Anagrafica"),
        "Denominazione",
        latin1_text(seller.name, _("Seller name"), max_length=80),
    )
    _add(anagraphic, "RegimeFiscale", seller.regime_fiscale)
    _address(cedente, seller, seller_label, number=seller.street_number)
    if seller.rea_number:
        rea = _add(cedente, "IscrizioneREA")
        _add(rea, "Ufficio", seller.rea_office)
        _add(rea, "NumeroREA", latin1_text(seller.rea_number, _("REA number"), max_length=20))
        if seller.share_capital is not None:
            _add(rea, "CapitaleSociale", amount(seller.share_capital))
        _add(rea, "StatoLiquidazione", "LN")
    if seller.phone or seller.email:
        contacts = _add(cedente, "Contatti")
        if seller.phone:
            _add(contacts, "Telefono", latin1_text(seller.phone, _("Seller phone")))
        if seller.email:
            _add(contacts, "Email", seller.email)

    buyer = document.buyer
    buyer_label = _("Buyer")
    cessionario = _add(header, "CessionarioCommittente")
    anagraphic = _add(cessionario, "DatiAnagrafici")
    if buyer.vat_number:
        vat_id = _add(anagraphic, "IdFiscaleIVA")
        _add(vat_id, "IdPaese", buyer.country)
        _add(vat_id, "IdCodice", buyer.vat_number)
    if buyer.tax_code:
        _add(anagraphic, "CodiceFiscale", buyer.tax_code)
    _add(
        _add(anagraphic, "Anagrafica"),
        "Denominazione",
        latin1_text(buyer.name, _("Buyer name"), max_length=80),
    )
    _address(cessionario, buyer, buyer_label)

    body = _add(root, "FatturaElettronicaBody")
    general = _add(body, "DatiGenerali")
    doc = _add(general, "DatiGeneraliDocumento")
    _add(doc, "TipoDocumento", document.document_type)
    _add(doc, "Divisa", document.currency)
    _add(doc, "Data", document.date.isoformat())
    _add(doc, "Numero", document.number)
    if document.stamp_duty is not None:
        stamp = _add(doc, "DatiBollo")
        _add(stamp, "BolloVirtuale", "SI")
        _add(stamp, "ImportoBollo", amount(document.stamp_duty))
    _add(doc, "ImportoTotaleDocumento", amount(document.total))
    if document.related is not None:
        related = _add(general, "DatiFattureCollegate")
        _add(related, "IdDocumento", document.related[0])
        _add(related, "Data", document.related[1].isoformat())

    goods = _add(body, "DatiBeniServizi")
    for line in document.lines:
        detail = _add(goods, "DettaglioLinee")
        _add(detail, "NumeroLinea", str(line.number))
        _add(
            detail,
            "Descrizione",
            latin1_text(
                line.description, _("Description of line %s") % line.number, max_length=1000
            ),
        )
        _add(detail, "Quantita", price(line.quantity))
        _add(detail, "PrezzoUnitario", price(line.unit_price))
        if line.discount:
            discount = _add(detail, "ScontoMaggiorazione")
            _add(discount, "Tipo", "SC")
            _add(discount, "Percentuale", amount(line.discount))
        _add(detail, "PrezzoTotale", price(line.total))
        _add(detail, "AliquotaIVA", rate(line.vat_rate))
        if line.nature:
            _add(detail, "Natura", line.nature)
    for summary in document.summaries:
        row = _add(goods, "DatiRiepilogo")
        _add(row, "AliquotaIVA", rate(summary.vat_rate))
        if summary.nature:
            _add(row, "Natura", summary.nature)
        if summary.rounding:
            _add(row, "Arrotondamento", price(summary.rounding))
        _add(row, "ImponibileImporto", amount(summary.taxable))
        _add(row, "Imposta", amount(summary.tax))
        if summary.esigibilita:
            _add(row, "EsigibilitaIVA", summary.esigibilita)
        if summary.reference:
            _add(row, "RiferimentoNormativo", summary.reference)

    if document.due_date is not None and document.amount_due > 0:
        payment = _add(body, "DatiPagamento")
        _add(payment, "CondizioniPagamento", "TP02")
        detail = _add(payment, "DettaglioPagamento")
        _add(detail, "ModalitaPagamento", "MP05")
        _add(detail, "DataScadenzaPagamento", document.due_date.isoformat())
        _add(detail, "ImportoPagamento", amount(document.amount_due))

    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


# Schema ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    status: str  # EInvoiceExport.Validation
    detail: str


@functools.cache
def load_schema(path: str) -> Any:
    """The FatturaPA schema at `path`, with its xmldsig import resolved from the schema's own
    folder (never from w3.org): no network access, and only files of that folder are read."""
    import xmlschema

    schema_path = Path(path)
    if not schema_path.is_file():
        raise EInvoiceError(
            _("The FatturaPA schema %(path)s does not exist (FATTURAPA_SCHEMA_PATH).")
            % {"path": path}
        )
    dsig = schema_path.parent / DSIG_FILE
    if not dsig.is_file():
        raise EInvoiceError(
            _("%(file)s must sit beside the FatturaPA schema in %(folder)s.")
            % {"file": DSIG_FILE, "folder": schema_path.parent}
        )
    return xmlschema.XMLSchema(
        str(schema_path), locations={DSIG_NAMESPACE: str(dsig)}, allow="sandbox"
    )


def _resource(xml: bytes) -> Any:
    """The file as xmlschema reads it: defused (no DTD, no entity expansion), no URL access."""
    import xmlschema

    try:
        return xmlschema.XMLResource(xml, allow="none", defuse="always")
    except ET.ParseError as error:
        raise EInvoiceError(
            _("The file is not well-formed XML: %(error)s") % {"error": error}
        ) from None


def validate_xml(xml: bytes, *, schema_path: str | None = None) -> Validation:
    """Validate against the configured schema; says so when no schema is configured. An
    invalid file raises EInvoiceError with the schema's reasons."""
    path = schema_path if schema_path is not None else settings.FATTURAPA_SCHEMA_PATH
    if not path:
        return Validation(EInvoiceExport.Validation.NOT_VALIDATED, SCHEMA_NOT_CONFIGURED)
    schema = load_schema(str(path))
    errors = [str(error.reason or error.message) for error in schema.iter_errors(_resource(xml))]
    if errors:
        raise EInvoiceError(
            _("The file does not pass the FatturaPA schema: %(errors)s")
            % {"errors": "; ".join(errors[:5])}
        )
    return Validation(EInvoiceExport.Validation.VALID, "valid")


# Services ----------------------------------------------------------------------------------


def _reserve_progressives(prefix: str, count: int) -> list[int]:
    """`count` consecutive progressives of `prefix`, taken in THIS transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_einvoicecounter (prefix, last_value) VALUES (%s, %s)
            ON CONFLICT (prefix)
            DO UPDATE SET last_value = billing_einvoicecounter.last_value + EXCLUDED.last_value
            RETURNING last_value
            """,
            [prefix, count],
        )
        last = cursor.fetchone()[0]
    return list(range(last - count + 1, last + 1))


def _exportable(invoices: Sequence[Invoice]) -> None:
    for invoice in invoices:
        if invoice.status not in ISSUED_STATUSES:
            raise EInvoiceError(
                _("%(number)s is a draft: only issued invoices and credit notes are exported.")
                % {"number": invoice.display_number}
            )


def _export(*, by: AnyUser, invoices: Sequence[Invoice]) -> list[EInvoiceExport]:
    from billing import sdi_rules

    if not policies.can_export_einvoices(by):
        raise NotAllowedError(_("Only finance exports e-invoices."))
    if not invoices:
        raise EInvoiceError(_("Choose at least one invoice to export."))
    fresh = list(Invoice.objects.filter(pk__in=[i.pk for i in invoices]).order_by("pk"))
    _exportable(fresh)
    seller = seller_profile()
    seller.full_clean()
    documents = build_documents(fresh, seller=seller)
    findings = sdi_rules.run(documents, exported=sdi_rules.exported_numbers(documents))
    if findings:
        raise EInvoiceRefusedError(
            _("The exchange system would reject this export: %(findings)s")
            % {"findings": "; ".join(str(f) for f in findings)},
            findings,
        )
    numbers = _reserve_progressives(seller.file_prefix, len(documents))
    now = timezone.now()
    exports = []
    for document, progressive in zip(documents, numbers, strict=True):
        xml = render_xml(document, seller=seller, progressive=progressive)
        validation = validate_xml(xml)
        exports.append(
            EInvoiceExport(
                invoice_id=document.invoice_id, seller_prefix=seller.file_prefix,
                progressive=progressive, file_name=file_name(seller.file_prefix, progressive),
                document_type=document.document_type, xml=xml.decode("utf-8"),
                sha256=hashlib.sha256(xml).hexdigest(), validation=validation.status,
                created_by=by, created_at=now,
            )
        )  # fmt: skip
    return EInvoiceExport.objects.bulk_create(exports)


@transaction.atomic
def einvoice_export(*, by: AnyUser, invoice: Invoice) -> EInvoiceExport:
    """Export one issued invoice or credit note as a FatturaPA file (finance only). Refused,
    with nothing written and no progressive used, when the invoice is a draft, the seller
    profile is missing or invalid, a text cannot be written in Latin-1, an exchange-system
    check fails (EInvoiceRefusedError.findings) or the file fails the configured schema."""
    return _export(by=by, invoices=[invoice])[0]


@dataclasses.dataclass(frozen=True)
class Batch:
    exports: list[EInvoiceExport]
    zip_bytes: bytes
    zip_name: str


@transaction.atomic
def einvoice_export_batch(*, by: AnyUser, invoices: Sequence[Invoice]) -> Batch:
    """Export many invoices at once, one file each, as a zip: all of them or none (the refusal
    names every invoice's problems)."""
    exports = _export(by=by, invoices=list(invoices))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for export in exports:
            archive.writestr(export.file_name, export.xml.encode("utf-8"))
    stamp = timezone.localtime(exports[0].created_at).strftime("%Y%m%d-%H%M%S")
    return Batch(exports, buffer.getvalue(), f"{exports[0].seller_prefix}_{stamp}.zip")


__all__ = [
    "Document",
    "EInvoiceError",
    "EInvoiceRefusedError",
    "build_documents",
    "einvoice_export",
    "einvoice_export_batch",
    "file_name",
    "latin1_text",
    "load_schema",
    "progressive_code",
    "render_xml",
    "validate_xml",
]
