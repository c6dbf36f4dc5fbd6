"""Contract compliance on a small hand-built book: every figure computed by hand, the team
rollup, visibility and a constant query count."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from billing.models import Invoice
from clients.models import Client, Team
from dashboards.compliance import contract_compliance, team_compliance
from orders.models import Contract
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    InvoiceFactory,
    OrderFactory,
    OrderLineFactory,
    ServiceCaseFactory,
    TeamFactory,
)

D = Decimal
TODAY = datetime.date(2026, 10, 1)
d = datetime.date
NOW = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=datetime.UTC)
CASE_OPENED = datetime.datetime(2026, 9, 1, 9, 0, tzinfo=datetime.UTC)
_number = iter(range(1, 10_000))


def order(contract: Contract, amount: str, day: datetime.date, status: str = "confirmed") -> None:
    placed = OrderFactory(client=contract.client, contract=contract, status=status, order_date=day)
    OrderLineFactory(order=placed, quantity=D("2"), unit_price=D(amount) / 2)


def document(client: Client, net: str, *, status: str = "issued", **fields: object) -> Invoice:
    """An invoice or credit note written straight in `status` with net total `net`."""
    invoice = InvoiceFactory(client=client, **fields)
    if status != "draft":
        Invoice.objects.filter(pk=invoice.pk).update(
            status=status, number=next(_number), year=2026, issue_date=datetime.date(2026, 5, 1),
            due_date=datetime.date(2026, 7, 1), net_total=D(net), gross_total=D(net),
        )  # fmt: skip
    else:
        Invoice.objects.filter(pk=invoice.pk).update(net_total=D(net), gross_total=D(net))
    return Invoice.objects.get(pk=invoice.pk)


def book(team: Team | None = None) -> Contract:
    """Contract year 15 March 2026 - 14 March 2027: on 1 October 201 of its 365 days passed."""
    client = ClientFactory(team=team) if team else ClientFactory()
    contract = ContractFactory(
        client=client, starts_on=datetime.date(2025, 3, 15), ends_on=datetime.date(2027, 3, 14),
        annual_commitment=D("100000.00"), billing_cap=D("50000.00"), renewal_notice_days=90,
        applies_to_subsidiaries=True,
    )  # fmt: skip
    # Spend: 40,200.00 this contract year.
    order(contract, "30000.00", datetime.date(2026, 3, 15))
    order(contract, "10200.00", TODAY, status="fulfilled")
    order(contract, "5000.00", datetime.date(2026, 3, 14))  # the previous contract year
    order(contract, "7000.00", datetime.date(2026, 10, 2))  # after today
    order(contract, "8000.00", datetime.date(2026, 6, 1), status="draft")
    order(contract, "9000.00", datetime.date(2026, 6, 1), status="cancelled")
    order(ContractFactory(client=client), "6000.00", datetime.date(2026, 6, 1))  # other contract
    # Billed: 30,000 + 25,000 - 7,000 = 48,000.00 against a cap of 50,000.00.
    first = document(client, "30000.00", contract=contract)
    via_order = OrderFactory(client=client, contract=contract, status="confirmed")
    document(client, "25000.00", order=via_order, status="paid")
    document(client, "7000.00", kind="credit_note", series="NC", credits=first, contract=contract)
    document(client, "9999.00", contract=contract, status="cancelled")
    document(client, "1000.00", contract=contract, status="draft")
    cancelled = document(client, "500.00", contract=contract, status="cancelled")
    document(
        client, "500.00", kind="credit_note", series="NC", credits=cancelled, contract=contract
    )
    # Prices: two expire from today to 60 days ahead.
    for valid_to in (TODAY, TODAY + datetime.timedelta(days=60)):
        ContractPriceFactory(contract=contract, valid_to=valid_to)
    for valid_to in (TODAY - datetime.timedelta(days=1), TODAY + datetime.timedelta(days=61), None):
        ContractPriceFactory(contract=contract, valid_to=valid_to)
    # Cases past SLA: one of the client, one of a subsidiary (the contract covers it).
    ServiceCaseFactory(client=client, opened_at=CASE_OPENED, status="open")
    ServiceCaseFactory(client=ClientFactory(parent=client, team=client.team), opened_at=CASE_OPENED)
    ServiceCaseFactory(client=client, opened_at=NOW, sla_due=NOW + datetime.timedelta(hours=2))
    ServiceCaseFactory(
        client=client, opened_at=CASE_OPENED, status="resolved", resolution="Done",
        resolved_at=CASE_OPENED + datetime.timedelta(hours=1),
    )  # fmt: skip
    return contract


def only(user: User, contract: Contract) -> object:
    (row,) = contract_compliance(user=user, contracts=[contract.pk], today=TODAY, now=NOW)
    return row


@pytest.mark.django_db
def test_every_figure_of_a_contract(finance: User) -> None:
    contract = book()
    row = only(finance, contract)
    assert (row.year_starts_on, row.year_ends_on) == (
        datetime.date(2026, 3, 15), datetime.date(2027, 3, 14)
    )  # fmt: skip
    assert row.spend == D("40200.00")
    assert row.projected_spend == D("73000.00")  # 40,200 / 201 x 365
    assert row.on_pace is False
    assert row.billed == D("48000.00")
    assert (row.cap_used, row.over_cap) == (D("0.9600"), False)
    assert (row.prices_expiring, row.next_price_expiry) == (2, TODAY)
    assert row.cases_past_sla == 2
    assert row.renewal_notice_on == datetime.date(2026, 12, 14)  # 14 March 2027 - 90 days
    assert row.days_to_renewal_notice == 74


@pytest.mark.django_db
def test_on_pace_when_the_projection_reaches_the_commitment(finance: User) -> None:
    contract = book()
    # 54,800 + 40,200 = 95,000 in 201 days projects 95,000 / 201 x 365 = 172,512.44.
    Contract.objects.filter(pk=contract.pk).update(annual_commitment=D("172512.44"))
    order(contract, "54800.00", datetime.date(2026, 9, 1))
    assert only(finance, contract).projected_spend == D("172512.44")
    assert only(finance, contract).on_pace is True
    Contract.objects.filter(pk=contract.pk).update(annual_commitment=D("172512.45"))
    assert only(finance, contract).on_pace is False


@pytest.mark.django_db
def test_over_the_cap_and_without_a_cap_or_commitment(finance: User) -> None:
    contract = book()
    document(contract.client, "2000.01", contract=contract)
    row = only(finance, contract)
    assert (row.billed, row.over_cap) == (D("50000.01"), True)
    Contract.objects.filter(pk=contract.pk).update(billing_cap=None, annual_commitment=None)
    row = only(finance, contract)
    assert (row.cap_used, row.over_cap, row.on_pace, row.projected_spend) == (
        None, False, None, None
    )  # fmt: skip


@pytest.mark.django_db
def test_subsidiary_cases_count_only_when_the_contract_covers_them(finance: User) -> None:
    contract = book()
    Contract.objects.filter(pk=contract.pk).update(applies_to_subsidiaries=False)
    assert only(finance, contract).cases_past_sla == 1


@pytest.mark.django_db
def test_no_pace_for_a_contract_not_running_today(finance: User) -> None:
    contract = book()
    Contract.objects.filter(pk=contract.pk).update(ends_on=datetime.date(2026, 9, 30))
    row = only(finance, contract)
    assert (row.on_pace, row.days_to_renewal_notice) == (None, -91)
    Contract.objects.filter(pk=contract.pk).update(status="terminated")
    ids = [r.contract_id for r in contract_compliance(user=finance, today=TODAY, now=NOW)]
    assert contract.pk not in ids  # by default only active contracts


@pytest.mark.django_db
def test_a_team_leads_rollup_holds_only_their_team(finance: User) -> None:
    lead_team = TeamFactory()
    mine = book(lead_team)
    ContractFactory(client=ClientFactory(team=lead_team), annual_commitment=None)
    theirs = book()
    rollup = team_compliance(user=lead_team.lead, today=TODAY, now=NOW)
    assert len(rollup) == 1
    team = rollup[0]
    assert (team.team_id, team.contracts, team.with_commitment, team.behind_pace) == (
        lead_team.pk, 3, 1, 1
    )  # fmt: skip
    # The booked contract, book()'s second contract of the same client (6,000.00 spent since
    # its contract year began on 1 January; the client's own case past SLA) and one more.
    assert (team.annual_commitment, team.spend, team.billed) == (
        D("100000.00"), D("46200.00"), D("48000.00")
    )  # fmt: skip
    assert (team.over_cap, team.prices_expiring, team.cases_past_sla) == (0, 2, 3)
    assert team.renewal_notice_within_30_days == 0
    assert mine.pk in team.contract_ids
    assert theirs.pk not in team.contract_ids
    everyone = team_compliance(user=finance, today=TODAY, now=NOW)
    assert {t.team_id for t in everyone} == {lead_team.pk, theirs.client.team_id}


@pytest.mark.django_db
def test_a_nam_sees_only_their_contracts(finance: User) -> None:
    mine, other = book(), book()
    nam = AccountTeamMemberFactory(client=mine.client, role="nam").user
    rows = contract_compliance(user=nam, today=TODAY, now=NOW)
    assert {r.client_id for r in rows} == {mine.client_id}
    assert mine.pk in {r.contract_id for r in rows}
    assert contract_compliance(user=nam, contracts=[other.pk], today=TODAY, now=NOW) == []
    both = Contract.objects.filter(pk__in=[mine.pk, other.pk])
    rows = contract_compliance(user=nam, contracts=both, today=TODAY, now=NOW)
    assert [r.contract_id for r in rows] == [mine.pk]


@pytest.mark.django_db
def test_a_nam_of_the_parent_counts_nothing_of_a_subsidiary_they_do_not_see(
    finance: User,
) -> None:
    contract = book()  # applies to subsidiaries; one subsidiary case past SLA
    subsidiary = Client.objects.get(parent=contract.client)
    placed = OrderFactory(
        client=subsidiary, contract=contract, status="confirmed", order_date=d(2026, 6, 1)
    )
    OrderLineFactory(order=placed, quantity=D("1"), unit_price=D("3000.00"))
    invoice = document(subsidiary, "4000.00", contract=contract)
    document(subsidiary, "500.00", kind="credit_note", series="NC", credits=invoice,
             contract=contract)  # fmt: skip
    document(subsidiary, "600.00", order=placed)  # on the contract through its order
    nam = AccountTeamMemberFactory(client=contract.client, role="nam").user

    everything = only(finance, contract)
    assert (everything.spend, everything.billed, everything.cases_past_sla) == (
        D("43200.00"), D("52100.00"), 2
    )  # fmt: skip
    assert everything.over_cap is True
    # The NAM sees the parent only: the subsidiary's order, invoices and case are not theirs.
    seen = only(nam, contract)
    assert (seen.spend, seen.billed, seen.cases_past_sla, seen.over_cap) == (
        D("40200.00"), D("48000.00"), 1, False
    )  # fmt: skip
    (team,) = team_compliance(user=nam, today=TODAY, now=NOW)
    assert (team.spend, team.billed, team.cases_past_sla) == (D("46200.00"), D("48000.00"), 2)


@pytest.mark.parametrize("contracts", [2, 20])
@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_contracts(
    finance: User, django_assert_num_queries: object, contracts: int
) -> None:
    team = TeamFactory()
    for _ in range(contracts):
        ContractFactory(
            client=ClientFactory(team=team), annual_commitment=D("1000.00"),
            billing_cap=D("10.00"),
        )  # fmt: skip
    contract_compliance(user=finance, today=TODAY, now=NOW)  # the viewer's roles get cached
    with django_assert_num_queries(7):
        rows = contract_compliance(user=finance, today=TODAY, now=NOW)
    assert len(rows) == contracts
    with django_assert_num_queries(7):
        (rollup,) = team_compliance(user=finance, today=TODAY, now=NOW)
    assert (rollup.contracts, rollup.behind_pace) == (contracts, contracts)
    # A team lead's rows are filtered by what they see, in the same seven queries.
    contract_compliance(user=team.lead, today=TODAY, now=NOW)
    with django_assert_num_queries(7):
        rows = contract_compliance(user=team.lead, today=TODAY, now=NOW)
    assert len(rows) == contracts
