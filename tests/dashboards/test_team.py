"""The team lead dashboard (dashboards/team.py, dashboards/views.py): every figure against a
hand-computed value on a small two-team book (fixed `today`), a lead's totals exclude the other
team, the filters, access per role, the links open the lists behind the figures, and the query
count is pinned and the same at 2 and 40 accounts."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.utils import timezone

from dashboards import health as health_board
from dashboards import team as board
from tests.browser.conftest import browser, page  # noqa: F401 (fixtures)
from tests.browser.pages import sign_in
from tests.dashboards.test_finance import issued
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    ContractFactory,
    MilestoneDependencyFactory,
    MilestoneFactory,
    OpportunityFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
)

D = Decimal
TODAY = datetime.date(2026, 10, 1)
d = datetime.date


class TwoTeamBook:
    """Team A (lead_a): Alfa (NAM nam_a, Lombardia, retail) and Alfa Due (NAM nam_a2, Lazio,
    energy). Team B: Beta (NAM nam_b). `today` is 1 October 2026; 12 months = Nov 2025-Oct 2026.

    Revenue (net invoiced): Alfa 1000 (1 Sep) - credit note 100 (10 Sep) + 500 (1 Jun);
      999 cancelled (Sep) and 77 issued 15 Oct 2025 (before the period) do not count.
      Alfa Due 200 (1 Oct). Beta 300 (1 Aug).
    Pipeline: Alfa qualification 1000, proposal 2000, won 5000 (not open); Alfa Due proposal
      500; Beta negotiation 7000.
    Projects: Alfa one late (due 1 Sep) with an open milestone due 15 Sep (late) and a completed
      one due 1 Sep; one on track; one completed and past due (no health). Alfa Due one at risk
      (milestone due 3 Oct waits on an open predecessor due 10 Oct). Beta one late.
    Contracts (active, ending by 30 Dec = today + 90): Alfa ends 1 Dec (yes), 30 Jun 2027 (no),
      an expired one ending 1 Nov (no); Alfa Due ends 30 Dec (yes); Beta ends 1 Nov (yes).
    Findings: Alfa 20 + 15 open (999 resolved); Beta 30 open.
    Overdue: Alfa 1000 due 21 Sep, paid 400, credited 100 (owes 500) and 500 due 1 Jul (owes 500);
      Alfa Due 200 due 15 Oct (not yet due); Beta 300 due 16 Aug, paid 30 (owes 270).
    """

    def __init__(self) -> None:
        self.team_a = TeamFactory(name="Team A")
        self.lead_a = self.team_a.lead
        self.alfa = ClientFactory(name="Alfa", team=self.team_a, region="lombardia",
                                  industry="Retail")  # fmt: skip
        self.alfa2 = ClientFactory(name="Alfa Due", team=self.team_a, region="lazio",
                                   industry="Energy")  # fmt: skip
        self.beta = ClientFactory(name="Beta", industry="Retail")
        self.lead_b = self.beta.team.lead
        self.nam_a = AccountTeamMemberFactory(client=self.alfa, role="nam").user
        self.nam_a2 = AccountTeamMemberFactory(client=self.alfa2, role="nam").user
        self.nam_b = AccountTeamMemberFactory(client=self.beta, role="nam").user

        a1 = issued(self.alfa, gross="1000", issued_on=d(2026, 9, 1), due=d(2026, 9, 21),
                    paid="400")  # fmt: skip
        issued(self.alfa, gross="100", issued_on=d(2026, 9, 10), due=d(2026, 9, 10), credits=a1)
        a2 = issued(self.alfa, gross="500", issued_on=d(2026, 6, 1), due=d(2026, 7, 1))
        issued(self.alfa, gross="999", issued_on=d(2026, 9, 20), due=d(2026, 9, 20),
               status="cancelled")  # fmt: skip
        issued(self.alfa, gross="77", issued_on=d(2025, 10, 15), due=d(2025, 11, 15),
               status="paid", paid="77")  # fmt: skip
        issued(self.alfa2, gross="200", issued_on=d(2026, 10, 1), due=d(2026, 10, 15))
        b1 = issued(self.beta, gross="300", issued_on=d(2026, 8, 1), due=d(2026, 8, 16),
                    paid="30")  # fmt: skip
        CheckFindingFactory(invoice=a2, rule="price_vs_contract", amount_at_stake=D("20"))
        CheckFindingFactory(invoice=a2, rule="discount_vs_contract", amount_at_stake=D("15"))
        CheckFindingFactory(invoice=a1, rule="price_vs_contract", amount_at_stake=D("999"),
                            status="resolved", resolved_at=timezone.now())  # fmt: skip
        CheckFindingFactory(invoice=b1, rule="price_vs_contract", amount_at_stake=D("30"))

        OpportunityFactory(client=self.alfa, stage="qualification", value=D("1000"))
        OpportunityFactory(client=self.alfa, stage="proposal", value=D("2000"))
        OpportunityFactory(client=self.alfa, stage="won", value=D("5000"))
        OpportunityFactory(client=self.alfa2, stage="proposal", value=D("500"))
        OpportunityFactory(client=self.beta, stage="negotiation", value=D("7000"))

        late = ProjectFactory(client=self.alfa, due_on=d(2026, 9, 1))
        MilestoneFactory(project=late, due_on=d(2026, 9, 15))
        MilestoneFactory(project=late, due_on=d(2026, 9, 1), completed_on=d(2026, 8, 30))
        ProjectFactory(client=self.alfa, due_on=d(2026, 12, 31))
        ProjectFactory(client=self.alfa, due_on=d(2026, 9, 1), status="completed")
        risky = ProjectFactory(client=self.alfa2, due_on=d(2026, 12, 31))
        MilestoneDependencyFactory(
            milestone=MilestoneFactory(project=risky, due_on=d(2026, 10, 3)),
            predecessor=MilestoneFactory(project=risky, due_on=d(2026, 10, 10)),
        )
        ProjectFactory(client=self.beta, due_on=d(2026, 9, 1))

        ContractFactory(client=self.alfa, ends_on=d(2026, 12, 1))
        ContractFactory(client=self.alfa, ends_on=d(2027, 6, 30))
        ContractFactory(client=self.alfa, ends_on=d(2026, 11, 1), status="expired")
        ContractFactory(client=self.alfa2, ends_on=d(2026, 12, 30))
        ContractFactory(client=self.beta, ends_on=d(2026, 11, 1))


@pytest.fixture
def book(db: None) -> TwoTeamBook:
    return TwoTeamBook()


def figures(row: board.Row) -> dict[str, object]:
    return {
        "accounts": row.accounts,
        "revenue": row.revenue_total,
        "pipeline": (row.pipeline_count, row.pipeline_value),
        "projects_late": row.projects_late,
        "projects_at_risk": row.projects_at_risk,
        "milestones_late": row.milestones_late,
        "contracts_expiring": row.contracts_expiring,
        "findings": (row.findings, row.amount_at_stake),
        "overdue": (row.overdue_invoices, row.overdue_amount),
    }


ALFA = {
    "accounts": 1, "revenue": D("1400"), "pipeline": (2, D("3000")), "projects_late": 1,
    "projects_at_risk": 0, "milestones_late": 1, "contracts_expiring": 1,
    "findings": (2, D("35")), "overdue": (2, D("1000")),
}  # fmt: skip
ALFA2 = {
    "accounts": 1, "revenue": D("200"), "pipeline": (1, D("500")), "projects_late": 0,
    "projects_at_risk": 1, "milestones_late": 0, "contracts_expiring": 1,
    "findings": (0, D("0")), "overdue": (0, D("0")),
}  # fmt: skip
BETA = {
    "accounts": 1, "revenue": D("300"), "pipeline": (1, D("7000")), "projects_late": 1,
    "projects_at_risk": 0, "milestones_late": 0, "contracts_expiring": 1,
    "findings": (1, D("30")), "overdue": (1, D("270")),
}  # fmt: skip
TEAM_A = {
    "accounts": 2, "revenue": D("1600"), "pipeline": (3, D("3500")), "projects_late": 1,
    "projects_at_risk": 1, "milestones_late": 1, "contracts_expiring": 2,
    "findings": (2, D("35")), "overdue": (2, D("1000")),
}  # fmt: skip


def test_it_computes_every_figure_per_account_for_a_team_lead(book: TwoTeamBook) -> None:
    dash = board.team_dashboard(user=book.lead_a, today=TODAY)
    assert [r.client_id for r in dash["accounts"]] == [book.alfa.pk, book.alfa2.pk]
    alfa, alfa2 = dash["accounts"]
    assert figures(alfa) == ALFA
    assert figures(alfa2) == ALFA2
    assert figures(dash["total"]) == TEAM_A


def test_it_rolls_the_accounts_up_per_nam(book: TwoTeamBook) -> None:
    dash = board.team_dashboard(user=book.lead_a, today=TODAY)
    per_nam = {row.nam_id: figures(row) for row in dash["nams"]}
    assert per_nam == {book.nam_a.pk: ALFA, book.nam_a2.pk: ALFA2}


def test_it_splits_revenue_by_month_over_the_period(book: TwoTeamBook) -> None:
    dash = board.team_dashboard(user=book.lead_a, today=TODAY)
    months = dash["revenue_months"]
    assert (months[0]["month"], months[-1]["month"], len(months)) == (
        d(2025, 11, 1), d(2026, 10, 1), 12
    )  # fmt: skip
    assert {m["month"]: m["net"] for m in months if m["net"]} == {
        d(2026, 6, 1): D("500"), d(2026, 9, 1): D("900"), d(2026, 10, 1): D("200"),
    }  # fmt: skip
    alfa = dash["accounts"][0]
    assert [c["net"] for c in alfa.monthly if c["net"]] == [D("500"), D("900")]
    three = board.team_dashboard(user=book.lead_a, today=TODAY, filters={"period": 3})
    assert [m["month"] for m in three["revenue_months"]] == [d(2026, 8, 1), d(2026, 9, 1),
                                                            d(2026, 10, 1)]  # fmt: skip
    assert three["total"].revenue_total == D("1100")


def test_it_sums_the_open_pipeline_by_stage(book: TwoTeamBook) -> None:
    dash = board.team_dashboard(user=book.lead_a, today=TODAY)
    assert [(r["stage"], r["count"], r["value"]) for r in dash["pipeline"]] == [
        ("qualification", 1, D("1000")), ("proposal", 2, D("2500")), ("negotiation", 0, D("0")),
    ]  # fmt: skip


def test_it_ranks_account_health_worst_first(book: TwoTeamBook) -> None:
    dash = board.team_dashboard(user=book.lead_a, today=TODAY)
    expected = health_board.health_ranking(user=book.lead_a, today=TODAY)
    assert [(h.client_id, h.score) for h, _row in dash["ranking"]] == [
        (h.client_id, h.score) for h in expected
    ]
    assert {h.client_id for h, _row in dash["ranking"]} == {book.alfa.pk, book.alfa2.pk}
    # Alfa: 1 late milestone (8), overdue over 60 days (20), 2 open errors/warnings, no
    # activity (15): it is the worse of the two.
    assert dash["ranking"][0][0].client_id == book.alfa.pk


def test_a_leads_totals_exclude_the_other_team(book: TwoTeamBook, admin_user: User) -> None:
    a = board.team_dashboard(user=book.lead_a, today=TODAY)["total"]
    b = board.team_dashboard(user=book.lead_b, today=TODAY)["total"]
    everything = board.team_dashboard(user=admin_user, today=TODAY)["total"]
    assert figures(b) == BETA
    assert figures(a) == TEAM_A
    for key, value in figures(everything).items():
        if isinstance(value, tuple):
            pairs = zip(figures(a)[key], figures(b)[key], strict=True)
            assert value == tuple(x + y for x, y in pairs)
        else:
            assert value == figures(a)[key] + figures(b)[key]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"team": "a"}, ["Alfa", "Alfa Due"]),
        ({"nam": "nam_a2"}, ["Alfa Due"]),
        ({"region": "lombardia"}, ["Alfa"]),
        ({"industry": "Retail"}, ["Alfa", "Beta"]),
    ],
)
def test_the_filters_pick_the_accounts_in_sql(
    book: TwoTeamBook, admin_user: User, filters: dict[str, str], expected: list[str]
) -> None:
    values = {"a": book.team_a.pk, "nam_a2": book.nam_a2.pk}
    filters = {k: values.get(v, v) for k, v in filters.items()}
    dash = board.team_dashboard(user=admin_user, today=TODAY, filters=filters)
    assert [r.name for r in dash["accounts"]] == expected
    assert dash["total"].accounts == len(expected)


def test_a_lead_cannot_filter_their_way_into_another_team(book: TwoTeamBook) -> None:
    dash = board.team_dashboard(user=book.lead_a, today=TODAY, filters={"team": book.beta.team_id})
    assert dash["accounts"] == []
    assert figures(dash["total"])["revenue"] == D("0")


# The page: access, filters, links, query counts ------------------------------------------------


@pytest.mark.parametrize("url", ["/dashboards/", "/dashboards/team/"])
def test_a_team_lead_gets_the_team_dashboard(
    url: str, book: TwoTeamBook, login: Callable[[User], HttpClient]
) -> None:
    response = login(book.lead_a).get(url)
    assert response.status_code == 200
    assert response.templates[0].name == "dashboards/team.html"
    assert b'id="dashboard-charts"' in response.content
    assert b"Alfa Due" in response.content
    assert b"Beta" not in response.content
    assert figures(response.context["total"])["accounts"] == 2


def test_finance_keeps_its_page_at_the_index_and_admin_reaches_both(
    finance: User, admin_user: User, login: Callable[[User], HttpClient]
) -> None:
    assert login(finance).get("/dashboards/").templates[0].name == "dashboards/finance.html"
    assert login(finance).get("/dashboards/team/").status_code == 403
    http = login(admin_user)
    assert http.get("/dashboards/").templates[0].name == "dashboards/finance.html"
    assert http.get("/dashboards/team/").templates[0].name == "dashboards/team.html"


@pytest.mark.parametrize("url", ["/dashboards/", "/dashboards/team/"])
def test_a_nam_gets_403(url: str, book: TwoTeamBook, login: Callable[[User], HttpClient]) -> None:
    assert login(book.nam_a).get(url).status_code == 403


def test_anonymous_people_are_sent_to_log_in(client: HttpClient, db: None) -> None:
    response = client.get("/dashboards/team/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_applies_the_filters_and_shows_bad_ones(
    book: TwoTeamBook, login: Callable[[User], HttpClient]
) -> None:
    http = login(book.lead_a)
    response = http.get("/dashboards/team/", {"nam": book.nam_a.pk, "period": 6})
    assert [r.name for r in response.context["accounts"]] == ["Alfa"]
    assert len(response.context["months"]) == 6
    response = http.get("/dashboards/team/", {"nam": book.nam_b.pk})  # not a choice they have
    assert response.status_code == 200
    assert response.context["form"].errors["nam"]
    assert [r.name for r in response.context["accounts"]] == ["Alfa", "Alfa Due"]


def _book_relative_to_today() -> dict[str, Any]:
    """Figures relative to the real today (the lists' overdue / health filters read it).

    The lead's team: Gamma (NAM, Retail, Lombardia) and Delta (no NAM, Energy); another NAM of
    the team's, on Epsilon (Retail). Rows the figures leave out and a list filtered less tightly
    would show: a won opportunity, a cancelled invoice, an active contract that ended last year."""
    today = timezone.localdate()
    ago = lambda n: today - datetime.timedelta(days=n)  # noqa: E731
    client = ClientFactory(name="Gamma", industry="Retail", region="lombardia")
    other = ClientFactory(name="Delta", team=client.team, industry="Energy")
    third = ClientFactory(name="Epsilon", team=client.team, industry="Retail")
    AccountTeamMemberFactory(client=client, role="nam")
    AccountTeamMemberFactory(client=third, role="nam")
    for c in (client, other, third):
        invoice = issued(c, gross="100", issued_on=ago(40), due=ago(10))
        CheckFindingFactory(invoice=invoice, rule="price_vs_contract", amount_at_stake=D("5"))
        OpportunityFactory(client=c, stage="proposal", value=D("10"))
        OpportunityFactory(client=c, stage="won", value=D("1000"))
        late = ProjectFactory(client=c, due_on=ago(3), starts_on=ago(100))
        MilestoneFactory(project=late, due_on=ago(2))
        ContractFactory(client=c, starts_on=ago(300), ends_on=today + datetime.timedelta(days=30))
        ContractFactory(client=c, starts_on=ago(700), ends_on=ago(300))  # still "active"
        issued(c, gross="999", issued_on=ago(20), due=ago(1), status="cancelled")
    issued(client, gross="80", issued_on=ago(5), due=today + datetime.timedelta(days=20))
    return {"client": client, "third": third, "lead": client.team.lead}


def _client_of(row: Any) -> int:
    if hasattr(row, "project_id") and not hasattr(row, "client_id"):
        return row.project.client_id
    return row.client_id if hasattr(row, "client_id") else row.invoice.client_id


def _listed(http: HttpClient, url: str) -> list[Any]:
    """Every row of the list at `url` (one page: the books here are small)."""
    return list(http.get(url).context["page"].paginator.object_list)


def _signed_net(invoices: list[Any]) -> Decimal:
    return sum((-i.net_total if i.kind == "credit_note" else i.net_total for i in invoices), D(0))


def assert_each_link_lists_the_figures_rows(http: HttpClient, row: board.Row) -> None:
    """Follow each figure's link: the list holds exactly the rows it counts, and their amounts."""
    counts = {
        "pipeline": row.pipeline_count,
        "projects_late": row.projects_late,
        "projects_at_risk": row.projects_at_risk,
        "milestones_late": row.milestones_late,
        "contracts_expiring": row.contracts_expiring,
        "findings": row.findings,
        "overdue": row.overdue_invoices,
    }
    for name, count in counts.items():
        assert len(_listed(http, row.urls[name])) == count, (row.name, name)
    assert sum(o.value for o in _listed(http, row.urls["pipeline"])) == row.pipeline_value
    assert sum(f.amount_at_stake for f in _listed(http, row.urls["findings"])) == (
        row.amount_at_stake
    )
    assert sum(i.outstanding for i in _listed(http, row.urls["overdue"])) == row.overdue_amount
    assert _signed_net(_listed(http, row.urls["revenue"])) == row.revenue_total, row.name
    for cell in row.monthly:
        assert _signed_net(_listed(http, cell["url"])) == cell["net"], (row.name, cell["month"])


def test_every_figure_links_to_the_list_that_explains_it(
    db: None, login: Callable[[User], HttpClient]
) -> None:
    book = _book_relative_to_today()
    http = login(book["lead"])
    response = http.get("/dashboards/team/")
    content = response.content.decode().replace("&amp;", "&")
    [gamma] = [r for r in response.context["accounts"] if r.client_id == book["client"].pk]
    counts = {
        "projects_late": gamma.projects_late,
        "milestones_late": gamma.milestones_late,
        "contracts_expiring": gamma.contracts_expiring,
        "findings": gamma.findings,
        "overdue": gamma.overdue_invoices,
        "pipeline": gamma.pipeline_count,
    }
    assert counts == dict.fromkeys(counts, 1)
    for name, count in counts.items():
        url = gamma.urls[name]
        assert url in content, name
        listed = _listed(http, url)
        assert len(listed) == count, name
        assert {_client_of(row) for row in listed} == {book["client"].pk}, name
    assert gamma.overdue_amount == D("100.00")
    assert gamma.revenue_total == D("180.00")
    # Every row: the accounts, the NAMs (their lists filter by `nam`), the total.
    total = response.context["total"]
    nams = [r for r in response.context["nams"] if r.nam_id]
    assert len(nams) == 2
    for row in [*response.context["accounts"], *nams, total]:
        assert_each_link_lists_the_figures_rows(http, row)
    for row in nams:
        assert row.urls["pipeline"] in content
    assert (total.projects_late, total.overdue_invoices, total.contracts_expiring) == (3, 3, 3)
    # The charts' bars open the same lists as the tables.
    charts = response.context["charts"]
    proposal = next(r for r in response.context["pipeline"] if r["stage"] == "proposal")
    assert charts["pipeline"]["urls"][1] == proposal["url"]
    assert len(_listed(http, proposal["url"])) == proposal["count"] == 3
    month = response.context["revenue_months"][-1]
    assert charts["revenue"]["urls"][-1] == month["url"]
    for bar in response.context["revenue_months"]:
        assert _signed_net(_listed(http, bar["url"])) == bar["net"], bar["month"]


@pytest.mark.parametrize(
    ("filters", "accounts"),
    [({"industry": "Retail"}, ["Epsilon", "Gamma"]), ({"region": "lombardia"}, ["Gamma"]),
     ({"nam": "gamma_nam"}, ["Gamma"]), ({"team": "team"}, ["Delta", "Epsilon", "Gamma"])],
)  # fmt: skip
def test_a_filtered_dashboards_totals_and_bars_link_to_lists_filtered_the_same_way(
    db: None, login: Callable[[User], HttpClient], filters: dict[str, str], accounts: list[str]
) -> None:
    book = _book_relative_to_today()
    ClientFactory(name="Other team", industry="Retail", region="lombardia")  # not the lead's
    values = {
        "gamma_nam": book["client"].account_team.get(role="nam").user_id,
        "team": book["client"].team_id,
    }
    query = {k: values.get(v, v) for k, v in filters.items()}
    http = login(book["lead"])
    response = http.get("/dashboards/team/", query)
    assert not response.context["form"].errors
    assert sorted(r.name for r in response.context["accounts"]) == accounts
    total = response.context["total"]
    for name, value in query.items():
        assert f"{name}={value}" in total.urls["pipeline"]
    assert_each_link_lists_the_figures_rows(http, total)
    for row in response.context["nams"]:
        if row.nam_id:
            assert_each_link_lists_the_figures_rows(http, row)
    for bar in response.context["pipeline"]:
        assert len(_listed(http, bar["url"])) == bar["count"], bar["stage"]
        assert sum(o.value for o in _listed(http, bar["url"])) == bar["value"]
    for bar in response.context["revenue_months"]:
        assert _signed_net(_listed(http, bar["url"])) == bar["net"], bar["month"]


def _grow(n: int, team: Any = None) -> None:
    for _ in range(n):
        client = ClientFactory(**({"team": team} if team else {}))
        AccountTeamMemberFactory(client=client, role="nam")
        invoice = issued(client, gross="10", issued_on=TODAY - datetime.timedelta(days=20),
                         due=TODAY - datetime.timedelta(days=5), check="flagged")  # fmt: skip
        CheckFindingFactory(invoice=invoice, rule="price_vs_contract")
        OpportunityFactory(client=client, stage="proposal", value=D("10"))
        MilestoneFactory(project=ProjectFactory(client=client), due_on=d(2026, 1, 1))
        ContractFactory(client=client, ends_on=TODAY + datetime.timedelta(days=10))


@pytest.mark.parametrize("size", [2, 40])
def test_the_page_costs_the_same_queries_at_2_and_40_accounts(
    size: int, team_lead: User, login: Callable[[User], HttpClient],
    django_assert_num_queries: Any,
) -> None:  # fmt: skip
    team = TeamFactory(lead=team_lead)
    _grow(size, team=team)
    _grow(3)  # another team's accounts: the lead does not see them
    http = login(team_lead)
    # session, user, roles (3); filter options, accounts, revenue, pipeline, projects, late
    # milestones, contracts, findings, overdue (9); health ranking: ids + 7 signals (8); contract
    # compliance: contracts + 6 figures (7); the navbar's notification count (1); the session
    # saved at the end (3).
    with django_assert_num_queries(QUERIES):
        response = http.get("/dashboards/team/")
    assert response.status_code == 200
    assert response.context["total"].accounts == size
    assert response.context["total"].findings == size


QUERIES = 31


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_team_lead_clicks_a_pipeline_bar_and_lands_on_the_filtered_list(page) -> None:  # noqa: F811
    from playwright.sync_api import expect

    mine = ClientFactory(name="Padano Distribuzione")
    lead = mine.team.lead
    OpportunityFactory(client=mine, title="Rinnovo flotta", stage="proposal", value=D("1200"))
    OpportunityFactory(client=mine, title="Pilota", stage="qualification", value=D("300"))
    OpportunityFactory(client=ClientFactory(name="Other Team Spa"), stage="proposal",
                       value=D("999"))  # fmt: skip

    sign_in(page, lead)
    page.goto("/dashboards/")
    canvas = page.locator('canvas[data-chart="pipeline"]')
    expect(canvas).to_have_attribute("data-drawn", "true")
    expect(page.get_by_test_id("pipeline")).to_contain_text("1,200.00")
    expect(page.get_by_test_id("pipeline")).not_to_contain_text("999")
    # Where Chart.js drew the second bar (proposal), in the canvas' CSS pixels.
    x, y = page.evaluate(
        """() => {
            const canvas = document.querySelector('canvas[data-chart="pipeline"]');
            const bar = Chart.getChart(canvas).getDatasetMeta(0).data[1];
            return [bar.x, (bar.y + bar.base) / 2];
        }"""
    )
    canvas.click(position={"x": x, "y": y})
    expect(page).to_have_url(re.compile(r"/orders/opportunities/\?stage=proposal$"))
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rinnovo flotta")


@pytest.mark.parametrize(
    ("who", "team_entry", "index_entry"),
    [("team_lead", True, False), ("admin_user", True, True), ("finance", False, True),
     ("account_staff", False, False)],
)  # fmt: skip
def test_the_navbar_offers_the_team_dashboard_to_whom_its_view_lets_in(
    request: pytest.FixtureRequest, login: Callable[[User], HttpClient], who: str,
    team_entry: bool, index_entry: bool,
) -> None:  # fmt: skip
    user = request.getfixturevalue(who)
    http = login(user)
    links = {link.url for link in http.get("/clients/").context["nav_links"]}
    assert ("/dashboards/team/" in links) is team_entry
    assert ("/dashboards/" in links) is index_entry
    assert (http.get("/dashboards/team/").status_code == 200) is team_entry


def test_a_superuser_without_groups_is_offered_the_team_dashboard(
    db: None, login: Callable[[User], HttpClient]
) -> None:
    root = UserFactory(username="root", is_staff=True, is_superuser=True)  # in no group
    http = login(root)
    response = http.get("/clients/")
    assert "/dashboards/team/" in {link.url for link in response.context["nav_links"]}
    assert b'href="/dashboards/team/"' in response.content
    assert http.get("/dashboards/team/").status_code == 200
