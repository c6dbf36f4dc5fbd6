"""The demo book's e-invoices: a seller fiscal profile and issued documents of every FatturaPA
kind (several VAT rates, exempt lines with nature codes, a credit note, an intra-EU client, a
split-payment client), each exported by finance and valid against the official schema read from
../shared/fatturapa (never copied into the repo)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.contrib.auth.models import User
from django.db.models import Count, Q
from stdnum.eu import vat as eu_vat
from stdnum.it import iva

from accounts_crm import demo
from billing import fatturapa
from billing.models import ISSUED_STATUSES, CheckFinding, EInvoiceExport, Invoice, SellerProfile
from orders.models import Order
from tests.billing.conftest import FATTURAPA_SCHEMA, FATTURAPA_SHARED

pytestmark = pytest.mark.django_db

SHARED = FATTURAPA_SHARED
SCHEMA = FATTURAPA_SCHEMA
NS = {"p": fatturapa.NAMESPACE}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seeded once for the module (the book takes seconds); rolled back at its end."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            started = time.monotonic()
            demo.seed()
            elapsed = time.monotonic() - started
            yield elapsed
            transaction.set_rollback(True)


@pytest.fixture
def fatturapa_schema(settings: object) -> Path:
    if not SCHEMA.is_file():
        pytest.skip(f"the official FatturaPA schema is not in {SHARED}")
    settings.FATTURAPA_SCHEMA_PATH = str(SCHEMA)
    return SCHEMA


@pytest.fixture
def anna(seeded: float) -> User:
    """The demo's finance person: only finance exports."""
    return User.objects.get(username="anna.finance")


def exportable() -> object:
    """Issued documents of the demo book the checks passed (no open finding, SdI included)."""
    return Invoice.objects.filter(status__in=ISSUED_STATUSES, check_status="clean")


def latest(invoices: object) -> Invoice:
    invoice = invoices.order_by("-issue_date", "-pk").first()
    assert invoice is not None, "the demo book has no such invoice"
    return invoice


def export(by: User, invoice: Invoice) -> ET.Element:
    exported = fatturapa.einvoice_export(by=by, invoice=invoice)
    assert exported.validation == EInvoiceExport.Validation.VALID
    assert exported.file_name.startswith(f"IT{demo.DEMO_SELLER_VAT}_")
    return ET.fromstring(exported.xml.encode("utf-8"))  # noqa: S314 (our own file)


def texts(root: ET.Element, path: str) -> list[str]:
    return [element.text for element in root.findall(path, NS)]


def test_it_seeds_the_seller_profile_valid_for_the_exchange_system(seeded: float) -> None:
    seller = SellerProfile.objects.get()
    seller.full_clean()
    assert iva.is_valid(seller.vat_number)
    assert seller.tax_code == seller.vat_number
    assert seller.regime_fiscale == "RF01"
    assert (seller.transmitter_country, seller.transmitter_code) == ("IT", seller.vat_number)
    assert (seller.postal_code, seller.province, seller.country) == ("20124", "MI", "IT")
    assert seller.file_prefix == f"IT{demo.DEMO_SELLER_VAT}"


def test_it_makes_the_einvoice_documents_once_and_keeps_the_seller(seeded: float) -> None:
    # A ceiling against a pathological slowdown, not a speed test (about 19 s on a 2-core
    # machine; timings belong to the benchmark command): `./dev run` seeds this book.
    assert seeded < 90
    SellerProfile.objects.update(name="Key Account Solutions Italia S.p.A.")
    before = (
        Order.objects.filter(client_po__startswith="DEMO-FE-").count(),
        Invoice.objects.count(),
        CheckFinding.objects.count(),
    )
    assert before[0] == len(demo.DEMO_EINVOICES)

    demo.seed()

    after = (
        Order.objects.filter(client_po__startswith="DEMO-FE-").count(),
        Invoice.objects.count(),
        CheckFinding.objects.count(),
    )
    assert after == before
    assert SellerProfile.objects.get().name == "Key Account Solutions Italia S.p.A."


def test_the_einvoice_documents_pass_every_check(seeded: float) -> None:
    documents = Invoice.objects.filter(order__client_po__startswith="DEMO-FE-")
    assert documents.count() == len(demo.DEMO_EINVOICES) + 1  # and one credit note
    assert set(documents.values_list("status", flat=True)) == {"issued"}
    assert set(documents.values_list("check_status", flat=True)) == {"clean"}
    assert not CheckFinding.objects.filter(invoice__in=documents).exists()


def test_it_exports_an_invoice_with_several_vat_rates(fatturapa_schema: Path, anna: User) -> None:
    several = (
        exportable()
        .filter(kind="invoice")
        .annotate(rates=Count("lines__vat_rate", distinct=True, filter=Q(lines__vat_rate__gt=0)))
        .filter(rates__gte=3)
    )
    invoice = latest(several)

    root = export(anna, invoice)

    assert texts(root, ".//DatiGeneraliDocumento/TipoDocumento") == ["TD01"]
    rates = texts(root, ".//DatiRiepilogo/AliquotaIVA")
    assert {"22.00", "10.00", "4.00"} <= set(rates)
    assert len(rates) == len(set(rates))  # one summary row per rate
    assert set(texts(root, ".//DatiRiepilogo/EsigibilitaIVA")) == {"I"}
    assert texts(root, ".//DatiGeneraliDocumento/Numero") == [invoice.display_number]
    assert texts(root, ".//ImportoTotaleDocumento") == [str(invoice.gross_total)]


