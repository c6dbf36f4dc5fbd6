"""Contract compliance on the team lead dashboard (dashboards/compliance_views.py
`team_compliance_context`, templates/dashboards/_team_compliance.html): the per-team rollup and
the contracts that need attention, computed by hand on a small two-team book (fixed `today`),
per role, under the dashboard's filters, and on the page.

`today` is 1 October 2026; every contract is active unless said otherwise, currency EUR.

Team A (lead_a):
- Alfa (NAM nam_a, Lombardia, retail):
  - A-1: 15 Mar 2025 - 14 Mar 2027, contract year from 15 Mar 2026 (201 of 365 days gone);
    commitment 100,000.00, spend 30,000 + 10,200 = 40,200.00 (40.2%), projected
    40,200 / 201 x 365 = 73,000.00: behind pace. Billed 60,000.00 of a 50,000.00 cap (120%):
    over by 10,000.00. Notice 90 days before the end: 14 Dec 2026, in 74 days.
  - A-2: 1 Jan - 30 Dec 2026, no commitment, no cap, spend 5,000.00; notice 60 days before the
    end: 31 Oct 2026, in 30 days (within 30: needs attention).
  - A-3: 1 Jan 2026 - 31 Dec 2027, commitment 10,000.00, spend 9,000.00 (contract year 274 of
    365 days gone): projected 11,989.05, on pace; cap 100,000.00, nothing billed; notice in a
    year. Needs no attention.
- Alfa Due (NAM nam_a2, Lazio, energy):
  - D-1: 1 Jan 2024 - 31 Dec 2026, no commitment, no cap; notice 120 days before the end:
    2 Sep 2026, passed 29 days ago; one contract price expiring on 20 Oct; one case past SLA.
  - D-2: expired: not counted.
Team B (lead_b): Beta (NAM nam_b):
  - B-1: 1 Jan 2026 - 31 Dec 2027, commitment 50,000.00, nothing spent: behind pace.
  - B-2: the same dates in USD, no commitment: its own rollup row, no attention.

Team A's rollup (EUR): 4 contracts, 2 with a commitment (110,000.00), 1 behind pace, spend of
the committed ones 49,200.00 (44.7%), spend of all 54,200.00, billed 60,000.00, 1 over the cap,
1 price expiring, 1 case past SLA, 1 notice within 30 days, 1 notice passed.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from dashboards import compliance_views
from orders.models import Contract
from tests.dashboards.test_compliance import document, order
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    ServiceCaseFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2026, 10, 1)
d = datetime.date


class Book:
    def __init__(self) -> None:
        self.team_a = TeamFactory(name="Team A")
        self.lead_a = self.team_a.lead
        self.alfa = ClientFactory(name="Alfa", team=self.team_a, region="lombardia",
                                  industry="Retail")  # fmt: skip
        self.alfa2 = ClientFactory(name="Alfa Due", team=self.team_a, region="lazio",
                                   industry="Energy")  # fmt: skip
        self.team_b = TeamFactory(name="Team B")
        self.lead_b = self.team_b.lead
        self.beta = ClientFactory(name="Beta", team=self.team_b, industry="Retail")
        self.nam_a = AccountTeamMemberFactory(client=self.alfa, role="nam").user
        self.nam_a2 = AccountTeamMemberFactory(client=self.alfa2, role="nam").user
        self.nam_b = AccountTeamMemberFactory(client=self.beta, role="nam").user

        self.a1 = ContractFactory(
            client=self.alfa, number="A-1", starts_on=d(2025, 3, 15), ends_on=d(2027, 3, 14),
            annual_commitment=D("100000.00"), billing_cap=D("50000.00"), renewal_notice_days=90,
        )  # fmt: skip
        order(self.a1, "30000.00", d(2026, 3, 15))
        order(self.a1, "10200.00", TODAY, status="fulfilled")
        document(self.alfa, "60000.00", contract=self.a1)
        self.a2 = ContractFactory(
            client=self.alfa, number="A-2", starts_on=d(2026, 1, 1), ends_on=d(2026, 12, 30),
            renewal_notice_days=60,
        )  # fmt: skip
        order(self.a2, "5000.00", d(2026, 2, 1))
        self.a3 = ContractFactory(
            client=self.alfa, number="A-3", annual_commitment=D("10000.00"),
            billing_cap=D("100000.00"), renewal_notice_days=90,
        )  # fmt: skip
        order(self.a3, "9000.00", d(2026, 5, 1))
        self.d1 = ContractFactory(
            client=self.alfa2, number="D-1", starts_on=d(2024, 1, 1), ends_on=d(2026, 12, 31),
            renewal_notice_days=120,
        )  # fmt: skip
        ContractPriceFactory(contract=self.d1, valid_to=d(2026, 10, 20))
        ServiceCaseFactory(client=self.alfa2)  # opened 1 June 2026, SLA 24 hours: past it
        ContractFactory(client=self.alfa2, number="D-2", starts_on=d(2024, 1, 1),
                        ends_on=d(2025, 12, 31), status="expired")  # fmt: skip
        self.b1 = ContractFactory(client=self.beta, number="B-1",
                                  annual_commitment=D("50000.00"))  # fmt: skip
        self.b2 = ContractFactory(client=self.beta, number="B-2", currency="USD")


@pytest.fixture
def book() -> Book:
    return Book()


def context(user: User, **filters: object) -> dict[str, Any]:
    return compliance_views.team_compliance_context(user=user, filters=filters, today=TODAY)


def rollup(ctx: dict[str, Any]) -> list[tuple]:
    return [
        (
            item.team.team_name, item.team.currency, item.team.contracts,
            item.team.with_commitment, item.team.behind_pace, item.team.annual_commitment,
            item.team.committed_spend, item.committed_spend_percent, item.team.spend,
            item.team.billed, item.team.over_cap, item.team.prices_expiring,
            item.team.cases_past_sla, item.team.renewal_notice_within_30_days,
            item.team.renewal_notice_passed,
        )
        for item in ctx["compliance_teams"]
    ]  # fmt: skip


def attention(ctx: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(item.card.row.number, item.reasons) for item in ctx["compliance_attention"]]


TEAM_A = ("Team A", "EUR", 4, 2, 1, D("110000.00"), D("49200.00"), D("44.7"), D("54200.00"),
          D("60000.00"), 1, 1, 1, 1, 1)  # fmt: skip
TEAM_B_EUR = ("Team B", "EUR", 1, 1, 1, D("50000.00"), D("0.00"), D("0.0"), D("0.00"),
              D("0.00"), 0, 0, 0, 0, 0)  # fmt: skip
TEAM_B_USD = ("Team B", "USD", 1, 0, 0, D("0.00"), D("0.00"), None, D("0.00"),
              D("0.00"), 0, 0, 0, 0, 0)  # fmt: skip
ATTENTION_A = [
    ("A-1", ("behind_pace", "over_cap")),
    ("A-2", ("notice_soon",)),
    ("D-1", ("notice_passed", "prices_expiring", "cases_past_sla")),
]


def test_a_team_lead_gets_only_their_teams_rollup_and_contracts(book: Book) -> None:
    ctx = context(book.lead_a)
    assert rollup(ctx) == [TEAM_A]
    assert attention(ctx) == ATTENTION_A
    assert ctx["compliance_contracts"] == 4
    assert rollup(context(book.lead_b)) == [TEAM_B_EUR, TEAM_B_USD]
    assert attention(context(book.lead_b)) == [("B-1", ("behind_pace",))]


@pytest.mark.parametrize("who", ["finance", "admin_user"])
def test_finance_and_admin_get_every_team(book: Book, who: str, request: Any) -> None:
    ctx = context(request.getfixturevalue(who))
    assert rollup(ctx) == [TEAM_A, TEAM_B_EUR, TEAM_B_USD]
    assert attention(ctx) == [*ATTENTION_A, ("B-1", ("behind_pace",))]


def test_an_attention_rows_figures_and_links(book: Book) -> None:
    (a1, *_rest) = context(book.lead_a)["compliance_attention"]
    card = a1.card
    assert (card.row.spend, card.spend_percent, card.row.projected_spend) == (
        D("40200.00"), D("40.2"), D("73000.00")
    )  # fmt: skip
    assert (card.row.billed, card.cap_percent, card.over_cap_by) == (
        D("60000.00"), D("120.0"), D("10000.00")
    )  # fmt: skip
    assert card.row.days_to_renewal_notice == 74
    assert card.urls["contract"] == reverse("orders:contract_detail", args=[book.a1.pk])


def test_the_dashboards_filters_pick_the_contracts(book: Book, finance: User) -> None:
    ctx = context(book.lead_a, nam=book.nam_a2.pk)
    assert attention(ctx) == [ATTENTION_A[2]]
    assert [(t.team_name, t.contracts, t.cases_past_sla) for t in
            (i.team for i in ctx["compliance_teams"])] == [("Team A", 1, 1)]  # fmt: skip
    ctx = context(book.lead_a, region="lombardia")
    assert attention(ctx) == ATTENTION_A[:2]
    assert [i.team.contracts for i in ctx["compliance_teams"]] == [3]
    # Finance filtering by team B's industry and team A's team: the intersection (Alfa).
    ctx = context(finance, industry="retail", team=book.team_a.pk)
    assert attention(ctx) == ATTENTION_A[:2]
    # A lead filtering on the other team's team gets nothing of it.
    assert context(book.lead_a, team=book.team_b.pk)["compliance_teams"] == []


def test_the_rollup_links_to_the_teams_active_contracts(book: Book, finance: User) -> None:
    (team_a, *_rest) = context(finance, region="lombardia")["compliance_teams"]
    assert team_a.contracts_url == (
        f"{reverse('orders:contract_list')}?region=lombardia&team={book.team_a.pk}&status=active"
    )


# The page ------------------------------------------------------------------------------------


@pytest.fixture
def on_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's today (dashboards/team.py reads timezone.localdate) is 1 October 2026."""
    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)


