"""E-invoice export through the API (billing/api.py): `POST /api/v1/invoices/{id}/einvoice/`
answers the FatturaPA XML, `POST /api/v1/invoices/einvoice-batch/` a zip of the list's filtered
issued invoices; refusals are 400 in the one error shape with every SdI finding; the OpenAPI
schema documents the binary answers; only finance and admin export (others who see the
invoice 403, who do not 404)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from accounts_crm.access import Role
from billing import api as billing_api
from billing import fatturapa
from billing.models import EInvoiceCounter, EInvoiceExport
from tests.clients.api_book import api_as
from tests.factories import AccountTeamMemberFactory, UserFactory
from tests.orders.test_api import assert_error

pytestmark = pytest.mark.django_db

SDI_00421 = [(f"Minuteria {n}", "1", "0.25", "22.00", "") for n in range(4)]
BATCH = "/api/v1/invoices/einvoice-batch/"


def one(invoice: Any) -> str:
    return f"/api/v1/invoices/{invoice.pk}/einvoice/"


@pytest.fixture
def no_schema(settings: Any) -> None:
    settings.FATTURAPA_SCHEMA_PATH = None


def test_it_answers_the_xml_valid_against_the_schema(
    schema: Path, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    invoice = issued_invoice(einvoice_client())

    response = api_as(finance).post(one(invoice))

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == 'attachment; filename="IT01234560017_00001.xml"'
    assert fatturapa.validate_xml(response.content, schema_path=str(schema)).status == "valid"
    export = EInvoiceExport.objects.get()
    assert (export.invoice_id, export.created_by, export.validation) == (
        invoice.pk, finance, "valid"
    )  # fmt: skip


def test_it_answers_the_xml_to_a_caller_asking_for_xml(
    no_schema: None, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    invoice = issued_invoice(einvoice_client())

    response = api_as(finance).post(one(invoice), HTTP_ACCEPT="application/xml")

    assert response.status_code == 200
    assert response.content.startswith(b"<?xml")


def test_a_refusal_lists_every_sdi_finding_and_keeps_nothing(
    no_schema: None, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    invoice = issued_invoice(einvoice_client(), SDI_00421)

    response = api_as(finance).post(one(invoice), HTTP_ACCEPT="application/xml")

    body = assert_error(response, 400, "einvoice_refused", {"findings"})
    assert response["Content-Type"] == "application/json"
    finding = f"{invoice.display_number}: SdI 00421, VAT at 22.00% (expected 0.22, found 0.24)"
    assert body["fields"]["findings"] == [finding]
    assert finding in body["message"]
    assert not EInvoiceExport.objects.exists()
    assert not EInvoiceCounter.objects.filter(last_value__gt=0).exists()


def test_a_draft_is_refused_with_a_clear_error(
    no_schema: None, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    draft = issued_invoice(einvoice_client(), issue=False)

    body = assert_error(api_as(finance).post(one(draft)), 400, "einvoice_error", set())

    assert "only issued invoices" in body["message"]
    assert not EInvoiceExport.objects.exists()


def test_without_a_seller_profile_it_says_so(
    no_schema: None, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    invoice = issued_invoice(einvoice_client())

    body = assert_error(api_as(finance).post(one(invoice)), 400, "einvoice_error", set())

    assert "seller fiscal profile is missing" in body["message"]


# Batch ----------------------------------------------------------------------------------------


def test_the_batch_exports_the_filtered_issued_invoices_as_a_zip(
    schema: Path, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    client = einvoice_client()
    first = issued_invoice(client)
    note = issued_invoice(client, credits=first)
    issued_invoice(client, issue=False)  # a draft: skipped, counted
    issued_invoice(einvoice_client(vat_number="09876540015"))  # another client: filtered out

    response = api_as(finance).post(f"{BATCH}?client={client.pk}")

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="IT01234560017_')
    assert response["X-Skipped-Drafts"] == "1"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert len(archive.namelist()) == 2
    for name in archive.namelist():
        assert fatturapa.validate_xml(archive.read(name), schema_path=str(schema)).status == (
            "valid"
        )
    exported = set(EInvoiceExport.objects.values_list("invoice_id", flat=True))
    assert exported == {first.pk, note.pk}


def test_the_batch_refuses_more_than_its_limit(
    no_schema: None, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(billing_api, "EINVOICE_BATCH_LIMIT", 1)
    client = einvoice_client()
    issued_invoice(client)
    issued_invoice(client)

    body = assert_error(
        api_as(finance).post(f"{BATCH}?client={client.pk}"), 400, "einvoice_error", set()
    )

    assert body["message"] == (
        "More than 1 issued invoices match these filters: narrow them (a period, a client) and "
        "export again."
    )
    assert not EInvoiceExport.objects.exists()
    assert billing_api.EINVOICE_BATCH_LIMIT == 1
    monkeypatch.undo()
    assert billing_api.EINVOICE_BATCH_LIMIT == 500


def test_the_batch_is_all_or_nothing(
    no_schema: None, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    client = einvoice_client()
    issued_invoice(client)
    bad = issued_invoice(client, SDI_00421)

    body = assert_error(
        api_as(finance).post(f"{BATCH}?client={client.pk}"), 400, "einvoice_refused", {"findings"}
    )

    assert [bad.display_number in finding for finding in body["fields"]["findings"]] == [True]
    assert not EInvoiceExport.objects.exists()


def test_the_batch_with_nothing_to_export_or_bad_filters_is_a_clear_error(
    no_schema: None, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> None:
    client = einvoice_client()
    issued_invoice(client, issue=False)
    api = api_as(finance)

    nothing = assert_error(api.post(f"{BATCH}?client={client.pk}"), 400, "einvoice_error")
    bad = assert_error(api.post(f"{BATCH}?issued_after=not-a-date"), 400, "invalid")

    assert nothing["message"] == "No issued invoice or credit note matches these filters."
    assert set(bad["fields"]) == {"issued_after"}
    assert not EInvoiceExport.objects.exists()


# Access ---------------------------------------------------------------------------------------


@pytest.fixture
def world(
    no_schema: None, seller: Any, finance: Any, einvoice_client: Any, issued_invoice: Any
) -> dict[str, Any]:
    client = einvoice_client()
    return {
        "invoice": issued_invoice(client),
        "users": {
            "finance": finance,
            "admin": UserFactory(roles=[Role.ADMIN]),
            "nam": AccountTeamMemberFactory(client=client, role="nam").user,
            "lead": client.team.lead,
            "pm": AccountTeamMemberFactory(client=client, role="project_manager").user,
            "outsider": UserFactory(roles=[Role.ACCOUNT_STAFF]),
            "anonymous": None,
        },
    }


# Who sees the invoice but may not export: 403; who does not see it: 404.
EXPECTED = {
    "finance": 200, "admin": 200, "nam": 403, "lead": 403, "pm": 403, "outsider": 404,
    "anonymous": 401,
}  # fmt: skip


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("what", ["one", "batch"])
def test_only_finance_and_admin_export(world: dict[str, Any], who: str, what: str) -> None:
    invoice = world["invoice"]
    api = api_as(world["users"][who])

    if what == "one":
        response = api.post(one(invoice))
        expected = EXPECTED[who]
    else:
        response = api.post(f"{BATCH}?client={invoice.client_id}")
        expected = 403 if EXPECTED[who] == 404 else EXPECTED[who]  # no row: a role question

    assert response.status_code == expected, response.content[:300]
    if expected != 200:
        code = {401: "not_authenticated", 403: "not_allowed", 404: "not_found"}[expected]
        assert_error(response, expected, code)
    assert EInvoiceExport.objects.count() == (1 if expected == 200 else 0)


# OpenAPI --------------------------------------------------------------------------------------


def test_the_schema_documents_the_binary_answers(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target), "--validate")
    paths = yaml.safe_load(target.read_text())["paths"]

    single = paths["/api/v1/invoices/{id}/einvoice/"]["post"]
    batch = paths["/api/v1/invoices/einvoice-batch/"]["post"]

    assert single["responses"]["200"]["content"] == {
        "application/xml": {"schema": {"type": "string", "format": "binary"}}
    }
    assert batch["responses"]["200"]["content"] == {
        "application/zip": {"schema": {"type": "string", "format": "binary"}}
    }
    for operation in (single, batch):
        assert "requestBody" not in operation
        assert {"400", "401", "403"} <= set(operation["responses"])
        assert "format" not in {p["name"] for p in operation.get("parameters", [])}
    assert "404" in single["responses"]
    # The batch takes the list's filters.
    assert {"client", "status", "issued_after", "issued_before", "q"} <= {
        parameter["name"] for parameter in batch["parameters"]
    }
