"""The payment watch: overdue invoices to the right people, once per threshold, set-based."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pgtrigger
import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_crm.access import Role
from accounts_crm.celery import app as celery_app
from accounts_crm.models import Notification, UserPreferences
from billing import payment_watch as watch
from billing import tasks
from billing.models import IMMUTABILITY_TRIGGERS, Invoice
from billing.payment_watch import payment_watch, threshold_for
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    InvoiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
_number = iter(range(1, 100_000))


def days(n: int) -> datetime.date:
    return TODAY + n * DAY


@dataclass
class Book:
    """A client with its NAM, a sales rep, its team lead, and finance."""

    client: object
    nam: User
    sales: User
    lead: User
    finance: User


@pytest.fixture
def book() -> Book:
    client = ClientFactory(name="Acme")
    nam = AccountTeamMemberFactory(client=client, role="nam", starts_on=days(-400)).user
    sales = AccountTeamMemberFactory(client=client, role="sales", starts_on=days(-400)).user
    finance = UserFactory(username="finance", roles=[Role.FINANCE])
    for user in (nam, sales, client.team.lead, finance):
        UserPreferences.objects.create(user=user, language="en")
    return Book(client, nam, sales, client.team.lead, finance)


def issued(
    book: Book, *, gross: str, due: datetime.date, paid: str = "0", client: object = None,
    kind: str = "invoice", credits: Invoice | None = None,
) -> Invoice:  # fmt: skip
    """An issued document of `gross` due on `due`, written straight (as the selector tests)."""
    document = InvoiceFactory(
        client=client or book.client, created_by=book.finance, kind=kind, credits=credits,
        series="NC" if kind == "credit_note" else "FV",
    )  # fmt: skip
    issue_date = due - 30 * DAY
    Invoice.objects.filter(pk=document.pk).update(
        status="partially_paid" if D(paid) else "issued", number=next(_number),
        year=issue_date.year, issue_date=issue_date, due_date=due, net_total=D(gross),
        gross_total=D(gross), amount_paid=D(paid),
    )  # fmt: skip
    return Invoice.objects.get(pk=document.pk)


def keys(user: User) -> set[str]:
    return set(Notification.objects.filter(user=user).values_list("key", flat=True))


def people(key_part: str) -> set[User]:
    return {n.user for n in Notification.objects.filter(key__contains=key_part)}


def key(invoice: Invoice, threshold: int) -> str:
    return f"payment:{invoice.pk}:overdue-{threshold}d:{invoice.due_date.isoformat()}"


# Thresholds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_overdue", "threshold"),
    [(-3, None), (0, None), (1, 1), (29, 1), (30, 30), (45, 30), (59, 30), (60, 60), (89, 60),
     (90, 90), (400, 90)],
)  # fmt: skip
def test_it_names_the_highest_threshold_reached(days_overdue: int, threshold: int | None) -> None:
    assert threshold_for(days_overdue) == threshold


# Who hears -------------------------------------------------------------------------------------


def test_it_tells_the_nam_and_finance_of_an_overdue_invoice(book: Book) -> None:
    invoice = issued(book, gross="1234.5", due=days(-1))

    result = payment_watch(today=TODAY)

    assert people(f"payment:{invoice.pk}:") == {book.nam, book.finance}
    assert keys(book.nam) == {key(invoice, 1)}
    assert result.created == 2
    assert result.invoices == {1: 1}
    notification = Notification.objects.get(user=book.nam)
    assert notification.kind == "payment_overdue"
    assert notification.target == invoice
    assert notification.url == f"/billing/invoices/{invoice.pk}/"
    assert notification.message == (
        f"Invoice {invoice.display_number} of Acme is 1 day overdue (due on "
        f"{days(-1):%m/%d/%Y}): 1,234.50 EUR still to be paid."
    )
    assert not keys(book.sales)
    assert not keys(book.lead)


def test_an_ended_nam_and_inactive_people_are_not_told(book: Book) -> None:
    ended = AccountTeamMemberFactory(
        client=book.client, role="nam", starts_on=days(-900), ends_on=days(-1)
    ).user
    future = AccountTeamMemberFactory(
        client=book.client, role="nam", starts_on=days(5), ends_on=days(400)
    ).user
    still = AccountTeamMemberFactory(
        client=book.client, role="nam", starts_on=days(-900), ends_on=days(10)
    ).user
    gone = UserFactory(roles=[Role.FINANCE], is_active=False)
    away = AccountTeamMemberFactory(
        client=book.client, role="nam", starts_on=days(-400), ends_on=days(400)
    ).user
    away.is_active = False
    away.save()
    other_nam = AccountTeamMemberFactory(role="nam", starts_on=days(-400)).user  # other client
    invoice = issued(book, gross="100", due=days(-3))

    payment_watch(today=TODAY)

    assert people(f"payment:{invoice.pk}:") == {book.nam, still, book.finance}
    assert not {ended, future, gone, away, other_nam} & people("payment:")


def test_a_nam_who_is_also_finance_is_told_once(book: Book) -> None:
    book.nam.groups.add(book.finance.groups.get())
    issued(book, gross="100", due=days(-3))

    assert payment_watch(today=TODAY).created == 2
    assert Notification.objects.filter(user=book.nam).count() == 1


# What counts -----------------------------------------------------------------------------------


def test_a_partially_paid_invoice_counts_with_what_is_still_owed(book: Book) -> None:
    invoice = issued(book, gross="500", paid="123.45", due=days(-40))

    payment_watch(today=TODAY)

    assert keys(book.finance) == {key(invoice, 30)}
    assert "376.55 EUR still to be paid" in Notification.objects.get(user=book.finance).message


def test_credit_notes_reduce_what_is_owed_and_a_full_one_clears_it(book: Book) -> None:
    partly = issued(book, gross="1000", due=days(-5))
    issued(book, kind="credit_note", credits=partly, gross="250", due=days(-2))
    fully = issued(book, gross="300", due=days(-5))
    issued(book, kind="credit_note", credits=fully, gross="300", due=days(-2))
    draft_note_of = issued(book, gross="80", due=days(-5))
    InvoiceFactory(kind="credit_note", series="NC", credits=draft_note_of, client=book.client,
                   created_by=book.finance)  # fmt: skip

    result = payment_watch(today=TODAY)

    assert keys(book.nam) == {key(partly, 1), key(draft_note_of, 1)}  # never the credit notes
    messages = {n.key: n.message for n in Notification.objects.filter(user=book.nam)}
    assert "750.00 EUR still to be paid" in messages[key(partly, 1)]
    assert "80.00 EUR still to be paid" in messages[key(draft_note_of, 1)]
    assert result.invoices == {1: 2}


def test_paid_cancelled_draft_and_not_yet_due_invoices_are_not_told(book: Book) -> None:
    paid = issued(book, gross="100", due=days(-40))
    Invoice.objects.filter(pk=paid.pk).update(status="paid", amount_paid=D("100"))
    cancelled = issued(book, gross="100", due=days(-40))
    Invoice.objects.filter(pk=cancelled.pk).update(status="cancelled")
    InvoiceFactory(client=book.client, created_by=book.finance, due_date=days(-40))  # a draft
    issued(book, gross="100", due=TODAY)  # due today: not late yet
    issued(book, gross="100", due=days(3))

    result = payment_watch(today=TODAY)

    assert result.created == 0
    assert result.invoices == {}
    assert not Notification.objects.exists()


# Once per threshold ----------------------------------------------------------------------------


def test_it_notifies_once_per_threshold_as_the_invoice_gets_later(book: Book) -> None:
    invoice = issued(book, gross="100", due=days(-1))

    for day in range(0, 100):  # one run a day for a hundred days, and a second one each day
        payment_watch(today=days(day))
        payment_watch(today=days(day))

    assert keys(book.nam) == {key(invoice, 1), key(invoice, 30), key(invoice, 60), key(invoice, 90)}
    assert keys(book.finance) == keys(book.nam)
    assert Notification.objects.count() == 8
    assert (
        "30 days overdue" in Notification.objects.get(key=key(invoice, 30), user=book.nam).message
    )


def test_running_twice_creates_nothing_the_second_time(book: Book) -> None:
    for overdue in (1, 12, 35, 70, 200):
        issued(book, gross="100", due=days(-overdue))
    first = payment_watch(today=TODAY)
    count = Notification.objects.count()

    second = payment_watch(today=TODAY)

    assert first.created == count == 10
    assert second.created == 0
    assert second.invoices == first.invoices == {1: 2, 30: 1, 60: 1, 90: 1}
    assert Notification.objects.count() == count


def test_it_announces_only_the_threshold_reached_when_first_seen_late(book: Book) -> None:
    invoice = issued(book, gross="100", due=days(-45))

    payment_watch(today=TODAY)

    assert keys(book.nam) == {key(invoice, 30)}
    assert "45 days overdue" in Notification.objects.get(user=book.nam).message
    payment_watch(today=days(14))  # 59 days: nothing new
    assert keys(book.nam) == {key(invoice, 30)}
    payment_watch(today=days(15))  # 60 days
    assert keys(book.nam) == {key(invoice, 30), key(invoice, 60)}


def test_a_moved_due_date_is_announced_again(book: Book) -> None:
    invoice = issued(book, gross="100", due=days(-35))
    payment_watch(today=TODAY)
    with pgtrigger.ignore(*IMMUTABILITY_TRIGGERS):  # the due date was agreed anew
        Invoice.objects.filter(pk=invoice.pk).update(due_date=days(-2))

    payment_watch(today=TODAY)

    assert keys(book.nam) == {
        f"payment:{invoice.pk}:overdue-30d:{days(-35).isoformat()}",
        f"payment:{invoice.pk}:overdue-1d:{days(-2).isoformat()}",
    }


def test_it_speaks_each_recipients_language(book: Book) -> None:
    UserPreferences.objects.filter(user=book.nam).update(language="it")
    due = datetime.date(2031, 3, 14)
    issued(book, gross="1234.5", due=due)

    payment_watch(today=due + 45 * DAY)

    # Dates and amounts are formatted for each person's language.
    italian = Notification.objects.get(user=book.nam).message
    english = Notification.objects.get(user=book.finance).message
    assert "14/03/2031" in italian
    assert "1.234,50 EUR" in italian
    assert "03/14/2031" in english
    assert "1,234.50 EUR" in english
    assert "45 days overdue" in english


# Cost ------------------------------------------------------------------------------------------


def watch_queries(today: datetime.date) -> int:
    ContentType.objects.clear_cache()  # both runs look the target's type up once, cold
    with CaptureQueriesContext(connection) as captured:
        result = payment_watch(today=today)
    assert result.created > 0
    Notification.objects.all().delete()
    return len(captured)


def test_the_watch_runs_the_same_queries_for_1_or_20_overdue_invoices(book: Book) -> None:
    issued(book, gross="100", due=days(-3))
    few = watch_queries(TODAY)

    for n in range(19):
        client = ClientFactory()
        AccountTeamMemberFactory(client=client, role="nam", starts_on=days(-400))
        AccountTeamMemberFactory(  # a second NAM, handing over
            client=client, role="nam", starts_on=days(-10), ends_on=days(10)
        )
        issued(book, client=client, gross=f"{100 + n}", paid="10" if n % 3 else "0",
               due=days(-(1 + 7 * n)))  # fmt: skip
    UserFactory(roles=[Role.FINANCE])
    many = watch_queries(TODAY)

    assert many == few, (few, many)
    # A savepoint, the invoices, the NAMs, finance, the target's type, notify_many's recipients,
    # insert and opt-outs, the release.
    assert few == 9


def test_a_day_without_overdue_invoices_costs_one_query_and_a_savepoint(book: Book) -> None:
    issued(book, gross="100", due=days(2))

    with CaptureQueriesContext(connection) as captured:
        assert payment_watch(today=TODAY).created == 0

    assert len(captured) == 3


# The Celery task -------------------------------------------------------------------------------


def test_beat_runs_the_watch_every_morning() -> None:
    entry = celery_app.conf.beat_schedule["payment-watch"]

    assert entry["task"] == tasks.payment_watch.name == "billing.tasks.payment_watch"
    assert entry["schedule"].hour == {7}
    assert entry["schedule"].minute == {15}
    assert entry["schedule"].day_of_week == set(range(7))
    assert entry["options"]["expires"] < 24 * 60 * 60
    task = celery_app.tasks[entry["task"]]
    assert task.acks_late
    assert task.reject_on_worker_lost
    assert task.time_limit > task.soft_time_limit > 0
    assert task.max_retries == tasks.WATCH_MAX_RETRIES


def test_the_task_retries_a_transient_database_error_then_completes(book, monkeypatch) -> None:
    issued(book, gross="100", due=days(-2))
    calls = []
    real_watch = watch.payment_watch

    def flaky(**kwargs: object) -> watch.WatchResult:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real_watch(**kwargs)

    monkeypatch.setattr(watch, "payment_watch", flaky)

    result = tasks.payment_watch.apply()

    assert len(calls) == 3
    assert result.get() == {"invoices": {"1": 1}, "created": 2}
    assert Notification.objects.count() == 2


def test_the_task_does_not_retry_a_bug(monkeypatch) -> None:
    calls = []

    def broken(**kwargs: object) -> None:
        calls.append(1)
        raise ValueError("a bug")

    monkeypatch.setattr(watch, "payment_watch", broken)

    result = tasks.payment_watch.apply()

    assert calls == [1]
    assert isinstance(result.result, ValueError)
