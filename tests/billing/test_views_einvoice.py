"""E-invoice export on the billing pages (billing/views.py): the invoice page's "Export e-invoice
(XML)" button and its past exports, the list's "Export filtered (ZIP)", refusals shown as
messages with each SdI finding, the batch limit, and who may do it (finance and admin; anyone
else who sees the invoice 403, who does not 404)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages

from accounts_crm.access import Role
from billing import fatturapa, views
from billing.models import EInvoiceCounter, EInvoiceExport
from tests.factories import AccountTeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

SELLER_FILE = "IT01234560017_{:05d}.xml"
# Four lines of 0.25 at 22%: 0.06 VAT each (0.24) where the exchange system computes 0.22.
# The invoice page's cost for finance, whatever the number of exports (they are one query).
PAGE_QUERIES = 14
SDI_00421 = [(f"Minuteria {n}", "1", "0.25", "22.00", "") for n in range(4)]


@pytest.fixture
def as_user(client: Any) -> Callable[[Any], Any]:
    def login(user: Any) -> Any:
        client.force_login(user)
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return login


@pytest.fixture
def no_schema(settings: Any) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def detail_url(invoice: Any) -> str:
    return f"/billing/invoices/{invoice.pk}/"


# One invoice ----------------------------------------------------------------------------------


def test_it_downloads_the_xml_of_an_issued_invoice_valid_against_the_schema(
    schema: Path, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    invoice = issued_invoice(einvoice_client())

    response = as_user(finance).post(f"/billing/invoices/{invoice.pk}/einvoice/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == (f'attachment; filename="{SELLER_FILE.format(1)}"')
    assert fatturapa.validate_xml(response.content, schema_path=str(schema)).status == "valid"
    export = EInvoiceExport.objects.get()
    assert (export.invoice, export.file_name, export.validation) == (
        invoice, SELLER_FILE.format(1), "valid"
    )  # fmt: skip
    assert export.xml.encode("utf-8") == response.content
    assert export.created_by == finance


def test_it_exports_a_credit_note_as_td04(
    schema: Path, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    client = einvoice_client()
    note = issued_invoice(client, credits=issued_invoice(client))
    page = as_user(finance).get(detail_url(note)).content.decode()
    assert 'data-testid="einvoice-form"' in page

    response = as_user(finance).post(f"/billing/invoices/{note.pk}/einvoice/")

    assert response.status_code == 200
    assert b"<TipoDocumento>TD04</TipoDocumento>" in response.content
    assert fatturapa.validate_xml(response.content, schema_path=str(schema)).status == "valid"


def test_a_refused_export_lists_each_sdi_finding_and_keeps_nothing(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    invoice = issued_invoice(einvoice_client(), SDI_00421)

    response = as_user(finance).post(f"/billing/invoices/{invoice.pk}/einvoice/")

    assert response.status_code == 302
    assert response["Location"] == f"{detail_url(invoice)}#einvoice"
    shown = messages_of(response)
    assert shown[0].startswith("Nothing was exported: the exchange system (SdI) would reject")
    assert len(shown) == 2
    assert shown[1] == (
        f"{invoice.display_number}: SdI 00421, VAT at 22.00% (expected 0.22, found 0.24)"
    )
    assert not EInvoiceExport.objects.exists()
    assert not EInvoiceCounter.objects.filter(last_value__gt=0).exists()
    page = as_user(finance).get(response["Location"]).content.decode()
    assert "SdI 00421" in page
    assert "Not exported yet." in page


def test_a_draft_has_no_button_and_its_export_is_refused(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    draft = issued_invoice(einvoice_client(), issue=False)
    page = as_user(finance).get(detail_url(draft)).content.decode()
    assert 'data-testid="einvoice-form"' not in page
    assert 'data-testid="einvoice-exports"' not in page

    response = as_user(finance).post(f"/billing/invoices/{draft.pk}/einvoice/")

    assert response.status_code == 302
    assert any("only issued invoices" in message for message in messages_of(response))
    assert not EInvoiceExport.objects.exists()


def test_without_a_seller_profile_the_page_says_so(
    no_schema: None, finance: Any, as_user: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    invoice = issued_invoice(einvoice_client())

    response = as_user(finance).post(f"/billing/invoices/{invoice.pk}/einvoice/")

    assert response.status_code == 302
    assert any("seller fiscal profile is missing" in m for m in messages_of(response))


def test_the_page_lists_past_exports_and_downloads_each_stored_file(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    finance.first_name, finance.last_name = "Fiona", "Conti"
    finance.save()
    invoice = issued_invoice(einvoice_client())
    first = fatturapa.einvoice_export(by=finance, invoice=invoice)
    second = fatturapa.einvoice_export(by=finance, invoice=invoice)

    page = as_user(finance).get(detail_url(invoice)).content.decode()

    assert page.count('data-testid="einvoice-export"') == 2
    # Newest first, who exported it, and what the validation said.
    assert page.index(second.file_name) < page.index(first.file_name)
    assert "Fiona Conti" in page
    assert page.count("not validated: schema not configured") == 2
    url = f"/billing/invoices/{invoice.pk}/einvoice/{first.pk}/"
    assert f'href="{url}"' in page
    download = as_user(finance).get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/xml"
    assert download["Content-Disposition"] == f'attachment; filename="{first.file_name}"'
    assert download.content == first.xml.encode("utf-8")
    assert EInvoiceExport.objects.count() == 2  # a download exports nothing new


def test_a_valid_export_is_shown_as_validated(
    schema: Path, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    invoice = issued_invoice(einvoice_client())
    fatturapa.einvoice_export(by=finance, invoice=invoice)

    page = as_user(finance).get(detail_url(invoice)).content.decode()

    assert "Validated against the schema" in page
    assert "not validated: schema not configured" not in page


def test_a_file_of_another_invoice_is_not_found_through_this_one(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    client = einvoice_client()
    mine, other = issued_invoice(client), issued_invoice(client)
    export = fatturapa.einvoice_export(by=finance, invoice=other)

    response = as_user(finance).get(f"/billing/invoices/{mine.pk}/einvoice/{export.pk}/")

    assert response.status_code == 404


def test_the_exports_list_costs_the_same_queries_whatever_its_length(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any, django_assert_num_queries: Any,
) -> None:  # fmt: skip
    invoice = issued_invoice(einvoice_client())
    fatturapa.einvoice_export(by=finance, invoice=invoice)
    browser = as_user(finance)
    browser.get(detail_url(invoice))  # session and caches warm

    with django_assert_num_queries(PAGE_QUERIES):
        one = browser.get(detail_url(invoice))
    for _ in range(3):
        fatturapa.einvoice_export(by=finance, invoice=invoice)
    with django_assert_num_queries(PAGE_QUERIES):
        four = browser.get(detail_url(invoice))

    assert one.content.decode().count('data-testid="einvoice-export"') == 1
    assert four.content.decode().count('data-testid="einvoice-export"') == 4


# The filtered list --------------------------------------------------------------------------


def test_it_exports_the_filtered_list_as_a_zip_skipping_drafts(
    schema: Path, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    client = einvoice_client()
    first, second = issued_invoice(client), issued_invoice(client)
    note = issued_invoice(client, credits=first)
    issued_invoice(client, issue=False)  # a draft: skipped and counted
    issued_invoice(einvoice_client(vat_number="09876540015"))  # filtered out
    browser = as_user(finance)
    listing = browser.get("/billing/", {"client": client.pk}).content.decode()
    assert 'data-testid="einvoice-batch-form"' in listing
    assert f'action="/billing/invoices/einvoice-batch/?client={client.pk}"' in listing

    response = browser.post(f"/billing/invoices/einvoice-batch/?client={client.pk}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="IT01234560017_')
    assert response["X-Skipped-Drafts"] == "1"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [SELLER_FILE.format(n) for n in (1, 2, 3)]
    for name in archive.namelist():
        assert fatturapa.validate_xml(archive.read(name), schema_path=str(schema)).status == (
            "valid"
        )
    exported = set(EInvoiceExport.objects.values_list("invoice_id", flat=True))
    assert exported == {first.pk, second.pk, note.pk}
    assert messages_of(response) == [
        "1 draft matching the filters was skipped: only issued invoices and credit notes are "
        "exported."
    ]


def test_the_batch_refuses_more_than_its_limit_and_says_to_narrow_the_filter(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(views, "EINVOICE_BATCH_LIMIT", 2)
    client = einvoice_client()
    for _ in range(3):
        issued_invoice(client)

    response = as_user(finance).post(f"/billing/invoices/einvoice-batch/?client={client.pk}")

    assert response.status_code == 302
    assert response["Location"] == f"/billing/?client={client.pk}"
    assert messages_of(response) == [
        "More than 2 issued invoices match these filters: narrow them (a period, a client) and "
        "export again."
    ]
    assert not EInvoiceExport.objects.exists()


def test_the_batch_limit_is_five_hundred() -> None:
    assert views.EINVOICE_BATCH_LIMIT == 500


def test_one_refused_invoice_exports_none_of_the_batch(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    client = einvoice_client()
    issued_invoice(client)
    bad = issued_invoice(client, SDI_00421)

    response = as_user(finance).post(f"/billing/invoices/einvoice-batch/?client={client.pk}")

    assert response.status_code == 302
    shown = messages_of(response)
    assert shown[0].startswith("Nothing was exported")
    assert any("SdI 00421" in m and bad.display_number in m for m in shown[1:])
    assert not EInvoiceExport.objects.exists()
    assert not EInvoiceCounter.objects.filter(last_value__gt=0).exists()


def test_a_filter_matching_no_issued_invoice_exports_nothing(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    client = einvoice_client()
    issued_invoice(client, issue=False)

    response = as_user(finance).post(f"/billing/invoices/einvoice-batch/?client={client.pk}")

    assert response.status_code == 302
    assert messages_of(response) == ["No issued invoice or credit note matches these filters."]
    assert not EInvoiceExport.objects.exists()


def test_invalid_filters_export_nothing(
    no_schema: None, seller: Any, finance: Any, as_user: Any, einvoice_client: Any,
    issued_invoice: Any,
) -> None:  # fmt: skip
    issued_invoice(einvoice_client())

    response = as_user(finance).post("/billing/invoices/einvoice-batch/?issued_after=not-a-date")

    assert response.status_code == 302
    assert messages_of(response) == ["Correct the filters before exporting."]
    assert not EInvoiceExport.objects.exists()


# Access ---------------------------------------------------------------------------------------


@pytest.fixture
def world(
    seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any, settings: Any
) -> dict[str, Any]:
    settings.FATTURAPA_SCHEMA_PATH = None
    client = einvoice_client()
    invoice = issued_invoice(client)
    export = fatturapa.einvoice_export(by=finance, invoice=invoice)
    return {
        "invoice": invoice,
        "export": export,
        "users": {
            "finance": finance,
            "admin": UserFactory(roles=[Role.ADMIN]),
            "nam": AccountTeamMemberFactory(client=client, role="nam").user,
            "lead": client.team.lead,
            "pm": AccountTeamMemberFactory(client=client, role="project_manager").user,
            "outsider": UserFactory(roles=[Role.ACCOUNT_STAFF]),
        },
    }


# Who sees the invoice but may not export: 403; who does not see it: 404.
EXPECTED = {"finance": 200, "admin": 200, "nam": 403, "lead": 403, "pm": 403, "outsider": 404}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("what", ["export", "download", "batch"])
def test_only_finance_and_admin_export(
    world: dict[str, Any], as_user: Any, client: Any, who: str, what: str
) -> None:
    invoice, export = world["invoice"], world["export"]
    browser = as_user(world["users"][who])
    before = EInvoiceExport.objects.count()

    if what == "export":
        response = browser.post(f"/billing/invoices/{invoice.pk}/einvoice/")
        expected = EXPECTED[who]
    elif what == "download":
        response = browser.get(f"/billing/invoices/{invoice.pk}/einvoice/{export.pk}/")
        expected = EXPECTED[who]
    else:
        response = browser.post(f"/billing/invoices/einvoice-batch/?client={invoice.client_id}")
        expected = 200 if EXPECTED[who] == 200 else 403  # no row: a role question only

    assert response.status_code == expected
    created = EInvoiceExport.objects.count() - before
    assert created == (1 if expected == 200 and what != "download" else 0)


@pytest.mark.parametrize("who", ["nam", "lead", "pm"])
def test_the_invoice_page_and_list_show_no_export_to_others(
    world: dict[str, Any], as_user: Any, who: str
) -> None:
    browser = as_user(world["users"][who])

    page = browser.get(detail_url(world["invoice"])).content.decode()
    listing = browser.get("/billing/").content.decode()

    assert 'data-testid="einvoice-form"' not in page
    assert 'data-testid="einvoice-exports"' not in page
    assert world["export"].file_name not in page
    assert 'data-testid="einvoice-batch-form"' not in listing


@pytest.mark.parametrize(
    "url", ["/billing/invoices/{pk}/einvoice/", "/billing/invoices/einvoice-batch/"]
)
def test_anonymous_is_sent_to_the_login_page(world: dict[str, Any], client: Any, url: str) -> None:
    response = client.post(url.format(pk=world["invoice"].pk))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_exports_only_answer_their_methods(world: dict[str, Any], as_user: Any) -> None:
    browser = as_user(world["users"]["finance"])
    invoice, export = world["invoice"], world["export"]

    assert browser.get(f"/billing/invoices/{invoice.pk}/einvoice/").status_code == 405
    assert browser.get("/billing/invoices/einvoice-batch/").status_code == 405
    assert browser.post(f"/billing/invoices/{invoice.pk}/einvoice/{export.pk}/").status_code == 405
