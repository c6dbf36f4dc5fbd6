"""Gapless numbering under concurrency: many issuers at once on real connections, some rolled
back after taking their number. Numbers are exactly 1..N per series and year."""

from __future__ import annotations

import datetime
import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts_crm.access import Role
from billing import services
from billing.models import Invoice, InvoiceCounter
from tests.factories import ClientFactory, InvoiceFactory, InvoiceLineFactory, UserFactory

THREADS = 24
ROLLED_BACK = {0, 10, 20}  # one transaction in eight gives its number back


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuers_get_gapless_unique_numbers_per_series_and_year(
    sent_checks: list,
) -> None:
    finance = UserFactory(roles=[Role.FINANCE])
    client = ClientFactory()
    drafts = []
    for i in range(THREADS):
        draft = InvoiceFactory(client=client, created_by=finance)
        InvoiceLineFactory(invoice=draft, unit_price=Decimal(100 + i))
        services.invoice_line_save(by=finance, line=draft.lines.get())  # totals from the line
        drafts.append(draft)
    # 20 invoices dated 2026, 4 dated 2027: two counters move at once.
    day = {i: datetime.date(2026 if i < 20 else 2027, 3, 1) for i in range(THREADS)}
    start = threading.Barrier(THREADS)
    outcomes: dict[int, object] = {}

    def issue(i: int) -> None:
        try:
            start.wait(timeout=30)
            with transaction.atomic():
                invoice = services.invoice_issue(by=finance, invoice=drafts[i], issue_date=day[i])
                if i in ROLLED_BACK:
                    time.sleep(0.05)  # hold the counter row while the others queue on it
                    raise Rollback(invoice.number)
            outcomes[i] = invoice.number
        except Exception as error:
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert {i for i, o in outcomes.items() if isinstance(o, Rollback)} == ROLLED_BACK
    assert all(isinstance(o, int) for i, o in outcomes.items() if i not in ROLLED_BACK), outcomes
    numbers: dict[int, list[int]] = defaultdict(list)
    for year, number in Invoice.objects.filter(number__isnull=False).values_list("year", "number"):
        numbers[year].append(number)
    assert sorted(numbers[2026]) == list(range(1, 19))  # 20 issued, 2 rolled back
    assert sorted(numbers[2027]) == list(range(1, 4))  # 4 issued, 1 rolled back
    assert dict(InvoiceCounter.objects.values_list("year", "last_number")) == {2026: 18, 2027: 3}
    assert Invoice.objects.filter(status="draft").count() == len(ROLLED_BACK)

    # The rolled-back drafts take the next numbers: still no gap.
    for i in sorted(ROLLED_BACK):
        services.invoice_issue(by=finance, invoice=drafts[i], issue_date=day[i])
    numbers_2026 = Invoice.objects.filter(year=2026).values_list("number", flat=True)
    assert sorted(numbers_2026) == list(range(1, 21))
    numbers_2027 = Invoice.objects.filter(year=2027).values_list("number", flat=True)
    assert sorted(numbers_2027) == [1, 2, 3, 4]


@pytest.mark.django_db
def test_series_count_separately(sent_checks: list) -> None:
    finance = UserFactory(roles=[Role.FINANCE])
    invoice = InvoiceFactory(created_by=finance)
    services.invoice_line_save(by=finance, line=InvoiceLineFactory.build(invoice=invoice))
    day = datetime.date(2026, 1, 5)
    issued = services.invoice_issue(by=finance, invoice=invoice, issue_date=day)
    note = services.credit_note_create(by=finance, invoice=issued)
    note = services.invoice_issue(by=finance, invoice=note, issue_date=day)
    assert [(issued.series, issued.number), (note.series, note.number)] == [("FV", 1), ("NC", 1)]
