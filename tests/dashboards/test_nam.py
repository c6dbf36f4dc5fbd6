"""The NAM home: figures against hand-computed values on a small book with a fixed `today`,
only the NAM's own accounts, team lead and finance homes unchanged, constant query count."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
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
    OpportunityFactory,
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
        f"{reverse('orders:order_list')}?client={pk}&is_confirmed=true"
        "&ordered_after=2026-01-01&ordered_before=2026-10-01"
    )
    assert row.urls["invoiced"].endswith(
        f"?client={pk}&in_revenue=true&issued_after=2026-01-01&issued_before=2026-10-01"
    )
    assert row.urls["collected"].endswith(
        f"?client={pk}&paid_after=2026-01-01&paid_before=2026-10-01"
    )
    assert row.urls["open_orders"] == f"{reverse('orders:order_list')}?client={pk}&is_open=true"
    assert row.urls["open_findings"] == f"{reverse('billing:review_queue')}?client={pk}"


def _signed(invoices: object) -> Decimal:
    return sum(
        (-i.net_total if i.kind == Invoice.Kind.CREDIT_NOTE else i.net_total for i in invoices),
        D("0"),
    )


@pytest.mark.django_db
def test_following_each_link_lists_exactly_what_the_figure_counts(
    nam: User, book: dict[str, Client], login: Callable[[User], HttpClient]
) -> None:
    """Per account and in total: the NAM is also the lead of a team with a client they are not
    on (they see it, it is not in their book): the totals' lists leave it out (`mine`)."""
    team_only = ClientFactory(name="Team only")
    team_only.team.lead = nam
    team_only.team.save()
    nam.groups.add(Group.objects.get_or_create(name=Role.TEAM_LEAD)[0])
    order(team_only, status="confirmed", on=datetime.date(2026, 3, 1), quantity="1", price="7")
    issued(InvoiceFactory(client=team_only), net="70.00", on=datetime.date(2026, 2, 1))
    mine = book["mine"]
    OpportunityFactory(client=mine, source="whitespace", stage="proposal")
    OpportunityFactory(client=mine, source="whitespace", stage="won")
    OpportunityFactory(client=team_only, source="whitespace", stage="proposal")
    OrderFactory(client=mine, status="cancelled", order_date=datetime.date(2026, 5, 1))
    OrderFactory(client=team_only, status="submitted")
    # A cancelled invoice issued this year: not revenue, and not in the revenue list.
    cancelled = issued(InvoiceFactory(client=mine), net="444.00", on=datetime.date(2026, 4, 1))
    Invoice.objects.filter(pk=cancelled.pk).update(status="cancelled")

    home = nam_home(user=nam, today=TODAY, now=NOW)
    [row] = home["accounts"]
    http = login(nam)

    def listed(url: str) -> list:
        return list(http.get(url).context["page"].paginator.object_list)

    for urls, figures in ((row.urls, vars(row)), (home["urls"], home["totals"])):
        assert figures["open_orders"] == 2  # the draft and the confirmed order
        assert len(listed(urls["open_orders"])) == figures["open_orders"]
        assert len(listed(urls["open_findings"])) == figures["open_findings"] == 1
        assert len(listed(urls["whitespace"])) == figures["whitespace_open"] == 1
        assert _signed(listed(urls["invoiced"])) == figures["invoiced"] == D("250.00")
        ordered = listed(urls["ordered"])
        assert [o.status for o in ordered] == ["confirmed"]
        assert {o.client_id for o in ordered} == {mine.pk}
        collected = listed(urls["collected"])
        assert {i.client_id for i in collected} == {mine.pk}
        paid = sum(p.amount for i in collected for p in i.payments.all() if p.paid_on.year == 2026)
        assert paid == figures["collected"] == D("120.00")
    overdue = listed(home["urls"]["overdue"])
    assert {m.project.client_id for m in overdue} == {mine.pk}
    assert len(overdue) == login(nam).get(reverse("nam:home")).context["overdue_count"]


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
def test_it_runs_the_same_queries_for_2_and_40_accounts(
    client: HttpClient, login: Callable, make_user: Callable[..., User]
) -> None:
    small, large = make_user(Role.ACCOUNT_STAFF), make_user(Role.ACCOUNT_STAFF)
    _book_of(small, 2)
    _book_of(large, 40)
    login(small)
    at_2 = _queries(client)
    login(large)
    at_40 = _queries(client)
    assert at_2 == at_40 == 29


@pytest.mark.django_db
def test_it_redirects_account_staffs_home_to_the_nam_home(
    client: HttpClient, login: Callable, nam: User
) -> None:
    login(nam)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("nam:home")