def test_it_exports_exempt_lines_with_their_nature_codes(
    fatturapa_schema: Path, anna: User
) -> None:
    invoice = latest(
        exportable().filter(kind="invoice", lines__vat_rate=0, lines__vat_nature="N4").distinct()
    )

    root = export(anna, invoice)

    lines = root.findall(".//DettaglioLinee", NS)
    exempt = [line for line in lines if line.findtext("AliquotaIVA") == "0.00"]
    assert exempt
    assert all(line.findtext("Natura") for line in exempt)
    assert {"N4", "N1"} <= set(texts(root, ".//DettaglioLinee/Natura"))
    assert all(
        row.findtext("Natura") and row.findtext("RiferimentoNormativo")
        for row in root.findall(".//DatiRiepilogo", NS)
        if row.findtext("AliquotaIVA") == "0.00"
    )
    # Exempt amounts above 77.47: virtual stamp duty.
    assert texts(root, ".//DatiBollo/BolloVirtuale") == ["SI"]
    assert texts(root, ".//DatiBollo/ImportoBollo") == ["2.00"]


def test_it_exports_a_credit_note_that_names_its_invoice(
    fatturapa_schema: Path, anna: User
) -> None:
    note = latest(
        exportable()
        .filter(kind="credit_note")
        .annotate(rates=Count("lines__vat_rate", distinct=True))
        .filter(rates__gte=2)
    )

    root = export(anna, note)

    assert texts(root, ".//DatiGeneraliDocumento/TipoDocumento") == ["TD04"]
    assert texts(root, ".//DatiFattureCollegate/IdDocumento") == [note.credits.display_number]
    assert texts(root, ".//DatiFattureCollegate/Data") == [note.credits.issue_date.isoformat()]
    assert texts(root, ".//ImportoTotaleDocumento") == [str(note.gross_total)]
    assert not root.findall(".//DatiPagamento", NS)


def test_it_exports_an_invoice_to_an_eu_client(fatturapa_schema: Path, anna: User) -> None:
    invoice = latest(exportable().filter(kind="invoice").exclude(client__country="IT"))
    client = invoice.client
    assert eu_vat.is_valid(client.vat_number)

    root = export(anna, invoice)

    buyer = root.find(".//CessionarioCommittente", NS)
    assert buyer.findtext("DatiAnagrafici/IdFiscaleIVA/IdPaese") == client.country
    assert buyer.findtext("DatiAnagrafici/IdFiscaleIVA/IdCodice") == client.vat_number[2:]
    assert buyer.findtext("Sede/Nazione") == client.country
    assert buyer.findtext("Sede/CAP") == "00000"
    assert texts(root, ".//DatiTrasmissione/CodiceDestinatario") == ["XXXXXXX"]


def test_the_eu_client_invoice_carries_intra_eu_natures(fatturapa_schema: Path, anna: User) -> None:
    invoice = Invoice.objects.get(order__client_po="DEMO-FE-foreign")

    root = export(anna, invoice)

    assert texts(root, ".//CessionarioCommittente//IdPaese") == ["FR"]
    assert set(texts(root, ".//DatiRiepilogo/Natura")) == {"N3.2", "N2.1"}
    assert set(texts(root, ".//DatiRiepilogo/AliquotaIVA")) == {"0.00"}


def test_it_exports_split_payment_with_esigibilita_s(fatturapa_schema: Path, anna: User) -> None:
    invoice = latest(exportable().filter(kind="invoice", client__split_payment=True))

    root = export(anna, invoice)

    assert set(texts(root, ".//DatiRiepilogo/EsigibilitaIVA")) == {"S"}
    # The client pays us the taxable amount; the VAT goes to the State.
    assert texts(root, ".//DettaglioPagamento/ImportoPagamento") == [str(invoice.net_total)]
    assert invoice.vat_total > 0


def test_every_demo_einvoice_kind_exports_in_one_valid_batch(
    fatturapa_schema: Path, anna: User
) -> None:
    documents = list(Invoice.objects.filter(order__client_po__startswith="DEMO-FE-"))

    batch = fatturapa.einvoice_export_batch(by=anna, invoices=documents)

    assert {e.validation for e in batch.exports} == {EInvoiceExport.Validation.VALID}
    assert {e.document_type for e in batch.exports} == {"TD01", "TD04"}
    with zipfile.ZipFile(io.BytesIO(batch.zip_bytes)) as archive:
        assert sorted(archive.namelist()) == sorted(e.file_name for e in batch.exports)
    progressives = sorted(e.progressive for e in batch.exports)
    assert progressives == list(range(progressives[0], progressives[0] + len(documents)))
