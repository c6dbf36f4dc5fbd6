"""FatturaPA export (billing/fatturapa.py): files of every kind pass the official schema read
from ../shared/fatturapa (never copied into the repo), file names and progressives, Latin-1,
access, the "schema not configured" path, and the models' constraints."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts_crm.access import Role
from accounts_crm.errors import NotAllowedError
from billing import fatturapa, services
from billing.fatturapa import EInvoiceError, EInvoiceRefusedError
from billing.models import EInvoiceCounter, EInvoiceExport, InvoiceLine, SellerProfile
from tests.billing.conftest import EINVOICE_ISSUED_ON, FATTURAPA_SCHEMA, FATTURAPA_SHARED
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    InvoiceFactory,
    SellerProfileFactory,
    UserFactory,
)

# The schema and seller fixtures are in tests/billing/conftest.py (shared with the page and API
# tests of the export); the schema stays outside the repo, in ../shared/fatturapa.
SHARED = FATTURAPA_SHARED
SCHEMA = FATTURAPA_SCHEMA
NS = {"p": fatturapa.NAMESPACE}
ISSUED_ON = EINVOICE_ISSUED_ON

needs_schema = pytest.mark.skipif(
    not SCHEMA.is_file(),
    reason=f"the official FatturaPA schema is not in {SHARED} (test data kept outside the repo)",
)


def italian_client(**fields: object) -> object:
    values = {
        "legal_name": "Grande Distribuzione S.p.A.", "vat_number": "07654320154",
        "sdi_code": "M5UXCR1", "street": "Corso Italia 5", "postal_code": "00184",
        "city": "Roma", "province": "RM", "country": "IT",
    }  # fmt: skip
    values.update(fields)
    return ClientFactory(**values)


def issued(finance: object, client: object, lines: list[tuple], *, kind: str = "invoice",
           credits: object = None) -> object:  # fmt: skip
    """An issued document; `lines` of (description, quantity, price, rate, nature[, discount])."""
    invoice = InvoiceFactory(
        client=client, kind=kind, credits=credits, series="NC" if credits else "FV",
        created_by=finance,
    )  # fmt: skip
    for description, quantity, price, rate, nature, *rest in lines:
        services.invoice_line_save(
            by=finance,
            line=InvoiceLine(
                invoice=invoice, description=description, quantity=Decimal(quantity),
                unit_price=Decimal(price), vat_rate=Decimal(rate), vat_nature=nature,
                discount=Decimal(rest[0]) if rest else Decimal("0"),
            ),
        )  # fmt: skip
    return services.invoice_issue(by=finance, invoice=invoice, issue_date=ISSUED_ON)


def parse(export: EInvoiceExport) -> ET.Element:
    return ET.fromstring(export.xml.encode("utf-8"))  # noqa: S314 (our own file)


def texts(root: ET.Element, path: str) -> list[str]:
    return [element.text for element in root.findall(path, NS)]


# Files of every kind pass the schema --------------------------------------------------------


@needs_schema
def test_it_exports_several_rates_and_exempt_lines_valid_against_the_schema(
    schema: Path, seller: SellerProfile, finance: object
) -> None:
    invoice = issued(finance, italian_client(), [
        ("Server rack", "2", "1250.00", "22.00", ""),
        ("Manuali", "2.5", "12.50", "4.00", "", "10"),
        ("Catering", "1", "80.00", "10.00", ""),
        ("Formazione finanziata", "1", "500.00", "0.00", "N4"),
        ("Rottami", "10", "1.25", "0.00", "N6.1"),
    ])  # fmt: skip

    export = fatturapa.einvoice_export(by=finance, invoice=invoice)

    assert export.validation == EInvoiceExport.Validation.VALID
    assert export.file_name == "IT01234560017_00001.xml"
    assert export.document_type == "TD01"
    root = parse(export)
    assert root.get("versione") == "FPR12"
    assert texts(root, ".//DatiTrasmissione/ProgressivoInvio") == ["00001"]
    assert texts(root, ".//DatiTrasmissione/CodiceDestinatario") == ["M5UXCR1"]
    assert texts(root, ".//DettaglioLinee/AliquotaIVA") == [
        "22.00", "4.00", "10.00", "0.00", "0.00"
    ]  # fmt: skip
    assert texts(root, ".//DettaglioLinee/Natura") == ["N4", "N6.1"]
    assert texts(root, ".//DettaglioLinee/Quantita")[:2] == ["2.00", "2.50"]
    assert texts(root, ".//DettaglioLinee/PrezzoTotale")[1] == "28.13"
    assert texts(root, ".//DettaglioLinee/ScontoMaggiorazione/Percentuale") == ["10.00"]
    assert texts(root, ".//DatiRiepilogo/AliquotaIVA") == [
        "22.00", "4.00", "10.00", "0.00", "0.00"
    ]  # fmt: skip
    assert texts(root, ".//DatiRiepilogo/ImponibileImporto") == [
        "2500.00", "28.13", "80.00", "500.00", "12.50"
    ]  # fmt: skip
    assert texts(root, ".//DatiRiepilogo/Imposta") == ["550.00", "1.13", "8.00", "0.00", "0.00"]
    assert texts(root, ".//DatiRiepilogo/EsigibilitaIVA") == ["I", "I", "I"]
    # Exempt (N4) lines above 77.47: virtual stamp duty. Reverse charge does not count.
    assert texts(root, ".//DatiBollo/BolloVirtuale") == ["SI"]
    assert texts(root, ".//DatiBollo/ImportoBollo") == ["2.00"]
    assert texts(root, ".//ImportoTotaleDocumento") == ["3679.76"]
    assert texts(root, ".//DatiGeneraliDocumento/Numero") == [invoice.display_number]


@needs_schema
def test_it_exports_a_credit_note_referencing_its_invoice(
    schema: Path, seller: SellerProfile, finance: object
) -> None:
    client = italian_client()
    invoice = issued(finance, client, [("Licenze", "5", "100.00", "22.00", "")])
    note = issued(finance, client, [("Licenze", "1", "100.00", "22.00", "")],
                  kind="credit_note", credits=invoice)  # fmt: skip

    export = fatturapa.einvoice_export(by=finance, invoice=note)

    assert export.validation == "valid"
    assert export.document_type == "TD04"
    root = parse(export)
    assert texts(root, ".//TipoDocumento") == ["TD04"]
    assert texts(root, ".//DatiFattureCollegate/IdDocumento") == [invoice.display_number]
    assert texts(root, ".//DatiFattureCollegate/Data") == [ISSUED_ON.isoformat()]
    assert texts(root, ".//DatiRiepilogo/Imposta") == ["22.00"]
    assert root.find(".//DatiPagamento", NS) is None


@needs_schema
def test_it_exports_to_a_foreign_client(
    schema: Path, seller: SellerProfile, finance: object
) -> None:
    client = ClientFactory(
        legal_name="Handel GmbH", vat_number="DE136695976", street="Hauptstrasse 1",
        postal_code="10115", city="Berlin", country="DE",
    )  # fmt: skip
    invoice = issued(finance, client, [("Macchinari", "1", "9000.00", "0.00", "N3.2")])

    export = fatturapa.einvoice_export(by=finance, invoice=invoice)

    assert export.validation == "valid"
    root = parse(export)
    buyer = root.find(".//CessionarioCommittente", NS)
    assert texts(buyer, ".//IdFiscaleIVA/IdPaese") == ["DE"]
    assert texts(buyer, ".//IdFiscaleIVA/IdCodice") == ["136695976"]
    assert texts(buyer, ".//Sede/CAP") == ["00000"]
    assert texts(buyer, ".//Sede/Nazione") == ["DE"]
    assert texts(root, ".//CodiceDestinatario") == ["XXXXXXX"]
    # Intra-EU supplies bring no stamp duty.
    assert root.find(".//DatiBollo", NS) is None


@needs_schema
def test_it_exports_split_payment_with_esigibilita_s(
    schema: Path, seller: SellerProfile, finance: object
) -> None:
    client = italian_client(split_payment=True, sdi_code="UFXYZ1A")
    invoice = issued(finance, client, [
        ("Servizi", "1", "1000.00", "22.00", ""),
        ("Bolli", "1", "50.00", "0.00", "N1"),
    ])  # fmt: skip

    export = fatturapa.einvoice_export(by=finance, invoice=invoice)

    assert export.validation == "valid"
    root = parse(export)
    # The nature row carries no esigibilita; the VAT row says S.
    assert texts(root, ".//DatiRiepilogo/EsigibilitaIVA") == ["S"]
    # The client pays the net; the VAT goes to the State.
    assert texts(root, ".//DettaglioPagamento/ImportoPagamento") == ["1050.00"]
    assert texts(root, ".//ImportoTotaleDocumento") == ["1270.00"]
    # N1 lines of 50.00 stay under the 77.47 stamp duty threshold.
    assert root.find(".//DatiBollo", NS) is None


@needs_schema
def test_it_sends_to_the_pec_with_recipient_code_zeros(
    schema: Path, seller: SellerProfile, finance: object
) -> None:
    client = italian_client(sdi_code="0000000", pec="amministrazione@pec.example.it")
    invoice = issued(finance, client, [("Servizi", "1", "10.00", "22.00", "")])

    root = parse(fatturapa.einvoice_export(by=finance, invoice=invoice))

    assert texts(root, ".//CodiceDestinatario") == ["0000000"]
    assert texts(root, ".//PECDestinatario") == ["amministrazione@pec.example.it"]


# The schema loader ------------------------------------------------------------------------


@needs_schema
@pytest.mark.parametrize("sample", ["IT01234567890_FPR01.xml", "IT01234567890_FPR03.xml"])
def test_the_official_samples_pass_the_same_schema_loader(sample: str) -> None:
    xml = (SHARED / sample).read_bytes()

    assert fatturapa.validate_xml(xml, schema_path=str(SCHEMA)).status == "valid"


@needs_schema
def test_the_loader_really_validates_the_known_defective_sample_fails() -> None:
    # FPR02 as published puts ContattiTrasmittente after PECDestinatario (SOURCE.md).
    xml = (SHARED / "IT01234567890_FPR02.xml").read_bytes()

    with pytest.raises(EInvoiceError, match="schema"):
        fatturapa.validate_xml(xml, schema_path=str(SCHEMA))


@needs_schema
def test_the_loader_resolves_xmldsig_from_the_schema_folder(tmp_path: Path) -> None:
    (tmp_path / SCHEMA.name).write_bytes(SCHEMA.read_bytes())

    with pytest.raises(EInvoiceError, match=r"xmldsig-core-schema\.xsd must sit beside"):
        fatturapa.load_schema(str(tmp_path / SCHEMA.name))


def test_without_a_schema_the_export_says_it_is_not_validated(
    settings: object, seller: SellerProfile, finance: object
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    invoice = issued(finance, italian_client(), [("Servizi", "1", "10.00", "22.00", "")])

    export = fatturapa.einvoice_export(by=finance, invoice=invoice)

    assert export.validation == EInvoiceExport.Validation.NOT_VALIDATED
    assert export.get_validation_display() == "Not validated: schema not configured"
    assert fatturapa.validate_xml(export.xml.encode()).detail == (
        "not validated: schema not configured"
    )


@needs_schema
def test_a_file_that_is_not_xml_is_a_clear_error() -> None:
    with pytest.raises(EInvoiceError, match="not well-formed XML"):
        fatturapa.validate_xml(b"<a><b></a>", schema_path=str(SCHEMA))


def test_a_missing_schema_file_is_a_clear_error(settings: object, tmp_path: Path) -> None:
    with pytest.raises(EInvoiceError, match="does not exist"):
        fatturapa.validate_xml(b"<x/>", schema_path=str(tmp_path / "missing.xsd"))


@needs_schema
def test_a_file_failing_the_schema_is_refused_and_nothing_is_kept(
    schema: Path, seller: SellerProfile, finance: object
) -> None:
    # A tax code loaded without validation: not the schema's [A-Z0-9]{11,16}.
    client = italian_client(tax_code="ABC")
    invoice = issued(finance, client, [("Servizi", "1", "10.00", "22.00", "")])

    with pytest.raises(EInvoiceError, match="schema"):
        fatturapa.einvoice_export(by=finance, invoice=invoice)

    assert not EInvoiceExport.objects.exists()
    assert not EInvoiceCounter.objects.filter(last_value__gt=0).exists()


# Formats and Latin-1 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "amount", "price"),
    [
        ("10", "10.00", "10.00"),
        ("12.5", "12.50", "12.50"),
        ("0.125", "0.13", "0.125"),
        ("1.123456789", "1.12", "1.12345679"),
        ("3.000", "3.00", "3.00"),
    ],
)
def test_amounts_have_two_decimals_and_prices_two_to_eight(
    value: str, amount: str, price: str
) -> None:
    assert fatturapa.amount(Decimal(value)) == amount
    assert fatturapa.price(Decimal(value)) == price
    assert fatturapa.rate(Decimal("22")) == "22.00"


def test_typographic_characters_are_mapped_to_ascii() -> None:
    text = "\u201cPromo\u201d l\u2019offerta \u2013 3\u00a0pz\u2026 \u20ac 5"

    assert fatturapa.latin1_text(text, "Description") == '"Promo" l\'offerta - 3 pz... EUR 5'
    # Latin-1 letters stay as they are.
    assert fatturapa.latin1_text("Citt\u00e0 d\u2019Aosta", "City") == "Citt\u00e0 d'Aosta"


@pytest.mark.parametrize("char", ["\u2192", "\u4e2d", "\U0001f600", "\x07"])
def test_unmappable_characters_are_refused_naming_the_field(char: str) -> None:
    with pytest.raises(EInvoiceError, match=r"Description of line 2 contains"):
        fatturapa.latin1_text(f"Freccia {char} qui", "Description of line 2")


def test_too_long_text_is_refused_naming_the_field() -> None:
    with pytest.raises(EInvoiceError, match="Buyer name has 81 characters; FatturaPA allows 80"):
        fatturapa.latin1_text("x" * 81, "Buyer name", max_length=80)


def test_an_export_with_an_unmappable_description_is_refused_and_uses_no_progressive(
    settings: object, seller: SellerProfile, finance: object
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    invoice = issued(finance, italian_client(), [
        ("Servizi \u201cbase\u201d", "1", "10.00", "22.00", ""),
        ("Servizi \u2192 extra", "1", "10.00", "22.00", ""),
    ])  # fmt: skip

    with pytest.raises(EInvoiceError, match="Description of line 2 contains '\u2192'"):
        fatturapa.einvoice_export(by=finance, invoice=invoice)

    assert not EInvoiceExport.objects.exists()
    assert not EInvoiceCounter.objects.filter(last_value__gt=0).exists()


# File names and progressives -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"), [(1, "00001"), (35, "0000Z"), (36, "00010"), (36**5 - 1, "ZZZZZ")]
)
def test_progressives_are_five_base36_characters(value: int, code: str) -> None:
    assert fatturapa.progressive_code(value) == code
    assert fatturapa.file_name("IT01234560017", value) == f"IT01234560017_{code}.xml"


@pytest.mark.parametrize("value", [0, 36**5])
def test_progressives_outside_the_range_are_refused(value: int) -> None:
    with pytest.raises(EInvoiceError, match="exhausted"):
        fatturapa.progressive_code(value)


def test_each_export_takes_the_next_progressive_of_its_seller(
    settings: object, seller: SellerProfile, finance: object
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    client = italian_client()
    first = issued(finance, client, [("A", "1", "10.00", "22.00", "")])
    second = issued(finance, client, [("B", "1", "10.00", "22.00", "")])
    EInvoiceCounter.objects.create(prefix="IT09999990154", last_value=40)

    names = [
        fatturapa.einvoice_export(by=finance, invoice=first).file_name,
        fatturapa.einvoice_export(by=finance, invoice=second).file_name,
        # Exporting the same invoice again (a discarded file is resent) takes a new progressive.
        fatturapa.einvoice_export(by=finance, invoice=first).file_name,
    ]

    assert names == [
        "IT01234560017_00001.xml", "IT01234560017_00002.xml", "IT01234560017_00003.xml"
    ]  # fmt: skip
    assert EInvoiceCounter.objects.get(prefix="IT09999990154").last_value == 40
    first_export = EInvoiceExport.objects.get(file_name=names[0])
    assert (
        first_export.sha256 == __import__("hashlib").sha256(first_export.xml.encode()).hexdigest()
    )
    assert first_export.created_by == finance


def test_a_progressive_is_unique_per_seller(seller: SellerProfile, finance: object) -> None:
    invoice = InvoiceFactory()
    values = {
        "invoice": invoice, "seller_prefix": "IT01234560017", "document_type": "TD01",
        "xml": "<x/>", "sha256": "0" * 64, "validation": "valid", "created_by": finance,
    }  # fmt: skip
    EInvoiceExport.objects.create(progressive=7, file_name="IT01234560017_00007.xml", **values)

    with pytest.raises(IntegrityError, match="einvoice_export_progressive_unique"):
        EInvoiceExport.objects.create(progressive=7, file_name="other.xml", **values)


@pytest.mark.parametrize(
    ("field", "value", "constraint"),
    [
        ("validation", "maybe", "einvoice_export_validation_valid"),
        ("document_type", "TD24", "einvoice_export_document_type_valid"),
        ("progressive", 0, "einvoice_export_progressive_positive"),
    ],
)
def test_export_constraints(finance: object, field: str, value: object, constraint: str) -> None:
    values = {
        "invoice": InvoiceFactory(), "seller_prefix": "IT01234560017", "document_type": "TD01",
        "xml": "<x/>", "sha256": "0" * 64, "validation": "valid", "created_by": finance,
        "progressive": 1, "file_name": "IT01234560017_00001.xml",
    }  # fmt: skip
    values[field] = value

    with pytest.raises(IntegrityError, match=constraint):
        EInvoiceExport.objects.create(**values)


# Batch ----------------------------------------------------------------------------------------


def test_a_batch_exports_one_file_each_in_a_zip(
    settings: object, seller: SellerProfile, finance: object
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    client = italian_client()
    invoices = [issued(finance, client, [(f"L{n}", "1", "10.00", "22.00", "")]) for n in range(3)]

    batch = fatturapa.einvoice_export_batch(by=finance, invoices=invoices)

    archive = zipfile.ZipFile(io.BytesIO(batch.zip_bytes))
    assert sorted(archive.namelist()) == [
        "IT01234560017_00001.xml", "IT01234560017_00002.xml", "IT01234560017_00003.xml"
    ]  # fmt: skip
    assert batch.zip_name.startswith("IT01234560017_")
    assert batch.zip_name.endswith(".zip")
    numbers = {
        ET.fromstring(archive.read(name)).find(".//Numero").text  # noqa: S314 (our own files)
        for name in archive.namelist()
    }
    assert numbers == {invoice.display_number for invoice in invoices}
    assert EInvoiceExport.objects.count() == 3


def test_a_batch_with_one_refused_invoice_exports_nothing(
    settings: object, seller: SellerProfile, finance: object
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    good = issued(finance, italian_client(), [("A", "1", "10.00", "22.00", "")])
    anonymous = ClientFactory(street="Via X 1", postal_code="10100", city="Torino", province="TO")
    bad = issued(finance, anonymous, [("B", "1", "10.00", "22.00", "")])

    with pytest.raises(EInvoiceRefusedError) as refused:
        fatturapa.einvoice_export_batch(by=finance, invoices=[good, bad])

    assert [(f.code, f.invoice_id) for f in refused.value.findings] == [("00417", bad.pk)]
    assert bad.display_number in str(refused.value)
    assert not EInvoiceExport.objects.exists()


def test_an_export_refuses_an_invoice_with_sdi_findings(
    settings: object, seller: SellerProfile, finance: object
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    # Four lines of 0.25 at 22%: 0.06 VAT each by the per-line rule (0.24), while the exchange
    # system computes 1.00 x 22% = 0.22 for the rate.
    invoice = issued(finance, italian_client(), [
        (f"Minuteria {n}", "1", "0.25", "22.00", "") for n in range(4)
    ])  # fmt: skip

    with pytest.raises(EInvoiceRefusedError, match="00421") as refused:
        fatturapa.einvoice_export(by=finance, invoice=invoice)

    finding = refused.value.findings[0]
    assert (finding.code, finding.expected, finding.actual) == (
        "00421", Decimal("0.22"), Decimal("0.24")
    )  # fmt: skip


# Refusals and access -------------------------------------------------------------------------


def test_a_draft_is_not_exported(seller: SellerProfile, finance: object) -> None:
    draft = InvoiceFactory(client=italian_client(), created_by=finance)

    with pytest.raises(EInvoiceError, match="only issued invoices"):
        fatturapa.einvoice_export(by=finance, invoice=draft)


def test_without_a_seller_profile_nothing_is_exported(finance: object) -> None:
    invoice = issued(finance, italian_client(), [("A", "1", "10.00", "22.00", "")])

    with pytest.raises(EInvoiceError, match="seller fiscal profile is missing"):
        fatturapa.einvoice_export(by=finance, invoice=invoice)


@pytest.mark.parametrize("who", ["nam", "team_lead", "account_staff", "outsider"])
def test_only_finance_and_admin_export(
    settings: object, seller: SellerProfile, finance: object, who: str
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    client = italian_client()
    invoice = issued(finance, client, [("A", "1", "10.00", "22.00", "")])
    user = {
        "nam": lambda: AccountTeamMemberFactory(client=client, role="nam").user,
        "team_lead": lambda: client.team.lead,
        "account_staff": lambda: UserFactory(roles=[Role.ACCOUNT_STAFF]),
        "outsider": lambda: UserFactory(),
    }[who]()

    with pytest.raises(NotAllowedError):
        fatturapa.einvoice_export(by=user, invoice=invoice)
    with pytest.raises(NotAllowedError):
        fatturapa.einvoice_export_batch(by=user, invoices=[invoice])

    assert not EInvoiceExport.objects.exists()
    admin = UserFactory(roles=[Role.ADMIN])
    assert fatturapa.einvoice_export(by=admin, invoice=invoice).created_by == admin


def test_an_empty_batch_is_refused(seller: SellerProfile, finance: object) -> None:
    with pytest.raises(EInvoiceError, match="at least one invoice"):
        fatturapa.einvoice_export_batch(by=finance, invoices=[])


# Seller profile ------------------------------------------------------------------------------


def test_the_seller_profile_is_one_row(seller: SellerProfile) -> None:
    with pytest.raises(IntegrityError, match="seller_profile_single_row"):
        SellerProfile.objects.create(
            name="Altra", vat_number="07654320154", street="Via A", postal_code="10100",
            city="Torino", transmitter_code="07654320154",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "constraint"),
    [
        ("vat_number", "123", "seller_profile_vat_number_format"),
        ("postal_code", "2012", "seller_profile_postal_code_format"),
        ("rea_number", "", "seller_profile_rea_complete"),
        ("regime_fiscale", "RF03", "seller_profile_regime_fiscale_valid"),
    ],
)
def test_seller_profile_constraints(db: None, field: str, value: str, constraint: str) -> None:
    profile = SellerProfileFactory.build(**{field: value})

    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        profile.save()


def test_seller_identifiers_are_checked_with_stdnum(db: None) -> None:
    profile = SellerProfileFactory.build(
        vat_number="01234567890", tax_code="RSSMRA80A01H501X", province="", transmitter_code="X1"
    )

    with pytest.raises(ValidationError) as error:
        profile.full_clean()

    assert set(error.value.message_dict) == {
        "vat_number", "tax_code", "province", "transmitter_code"
    }  # fmt: skip
    assert "not a valid Italian VAT number" in error.value.message_dict["vat_number"][0]


def test_a_valid_seller_profile_is_normalised(db: None) -> None:
    profile = SellerProfileFactory.build(vat_number="IT01234560017", province="mi")

    profile.full_clean()

    assert (profile.vat_number, profile.province) == ("01234560017", "MI")
    assert profile.file_prefix == "IT01234560017"


# Admin -----------------------------------------------------------------------------------


def test_the_admin_edits_the_one_seller_profile(admin_user: object, login: object) -> None:
    client = login(admin_user)
    form = {
        "name": "Key Accounts Italia S.r.l.", "vat_number": "IT01234560017",
        "tax_code": "01234560017", "regime_fiscale": "RF01", "street": "Via Torino",
        "street_number": "12", "postal_code": "20123", "city": "Milano", "province": "mi",
        "country": "IT", "transmitter_country": "IT", "transmitter_code": "01234560017",
        "rea_office": "", "rea_number": "", "share_capital": "", "email": "", "phone": "",
    }  # fmt: skip

    refused = client.post("/admin/billing/sellerprofile/add/", {**form, "vat_number": "123"})
    assert refused.status_code == 200
    assert not SellerProfile.objects.exists()
    assert client.post("/admin/billing/sellerprofile/add/", form).status_code == 302

    profile = SellerProfile.objects.get()
    assert (profile.vat_number, profile.province) == ("01234560017", "MI")
    # One row: no second one, and it is never deleted.
    assert client.get("/admin/billing/sellerprofile/add/").status_code == 403
    assert client.get(f"/admin/billing/sellerprofile/{profile.pk}/delete/").status_code == 403


def test_the_admin_shows_exports_and_counters_read_only(
    settings: object, admin_user: object, login: object, seller: SellerProfile, finance: object
) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None
    invoice = issued(finance, italian_client(), [("A", "1", "10.00", "22.00", "")])
    export = fatturapa.einvoice_export(by=finance, invoice=invoice)
    client = login(admin_user)

    for url in (
        "/admin/billing/einvoiceexport/",
        f"/admin/billing/einvoiceexport/{export.pk}/change/",
        "/admin/billing/einvoicecounter/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/billing/einvoiceexport/add/").status_code == 403
    assert client.get(f"/admin/billing/einvoiceexport/{export.pk}/delete/").status_code == 403
