"""The finance review queue (open findings, counts per rule, filters, one click to the finding)
and receivables (aging per client, overdue list, CSV); query counts pinned on the queue."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    InvoiceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client, login, finance):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login(finance)
    return client


def finding_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r"#finding-(\d+)\"", response.content.decode())]


def test_it_lists_open_findings_largest_amount_at_stake_first(finance_client, book):
    invoice = InvoiceFactory(client=book.client)
    small = CheckFindingFactory(invoice=invoice, amount_at_stake=Decimal("5.00"))
    big = CheckFindingFactory(invoice=invoice, amount_at_stake=Decimal("500.00"))
    CheckFindingFactory(invoice=invoice, status="resolved", resolved_at=timezone.now())

    response = finance_client.get("/billing/review/")

    assert finding_ids(response) == [big.pk, small.pk]
    html = response.content.decode()
    assert f'href="/billing/invoices/{invoice.pk}/#finding-{big.pk}"' in html


def test_it_counts_findings_and_invoices_per_rule(finance_client, book):
    one, two = InvoiceFactory(client=book.client), InvoiceFactory(client=book.client)
    CheckFindingFactory(invoice=one, rule="price_vs_contract")
    CheckFindingFactory(invoice=two, rule="price_vs_contract")
    CheckFindingFactory(invoice=two, rule="contract_cap")

    html = finance_client.get("/billing/review/").content.decode()

    counts = re.findall(
        r'data-rule="([a-z_]+)">\s*[^<]*<span class="badge[^"]*">(\d+)</span>', html
    )
    assert sorted(counts) == [("contract_cap", "1"), ("price_vs_contract", "2")]


def test_it_filters_by_rule_client_nam_and_amount(finance_client, book):
    mine = CheckFindingFactory(
        invoice=InvoiceFactory(client=book.client), rule="contract_cap",
        amount_at_stake=Decimal("300"),
    )  # fmt: skip
    other_client = ClientFactory()
    AccountTeamMemberFactory(client=other_client, role="nam")
    theirs = CheckFindingFactory(
        invoice=InvoiceFactory(client=other_client), amount_at_stake=Decimal("10")
    )

    assert finding_ids(finance_client.get("/billing/review/", {"rule": "contract_cap"})) == [
        mine.pk
    ]
    assert finding_ids(finance_client.get("/billing/review/", {"client": other_client.pk})) == [
        theirs.pk
    ]
    assert finding_ids(finance_client.get("/billing/review/", {"nam": book.nam.pk})) == [mine.pk]
    assert finding_ids(finance_client.get("/billing/review/", {"min_amount_at_stake": "100"})) == [
        mine.pk
    ]


def test_it_answers_htmx_with_the_results_partial(finance_client, book):
    CheckFindingFactory(invoice=InvoiceFactory(client=book.client))

    html = finance_client.get("/billing/review/", headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<div id="results"')


def test_the_queue_runs_as_many_queries_for_30_findings_as_for_2(finance_client, book):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert finance_client.get("/billing/review/").status_code == 200
        return len(captured)

    for _ in range(2):
        CheckFindingFactory(invoice=InvoiceFactory(client=ClientFactory()))
    few = queries()
    for _ in range(28):
        CheckFindingFactory(invoice=InvoiceFactory(client=ClientFactory()))
    assert queries() == few


# Receivables ---------------------------------------------------------------------------------


def _issued(book, finance, days_ago: int):
    draft = services.invoice_from_order(by=finance, order=book.order)
    issue = timezone.localdate() - datetime.timedelta(days=days_ago)
    return services.invoice_issue(by=finance, invoice=draft, issue_date=issue)


def test_it_shows_aging_per_client_and_the_overdue_invoices(finance_client, book, finance):
    # Terms 45 days: issued 120 days ago -> 75 days late (61-90 bucket).
    late = _issued(book, finance, days_ago=120)

    response = finance_client.get("/billing/receivables/")

    html = response.content.decode()
    row = html.split('data-testid="aging-row"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="text-end[^"]*">([^<]*)</td>', row)
    gross = f"{late.gross_total:,.2f} EUR"
    assert cells == ["0.00 EUR", "0.00 EUR", "0.00 EUR", gross, "0.00 EUR", gross]
    assert late.display_number in html.split('data-testid="overdue"')[1]
    assert "75 days late" in html


def test_it_exports_aging_as_csv(finance_client, book, finance):
    late = _issued(book, finance, days_ago=50)  # 5 days late

    response = finance_client.get("/billing/receivables/", {"format": "csv"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1] == [book.client.name, "EUR", "0.00", str(late.gross_total), "0.00", "0.00",
                       "0.00", str(late.gross_total)]  # fmt: skip
