"""The NAM home: figures against hand-computed values on a small book with a fixed `today`,
only the NAM's own accounts, team lead and finance homes unchanged, constant query count."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts_crm.access import Role
from billing.models import Invoice
from clients.models import Client
from dashboards.nam import nam_home
from tests.factories import (
    AccountPlanFactory,
    AccountTeamMemberFactory,
    ActivityFactory,
    CheckFindingFactory,
    ClientFactory,
    CreditNoteFactory,
    InvoiceFactory,
    MilestoneFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentFactory,
    ProjectFactory,
)

D = Decimal
TODAY = datetime.date(2026, 10, 1)
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=datetime.UTC)
_number = iter(range(1, 100_000))


def issued(invoice: Invoice, *, net: str, on: datetime.date) -> Invoice:
    Invoice.objects.filter(pk=invoice.pk).update(
        status="issued", number=next(_number), year=on.year, issue_date=on,
        due_date=on + datetime.timedelta(days=30), net_total=D(net), gross_total=D(net),
    )  # fmt: skip
    return invoice


def order(client: Client, *, status: str, on: datetime.date, quantity: str, price: str) -> None:
    OrderLineFactory(
        order=OrderFactory(client=client, status=status, order_date=on),
        quantity=D(quantity),
        unit_price=D(price),
    )


@pytest.fixture
def nam(make_user: Callable[..., User]) -> User:
    return make_user(Role.ACCOUNT_STAFF, username="nam")


@pytest.fixture
def book(nam: User, make_user: Callable[..., User]) -> dict[str, Client]:
    mine = ClientFactory(name="Mine")
    AccountTeamMemberFactory(client=mine, user=nam)
    AccountPlanFactory(client=mine, year=2026, revenue_target=D("1000.00"))
    # ordered this year: 2 x 100 (confirmed, in the year); a draft and a 2025 order do not count
    order(mine, status="confirmed", on=datetime.date(2026, 3, 1), quantity="2", price="100.00")
    order(mine, status="draft", on=datetime.date(2026, 4, 1), quantity="1", price="50.00")
    order(mine, status="fulfilled", on=datetime.date(2025, 12, 31), quantity="1", price="999.00")
    # invoiced: 300 less a 50 credit note; the 2025 invoice and a draft do not count
    invoice = issued(InvoiceFactory(client=mine), net="300.00", on=datetime.date(2026, 2, 1))
    credit = CreditNoteFactory(client=mine, credits=invoice)
    issued(credit, net="50.00", on=datetime.date(2026, 3, 1))
    old = issued(InvoiceFactory(client=mine), net="999.00", on=datetime.date(2025, 12, 1))
    InvoiceFactory(client=mine)
    # collected: 120 this year; 10 paid in 2025 does not count
    PaymentFactory(invoice=invoice, amount=D("120.00"), paid_on=datetime.date(2026, 7, 1))
    PaymentFactory(invoice=old, amount=D("10.00"), paid_on=datetime.date(2025, 12, 15))
    CheckFindingFactory(invoice=invoice)
    project = ProjectFactory(client=mine)
    MilestoneFactory(project=project, name="Late", due_on=datetime.date(2026, 9, 20))
    MilestoneFactory(project=project, name="Soon", due_on=datetime.date(2026, 10, 10))
    MilestoneFactory(project=project, name="Later", due_on=datetime.date(2026, 10, 30))
    ActivityFactory(client=mine, subject="Mine call", occurred_at=NOW)

    theirs = ClientFactory(name="Theirs")
    AccountTeamMemberFactory(client=theirs, user=make_user(Role.ACCOUNT_STAFF, username="other"))
    order(theirs, status="confirmed", on=datetime.date(2026, 3, 1), quantity="5", price="100.00")
    issued(InvoiceFactory(client=theirs), net="500.00", on=datetime.date(2026, 2, 1))
    ActivityFactory(client=theirs, subject="Theirs call", occurred_at=NOW)
    return {"mine": mine, "theirs": theirs}


@pytest.mark.django_db
def test_it_computes_revenue_this_year_against_the_plan_target(
    nam: User, book: dict[str, Client]
) -> None:
    home = nam_home(user=nam, today=TODAY, now=NOW)
    [row] = home["accounts"]
    assert row.client == book["mine"]
    assert (row.ordered, row.invoiced, row.collected) == (D("200.00"), D("250.00"), D("120.00"))
    assert row.target == D("1000.00")
    assert row.target_share == 20
    assert row.open_orders == 2  # the confirmed 2026 order and the draft
    assert row.open_findings == 1
    assert row.health is not None
    assert row.health.signals["late_milestones"] == 1
    assert home["totals"]["invoiced"] == D("250.00")


@pytest.mark.django_db
def test_it_lists_deadlines_within_14_days_and_overdue_and_own_activities(
    nam: User, book: dict[str, Client]
) -> None:
    home = nam_home(user=nam, today=TODAY, now=NOW)
    assert [m.name for m in home["deadlines"]] == ["Late", "Soon"]
    assert home["overdue_count"] == 1
    assert [a.subject for a in home["activities"]] == ["Mine call"]
    assert {o.client for o in home["open_orders"]} == {book["mine"]}


@pytest.mark.django_db
def test_it_never_shows_another_nams_accounts(
    client: HttpClient, login: Callable, nam: User, book: dict[str, Client]
) -> None:
    login(nam)
    html = client.get(reverse("nam:home")).content.decode()
    assert "Mine" in html
    assert "Theirs" not in html
    assert f"client={book['mine'].pk}" in html
    assert f"client={book['theirs'].pk}" not in html


@pytest.mark.django_db
def test_it_links_every_figure_to_its_filtered_list(nam: User, book: dict[str, Client]) -> None:
    [row] = nam_home(user=nam, today=TODAY, now=NOW)["accounts"]
    pk = book["mine"].pk
    assert row.urls["ordered"] == (
        f"{reverse('orders:order_list')}?client={pk}&ordered_after=2026-01-01"
        "&ordered_before=2026-10-01"
    )
    assert row.urls["invoiced"].endswith(
        f"?client={pk}&issued_after=2026-01-01&issued_before=2026-10-01"
    )
    assert row.urls["collected"].endswith(
        f"?client={pk}&paid_after=2026-01-01&paid_before=2026-10-01"
    )
    assert row.urls["open_findings"] == f"{reverse('billing:review_queue')}?client={pk}"


@pytest.mark.django_db
@pytest.mark.parametrize("role_fixture", ["team_lead", "finance"])
def test_it_keeps_team_lead_and_finance_homes(
    request: pytest.FixtureRequest, client: HttpClient, login: Callable, role_fixture: str
) -> None:
    login(request.getfixturevalue(role_fixture))
    assert client.get(reverse("home")).status_code == 200


def _book_of(nam: User, accounts: int) -> None:
    for n in range(accounts):
        c = ClientFactory()
        AccountTeamMemberFactory(client=c, user=nam)
        AccountPlanFactory(client=c, year=2026)
        order(c, status="confirmed", on=datetime.date(2026, 3, 1), quantity="1", price="10.00")
        issued(InvoiceFactory(client=c), net="10.00", on=datetime.date(2026, 2, 1))
        ActivityFactory(client=c, occurred_at=NOW - datetime.timedelta(minutes=n))
        MilestoneFactory(project=ProjectFactory(client=c), due_on=datetime.date(2026, 10, 5))


def _queries(client: HttpClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("nam:home")).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_it_runs_the_same_queries_for_2_and_20_accounts(
    client: HttpClient, login: Callable, make_user: Callable[..., User]
) -> None:
    small, large = make_user(Role.ACCOUNT_STAFF), make_user(Role.ACCOUNT_STAFF)
    _book_of(small, 2)
    _book_of(large, 20)
    login(small)
    at_2 = _queries(client)
    login(large)
    at_20 = _queries(client)
    assert at_2 == at_20 == 28


@pytest.mark.django_db
def test_it_redirects_account_staffs_home_to_the_nam_home(
    client: HttpClient, login: Callable, nam: User
) -> None:
    login(nam)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("nam:home")
