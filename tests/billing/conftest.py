from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from accounts_crm.access import Role
from billing import services
from billing.models import InvoiceLine
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    InvoiceFactory,
    OrderFactory,
    OrderLineFactory,
    SellerProfileFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def sent_checks(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The invoice checks sent to the broker (the broker is outside the product)."""
    from billing import tasks

    sent: list[list[int]] = []
    monkeypatch.setattr(tasks.invoice_check, "delay", lambda ids: sent.append(list(ids)))
    return sent


class Book:
    """A client with its NAM, a contract (payment terms 45 days) and a confirmed order of two
    lines: 10 x 80.00 and 3 x 33.33 less 10%."""

    def __init__(self) -> None:
        self.client = ClientFactory()
        self.nam = AccountTeamMemberFactory(client=self.client, role="nam").user
        self.lead = self.client.team.lead
        self.contract = ContractFactory(client=self.client, payment_terms_days=45)
        self.order = OrderFactory(client=self.client, contract=self.contract, status="confirmed")
        self.line_a = OrderLineFactory(
            order=self.order, quantity=Decimal("10"), unit_price=Decimal("80.00")
        )
        self.line_b = OrderLineFactory(
            order=self.order, quantity=Decimal("3"), unit_price=Decimal("33.33"),
            discount=Decimal("10"),
        )  # fmt: skip


@pytest.fixture
def book(db: None) -> Book:
    return Book()


@pytest.fixture
def finance(db: None) -> object:
    return UserFactory(username="finance", roles=[Role.FINANCE])


# E-invoices (FatturaPA) -----------------------------------------------------------------------
# Shared by the export's page and API tests. The official schema is test data kept OUTSIDE the
# repo (../shared/fatturapa, see its SOURCE.md): tests read it from there, never copy it.

# FATTURAPA_TEST_DIR points elsewhere when the checkout does not sit beside ../shared.
FATTURAPA_SHARED = Path(
    os.environ.get("FATTURAPA_TEST_DIR") or Path(settings.BASE_DIR).parent / "shared" / "fatturapa"
)
FATTURAPA_SCHEMA = FATTURAPA_SHARED / "Schema_del_file_xml_FatturaPA_v1.2.2.xsd"
EINVOICE_ISSUED_ON = datetime.date(2026, 3, 10)


@pytest.fixture
def schema(settings: Any) -> Path:
    """Exports validate against the official schema (skipped when it is not on this machine)."""
    if not FATTURAPA_SCHEMA.is_file():
        pytest.skip(f"the official FatturaPA schema is not in {FATTURAPA_SHARED}")
    settings.FATTURAPA_SCHEMA_PATH = str(FATTURAPA_SCHEMA)
    return FATTURAPA_SCHEMA


@pytest.fixture
def seller(db: None) -> Any:
    """Our fiscal profile (the one SellerProfile row): files are IT01234560017_<progressive>.xml."""
    return SellerProfileFactory()


@pytest.fixture
def einvoice_client(db: None) -> Callable[..., Any]:
    """A client with complete Italian fiscal data (an SDI code), so its invoices export."""

    def make(**fields: object) -> Any:
        values = {
            "legal_name": "Grande Distribuzione S.p.A.", "vat_number": "07654320154",
            "sdi_code": "M5UXCR1", "street": "Corso Italia 5", "postal_code": "00184",
            "city": "Roma", "province": "RM", "country": "IT",
        }  # fmt: skip
        values.update(fields)
        return ClientFactory(**values)

    return make


@pytest.fixture
def issued_invoice(finance: Any) -> Callable[..., Any]:
    """An issued document of `client`, lines of (description, quantity, price, rate, nature);
    `issue=False` leaves it a draft; `credits=` makes it a credit note of that invoice."""

    def make(
        client: Any,
        lines: list[tuple[str, str, str, str, str]] | None = None,
        *,
        credits: Any = None,
        issue: bool = True,
    ) -> Any:
        invoice = InvoiceFactory(
            client=client, kind="credit_note" if credits else "invoice", credits=credits,
            series="NC" if credits else "FV", created_by=finance,
        )  # fmt: skip
        for description, quantity, price, rate, nature in lines or [
            ("Servizi", "1", "100.00", "22.00", "")
        ]:
            services.invoice_line_save(
                by=finance,
                line=InvoiceLine(
                    invoice=invoice, description=description, quantity=Decimal(quantity),
                    unit_price=Decimal(price), vat_rate=Decimal(rate), vat_nature=nature,
                ),
            )  # fmt: skip
        if not issue:
            return invoice
        return services.invoice_issue(by=finance, invoice=invoice, issue_date=EINVOICE_ISSUED_ON)

    return make
