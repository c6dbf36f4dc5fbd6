"""The reads the billing pages added to billing/selectors.py (filter choices, a client's open
findings) and what the client page's billing sections cost as rows grow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import selectors
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    FindingCommentFactory,
    InvoiceFactory,
)

pytestmark = pytest.mark.django_db


def test_filter_choices_offer_only_what_the_person_sees(book, django_assert_num_queries):
    CheckFindingFactory(invoice=InvoiceFactory(client=book.client), rule="contract_cap")
    CheckFindingFactory(
        invoice=InvoiceFactory(client=book.client), rule="resolved_rule", status="resolved",
        resolved_at=timezone.now(),
    )  # fmt: skip
    other = ClientFactory(name="Hidden Spa")
    AccountTeamMemberFactory(client=other, role="nam")
    CheckFindingFactory(invoice=InvoiceFactory(client=other), rule="duplicate_invoice")

    with django_assert_num_queries(4):  # the user's roles, then clients, NAMs and rules
        choices = selectors.invoice_filter_choices(user=book.nam)

    assert choices["client"] == [(book.client.pk, book.client.name)]
    assert [pk for pk, _label in choices["nam"]] == [book.nam.pk]
    assert choices["rule"] == [("contract_cap", "contract_cap")]


def test_client_findings_are_the_open_ones_of_that_client_with_their_comments(
    book, django_assert_num_queries
):
    invoice = InvoiceFactory(client=book.client)
    big = CheckFindingFactory(invoice=invoice, amount_at_stake=Decimal("90"))
    small = CheckFindingFactory(invoice=invoice, amount_at_stake=Decimal("1"))
    FindingCommentFactory(finding=big, author=book.nam, text="seen")
    CheckFindingFactory(invoice=invoice, status="resolved", resolved_at=timezone.now())
    CheckFindingFactory(invoice=InvoiceFactory(client=ClientFactory()))

    with django_assert_num_queries(3):  # roles, findings, comments with authors
        found = list(selectors.client_findings(user=book.nam, client=book.client))
        comments = [[c.author for c in f.comments.all()] for f in found]

    assert found == [big, small]
    assert comments == [[book.nam], []]


def test_the_client_page_costs_the_same_with_more_invoices_and_findings(client, login, book):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(book.nam)

    def add() -> None:
        finding = CheckFindingFactory(invoice=InvoiceFactory(client=book.client))
        FindingCommentFactory(finding=finding)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/clients/{book.client.pk}/").status_code == 200
        return len(captured)

    add()
    few = queries()
    for _ in range(9):
        add()
    assert queries() == few
