from __future__ import annotations

from decimal import Decimal

import pytest

from accounts_crm.access import Role
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    OrderFactory,
    OrderLineFactory,
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