def _in_english(http: HttpClient) -> HttpClient:
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return http


def _section(html: str) -> str:
    start = html.index('data-testid="team-compliance"')
    return html[start : html.index("</section>", start)]


def test_the_lead_reads_the_block_in_words_with_links_to_the_contracts(
    book: Book, on_today: None, login: Callable[[User], HttpClient]
) -> None:
    response = _in_english(login(book.lead_a)).get("/dashboards/team/")
    assert response.status_code == 200
    section = _section(response.content.decode())
    for words in ("Contract compliance", "Behind pace", "Over the billing cap",
                  "Renewal notice soon", "Renewal notice passed", "Contract prices expiring",
                  "Service cases past SLA"):  # fmt: skip
        assert words in section, words
    assert "⚠" in section
    for contract in (book.a1, book.a2, book.d1):
        assert f'href="{reverse("orders:contract_detail", args=[contract.pk])}"' in section
    # A-3 is on pace with nothing due: not listed.
    assert f'href="{reverse("orders:contract_detail", args=[book.a3.pk])}"' not in section
    assert "B-1" not in section
    assert "Team B" not in section
    rows = re.findall(r'data-contract="(\d+)"', section)
    assert rows == [str(book.a1.pk), str(book.a2.pk), str(book.d1.pk)]
    for figure in ("40,200.00 EUR", "73,000.00 EUR", "60,000.00 EUR", "(120%)"):
        assert figure in section, figure
    assert 'data-figure="committed_spend">49,200.00 EUR (44.7%)</td>' in section


