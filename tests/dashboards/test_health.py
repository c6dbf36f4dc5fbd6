"""Account health on small hand-built books: each signal moves the score by its documented
amount, with its reason; bands at their edges; visibility; a constant query count."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from billing.models import Invoice
from clients.models import Client
from dashboards.health import account_health, band_of, health_ranking
from tests.factories import (
    AccountPlanFactory,
    AccountTeamMemberFactory,
    ActivityFactory,
    CheckFindingFactory,
    ClientFactory,
    InvoiceFactory,
    MilestoneFactory,
    OrderFactory,
    OrderLineFactory,
    ProjectFactory,
    ServiceCaseFactory,
)

D = Decimal
TODAY = datetime.date(2026, 10, 1)  # day 274 of 365
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=datetime.UTC)
_number = iter(range(1, 10_000))


def at(days_ago: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days_ago)


def quiet_client(**fields: object) -> Client:
    """A client with nothing wrong: an activity today, no plan, no open items."""
    client = ClientFactory(**fields)
    ActivityFactory(client=client, occurred_at=NOW)
    return client


def health(user: User, client: Client) -> object:
    return account_health(user=user, clients=[client.pk], today=TODAY, now=NOW)[client.pk]


def overdue_invoice(client: Client, *, gross: str, days_late: int) -> Invoice:
    invoice = InvoiceFactory(client=client)
    Invoice.objects.filter(pk=invoice.pk).update(
        status="issued", number=next(_number), year=2026, issue_date=datetime.date(2026, 1, 1),
        due_date=TODAY - datetime.timedelta(days=days_late), net_total=D(gross),
        gross_total=D(gross),
    )  # fmt: skip
    return invoice


@pytest.mark.django_db
def test_it_scores_a_quiet_client_100_with_no_reasons(finance: User) -> None:
    result = health(finance, quiet_client())
    assert (result.score, result.band, result.reasons) == (100, "good", [])


@pytest.mark.django_db
def test_it_takes_8_points_per_late_milestone(finance: User) -> None:
    client = quiet_client()
    project = ProjectFactory(client=client)
    MilestoneFactory.create_batch(2, project=project, due_on=datetime.date(2026, 9, 30))
    MilestoneFactory(project=project, due_on=TODAY)  # due today: not late
    MilestoneFactory(  # late but completed
        project=project, due_on=datetime.date(2026, 9, 1), completed_on=datetime.date(2026, 9, 5)
    )
    result = health(finance, client)
    assert (result.score, result.reasons) == (84, ["2 milestones late"])
    MilestoneFactory.create_batch(3, project=project, due_on=datetime.date(2026, 9, 1))
    assert health(finance, client).score == 76  # 5 late, capped at 24


@pytest.mark.django_db
def test_it_takes_10_points_for_overdue_money_and_20_past_60_days(finance: User) -> None:
    client = quiet_client()
    invoice = overdue_invoice(client, gross="12400.00", days_late=45)
    result = health(finance, client)
    assert result.score == 90
    assert result.reasons == ["12,400.00 EUR overdue for 45 days"]
    assert result.signals["overdue_amount"] == D("12400.00")
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=D("400.00"))
    overdue_invoice(client, gross="100.00", days_late=61)
    result = health(finance, client)
    assert result.score == 80
    assert result.reasons == ["12,100.00 EUR overdue for 61 days"]


@pytest.mark.django_db
def test_a_paid_or_not_yet_due_invoice_costs_nothing(finance: User) -> None:
    client = quiet_client()
    paid = overdue_invoice(client, gross="500.00", days_late=10)
    Invoice.objects.filter(pk=paid.pk).update(status="paid", amount_paid=D("500.00"))
    overdue_invoice(client, gross="500.00", days_late=0)  # due today
    assert health(finance, client).score == 100


@pytest.mark.django_db
def test_open_findings_weigh_6_per_error_and_2_per_warning(finance: User) -> None:
    client = quiet_client()
    invoice = InvoiceFactory(client=client)
    CheckFindingFactory(invoice=invoice, severity="error")
    CheckFindingFactory.create_batch(2, invoice=invoice, severity="warning")
    CheckFindingFactory(invoice=invoice, severity="error", status="resolved", resolved_at=NOW)
    result = health(finance, client)
    assert (result.score, result.reasons) == (90, ["1 open invoice error, 2 open invoice warnings"])
    CheckFindingFactory.create_batch(3, invoice=invoice, severity="error")
    result = health(finance, client)
    assert result.score == 82  # 4 errors + 2 warnings = 28, capped at 18
    assert result.reasons == ["4 open invoice errors, 2 open invoice warnings"]


@pytest.mark.django_db
def test_it_takes_7_points_per_case_past_sla(finance: User) -> None:
    client = quiet_client()
    opened = datetime.datetime(2026, 9, 1, 9, 0, tzinfo=datetime.UTC)
    ServiceCaseFactory(client=client, opened_at=opened, status="open")
    ServiceCaseFactory(  # resolved: no longer a breach
        client=client, opened_at=opened, status="resolved", resolution="Fixed",
        resolved_at=opened + datetime.timedelta(days=3),
    )  # fmt: skip
    ServiceCaseFactory(client=client, opened_at=NOW, sla_due=NOW + datetime.timedelta(hours=4))
    result = health(finance, client)
    assert (result.score, result.reasons) == (93, ["1 service case past SLA"])


@pytest.mark.parametrize(
    ("days_ago", "score"), [(0, 100), (30, 100), (31, 95), (60, 95), (61, 90), (90, 90), (91, 85)]
)
@pytest.mark.django_db
def test_silence_costs_5_10_15_points(finance: User, days_ago: int, score: int) -> None:
    client = ClientFactory()
    ActivityFactory(client=client, occurred_at=at(days_ago))
    ActivityFactory(client=client, occurred_at=at(days_ago + 200))  # older ones do not count
    result = health(finance, client)
    assert result.score == score
    if score < 100:
        assert result.reasons == [f"No activity for {days_ago} days"]


@pytest.mark.django_db
def test_no_activity_at_all_counts_as_more_than_90_days(finance: User) -> None:
    result = health(finance, ClientFactory())
    assert (result.score, result.reasons) == (85, ["No activity recorded"])


def _ordered(client: Client, amount: str, **order: object) -> None:
    order = OrderFactory(client=client, status=order.pop("status", "confirmed"), **order)
    OrderLineFactory(order=order, quantity=D("1"), unit_price=D(amount))


@pytest.mark.parametrize(
    ("ordered", "score"),
    # Target 365,000.00: 274,000.00 due by 1 October; 90% is 246,600.00 and 60% 164,400.00.
    [("246600.00", 100), ("246599.99", 90), ("164400.00", 90), ("164399.99", 80)],
)
@pytest.mark.django_db
def test_revenue_below_90_and_60_percent_of_the_pace(
    finance: User, ordered: str, score: int
) -> None:
    client = quiet_client()
    AccountPlanFactory(client=client, year=2026, revenue_target=D("365000.00"))
    AccountPlanFactory(client=client, year=2025, revenue_target=D("9000000.00"))
    _ordered(client, ordered, order_date=datetime.date(2026, 3, 1))
    _ordered(client, "999999.00", status="draft", order_date=datetime.date(2026, 3, 1))
    _ordered(client, "999999.00", status="cancelled", order_date=datetime.date(2026, 3, 1))
    _ordered(client, "999999.00", order_date=datetime.date(2025, 12, 31))
    result = health(finance, client)
    assert result.score == score
    if score == 80:
        assert result.reasons == [
            "164,399.99 EUR ordered this year, 59% of the 274,000.00 EUR due by now "
            "on a 365,000.00 EUR target"
        ]


@pytest.mark.django_db
def test_no_plan_or_a_zero_target_costs_nothing(finance: User) -> None:
    zero = quiet_client()
    AccountPlanFactory(client=zero, year=2026, revenue_target=D("0.00"))
    assert health(finance, zero).score == 100
    assert health(finance, quiet_client()).score == 100


@pytest.mark.parametrize(
    ("score", "band"),
    [(100, "good"), (75, "good"), (74, "watch"), (50, "watch"), (49, "at_risk"), (0, "at_risk")],
)
def test_bands_at_their_edges(score: int, band: str) -> None:
    assert band_of(score) == band


@pytest.mark.django_db
def test_bands_at_their_edges_on_real_scores(finance: User) -> None:
    good = quiet_client()  # 100 - 20 (overdue > 60 days) - 5 (31 days silent) = 75
    overdue_invoice(good, gross="10.00", days_late=70)
    ActivityFactory(client=ClientFactory())  # noise
    good.activities.update(occurred_at=at(31))
    watch = quiet_client()  # 100 - 20 - 6 (one error) = 74
    overdue_invoice(watch, gross="10.00", days_late=70)
    CheckFindingFactory(invoice=InvoiceFactory(client=watch), severity="error")
    at_risk = quiet_client()  # 100 - 20 - 24 (3 late) - 7 (one case past SLA) = 49
    overdue_invoice(at_risk, gross="10.00", days_late=70)
    MilestoneFactory.create_batch(
        3, project=ProjectFactory(client=at_risk), due_on=datetime.date(2026, 9, 1)
    )
    ServiceCaseFactory(client=at_risk, opened_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    result = account_health(user=finance, today=TODAY, now=NOW)
    assert [(result[c.pk].score, result[c.pk].band) for c in (good, watch, at_risk)] == [
        (75, "good"), (74, "watch"), (49, "at_risk"),
    ]  # fmt: skip
    # Reasons come largest penalty first.
    assert result[at_risk.pk].reasons == [
        "3 milestones late", "10.00 EUR overdue for 70 days", "1 service case past SLA"
    ]  # fmt: skip
    ranking = health_ranking(user=finance, clients=[good.pk, watch.pk, at_risk.pk], today=TODAY)
    assert [h.client_id for h in ranking][:1] == [at_risk.pk]


@pytest.mark.django_db
def test_the_score_never_goes_below_zero(finance: User) -> None:
    client = ClientFactory()  # no activity: 15
    MilestoneFactory.create_batch(
        3, project=ProjectFactory(client=client), due_on=datetime.date(2026, 9, 1)
    )  # 24
    overdue_invoice(client, gross="10.00", days_late=70)  # 20
    CheckFindingFactory.create_batch(3, invoice=InvoiceFactory(client=client))  # 18
    ServiceCaseFactory.create_batch(
        3, client=client, opened_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC)
    )  # 21
    AccountPlanFactory(client=client, year=2026, revenue_target=D("100000.00"))  # 20
    result = health(finance, client)
    assert (result.score, result.band, len(result.reasons)) == (0, "at_risk", 6)


@pytest.mark.django_db
def test_a_nam_gets_only_their_accounts(finance: User) -> None:
    mine, other = quiet_client(), quiet_client()
    nam = AccountTeamMemberFactory(client=mine, role="nam").user
    assert set(account_health(user=nam, today=TODAY, now=NOW)) == {mine.pk}
    assert account_health(user=nam, clients=[other.pk], today=TODAY, now=NOW) == {}
    both = Client.objects.filter(pk__in=[mine.pk, other.pk])
    assert set(account_health(user=nam, clients=both, today=TODAY, now=NOW)) == {mine.pk}
    assert {mine.pk, other.pk} <= set(account_health(user=finance, today=TODAY, now=NOW))


@pytest.mark.django_db
def test_a_team_lead_gets_their_teams_accounts(team_lead: User) -> None:
    mine = quiet_client(team__lead=team_lead)
    quiet_client()
    assert set(account_health(user=team_lead, today=TODAY, now=NOW)) == {mine.pk}


def _busy_client() -> Client:
    client = quiet_client()
    MilestoneFactory(project=ProjectFactory(client=client), due_on=datetime.date(2026, 9, 1))
    overdue_invoice(client, gross="10.00", days_late=5)
    CheckFindingFactory(invoice=InvoiceFactory(client=client))
    ServiceCaseFactory(client=client, opened_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    AccountPlanFactory(client=client, year=2026)
    _ordered(client, "100.00")
    return client


@pytest.mark.parametrize("clients", [2, 20])
@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_clients(
    finance: User, django_assert_num_queries: object, clients: int
) -> None:
    for _ in range(clients):
        _busy_client()
    account_health(user=finance, today=TODAY, now=NOW)  # the viewer's roles get cached
    with django_assert_num_queries(8):  # the visible clients, then one query per signal
        result = account_health(user=finance, today=TODAY, now=NOW)
    assert len(result) == clients
    assert all(h.score == 100 - 8 - 10 - 6 - 7 - 20 for h in result.values())