def test_the_page_applies_the_dashboards_filters_to_the_block(
    book: Book, on_today: None, login: Callable[[User], HttpClient]
) -> None:
    response = _in_english(login(book.lead_a)).get("/dashboards/team/", {"region": "lazio"})
    section = _section(response.content.decode())
    assert re.findall(r'data-contract="(\d+)"', section) == [str(book.d1.pk)]
    assert response.context["compliance_contracts"] == 1


def test_admin_sees_both_teams_on_the_page(
    book: Book, on_today: None, login: Callable[[User], HttpClient], admin_user: User
) -> None:
    section = _section(_in_english(login(admin_user)).get("/dashboards/team/").content.decode())
    assert re.findall(r'data-team="(\d+)" data-currency="(\w+)"', section) == [
        (str(book.team_a.pk), "EUR"), (str(book.team_b.pk), "EUR"), (str(book.team_b.pk), "USD")
    ]  # fmt: skip
    assert f'data-contract="{book.b1.pk}"' in section


def test_a_contract_that_needs_nothing_is_not_listed() -> None:
    team = TeamFactory()
    ContractFactory(client=ClientFactory(team=team), annual_commitment=None)
    ContractFactory(client=ClientFactory(team=team), status=Contract.Status.DRAFT)
    ctx = context(team.lead)
    assert ctx["compliance_attention"] == []
    assert [i.team.contracts for i in ctx["compliance_teams"]] == [1]
