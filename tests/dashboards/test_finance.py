"""The finance dashboard (dashboards/finance.py, dashboards/views.py): every figure against a
hand-computed value on a small book, per role; the links open the lists that explain them;
query counts pinned and the same at 2 and 40 clients."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.utils import timezone

from accounts_crm.access import Role
from billing.models import Invoice
from dashboards import finance as board
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    InvoiceFactory,
    PaymentFactory,
    TeamFactory,
)

D = Decimal
TODAY = datetime.date(2026, 10, 1)
_number = itertools.count(1)


def issued(
    client: Any,
    *,
    gross: str,
    issued_on: datetime.date,
    due: datetime.date,
    paid: str = "0",
    check: str = "clean",
    status: str | None = None,
    credits: Invoice | None = None,
) -> Invoice:
    """An issued document written straight (VAT-free, no lines: the figures read totals)."""
    invoice = InvoiceFactory(
        client=client,
        kind="credit_note" if credits else "invoice",
        series="NC" if credits else "FV",
        credits=credits,
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        status=status or ("partially_paid" if D(paid) else "issued"), number=next(_number),
        year=issued_on.year, issue_date=issued_on, due_date=due, net_total=D(gross),
        gross_total=D(gross), amount_paid=D(paid), check_status=check,
    )  # fmt: skip
    return Invoice.objects.get(pk=invoice.pk)


class SmallBook:
    """Two clients of two teams; amounts chosen so every figure is easy to add up by hand.

    Client A (team of lead_a):
      a1  1000 issued 1 Sep, due 21 Sep (10 days late), paid 150 (5 Sep) + 250 (1 Oct),
          credit note 100 issued 10 Sep: outstanding 500, bucket 0-30; clean
      a2   500 issued 1 Jun, due 1 Jul (92 days late): bucket 90+; flagged;
          open findings price_vs_contract 20 and discount_vs_contract 15
      a3  draft, unchecked (owes nothing)
      a4   200 issued 15 Sep, due 15 Oct (not yet due); unchecked
      a5   999 issued 20 Sep, cancelled: counts nowhere
    Client B (another team):
      b1   300 issued 1 Aug, due 16 Aug (46 days late), paid 30 (15 Oct 2025, before the 12
          months): outstanding 270, bucket 31-60; flagged; open finding price_vs_contract 30
      b2    50 issued 10 Jul, due 25 Jul (68 days late), paid 20 (30 Nov 2025): outstanding 30,
          bucket 61-90; clean
    """

    def __init__(self) -> None:
        self.client_a = ClientFactory(name="Alfa")
        self.client_b = ClientFactory(name="Beta")
        self.lead_a = self.client_a.team.lead
        self.nam_a = AccountTeamMemberFactory(client=self.client_a, role="nam").user
        d = datetime.date
        self.a1 = issued(self.client_a, gross="1000", issued_on=d(2026, 9, 1),
                         due=d(2026, 9, 21), paid="400")  # fmt: skip
        PaymentFactory(invoice=self.a1, amount=D("150"), paid_on=d(2026, 9, 5))
        PaymentFactory(invoice=self.a1, amount=D("250"), paid_on=d(2026, 10, 1))
        self.note = issued(self.client_a, gross="100", issued_on=d(2026, 9, 10),
                           due=d(2026, 9, 10), credits=self.a1)  # fmt: skip
        self.a2 = issued(self.client_a, gross="500", issued_on=d(2026, 6, 1),
                         due=d(2026, 7, 1), check="flagged")  # fmt: skip
        CheckFindingFactory(invoice=self.a2, rule="price_vs_contract", amount_at_stake=D("20"))
        CheckFindingFactory(invoice=self.a2, rule="discount_vs_contract", amount_at_stake=D("15"))
        CheckFindingFactory(
            invoice=self.a1, rule="price_vs_contract", amount_at_stake=D("999"),
            status="resolved", resolved_at=timezone.now(),
        )  # fmt: skip
        self.a3 = InvoiceFactory(client=self.client_a)
        self.a4 = issued(self.client_a, gross="200", issued_on=d(2026, 9, 15),
                         due=d(2026, 10, 15), check="unchecked")  # fmt: skip
        issued(self.client_a, gross="999", issued_on=d(2026, 9, 20), due=d(2026, 9, 20),
               status="cancelled")  # fmt: skip
        self.b1 = issued(self.client_b, gross="300", issued_on=d(2026, 8, 1),
                         due=d(2026, 8, 16), paid="30", check="flagged")  # fmt: skip
        PaymentFactory(invoice=self.b1, amount=D("30"), paid_on=d(2025, 10, 15))
        CheckFindingFactory(invoice=self.b1, rule="price_vs_contract", amount_at_stake=D("30"))
        self.b2 = issued(self.client_b, gross="50", issued_on=d(2026, 7, 10),
                         due=d(2026, 7, 25), paid="20")  # fmt: skip
        PaymentFactory(invoice=self.b2, amount=D("20"), paid_on=d(2025, 11, 30))


@pytest.fixture
def small_book(db: None) -> SmallBook:
    return SmallBook()


def values(figures: list[board.Figure]) -> dict[str, object]:
    return {f.key: f.value for f in figures}


# Figures, per role ---------------------------------------------------------------------------


def test_it_counts_invoices_waiting_for_check_and_review(
    small_book: SmallBook, finance: User
) -> None:
    assert values(_check(finance)) == {"unchecked": 2, "flagged": 2}
    assert values(_check(small_book.lead_a)) == {"unchecked": 2, "flagged": 1}


def _check(user: User) -> list[board.Figure]:
    return board.check_queue(user=user)


def test_it_sums_findings_by_rule(small_book: SmallBook, finance: User) -> None:
    rows = {r["rule"]: r for r in board.findings_by_rule(user=finance)}
    assert {k: (r["findings"], r["amount_at_stake"]) for k, r in rows.items()} == {
        "price_vs_contract": (2, D("50.00")),
        "discount_vs_contract": (1, D("15.00")),
    }
    assert rows["price_vs_contract"]["label"] == "Unit price vs contract price"
    lead_rows = board.findings_by_rule(user=small_book.lead_a)
    assert [(r["rule"], r["findings"], r["amount_at_stake"]) for r in lead_rows] == [
        ("price_vs_contract", 1, D("20.00")),
        ("discount_vs_contract", 1, D("15.00")),
    ]


def test_it_buckets_overdue_receivables(small_book: SmallBook, finance: User) -> None:
    assert values(board.aging_buckets(user=finance, today=TODAY)) == {
        "days_0_30": D("500.00"), "days_31_60": D("270.00"), "days_61_90": D("30.00"),
        "days_over_90": D("500.00"), "total": D("1500.00"),
    }  # fmt: skip
    assert values(board.aging_buckets(user=small_book.lead_a, today=TODAY)) == {
        "days_0_30": D("500.00"), "days_31_60": D("0.00"), "days_61_90": D("0.00"),
        "days_over_90": D("500.00"), "total": D("1200.00"),
    }  # fmt: skip


def test_it_computes_dso_from_receivables_and_credit_sales(
    small_book: SmallBook, finance: User
) -> None:
    # Sales of the 90 days: a1 1000 + a4 200 + b1 300 + b2 50 - credit note 100 = 1450
    # (a2 was issued before the window, a5 is cancelled). DSO = 1500 / 1450 x 90 = 93.10...
    dash = board.finance_dashboard(user=finance, today=TODAY)
    assert (dash["receivables"], dash["credit_sales"], dash["dso"]) == (
        D("1500.00"), D("1450.00"), D("93.1"),
    )  # fmt: skip
    # Team lead A: 1200 / (1000 + 200 - 100) x 90 = 98.18...
    dash = board.finance_dashboard(user=small_book.lead_a, today=TODAY)
    assert (dash["receivables"], dash["credit_sales"], dash["dso"]) == (
        D("1200.00"), D("1100.00"), D("98.2"),
    )  # fmt: skip


def test_it_has_no_dso_without_sales() -> None:
    assert board.dso(receivables=D("10"), sales=D("0")) is None
    assert board.dso(receivables=D("0"), sales=D("7")) == D("0.0")


def test_it_sums_collected_per_month_for_twelve_months(
    small_book: SmallBook, finance: User
) -> None:
    rows = board.collected_per_month(user=finance, today=TODAY)
    assert [r["month"] for r in rows][:2] == [
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
    ]
    assert rows[-1]["month"] == datetime.date(2026, 10, 1)
    assert len(rows) == 12
    nonzero = {r["month"].isoformat(): r["total"] for r in rows if r["total"]}
    assert nonzero == {"2025-11-01": D("20.00"), "2026-09-01": D("150.00"),
                       "2026-10-01": D("250.00")}  # fmt: skip
    lead = board.collected_per_month(user=small_book.lead_a, today=TODAY)
    assert {r["month"].isoformat(): r["total"] for r in lead if r["total"]} == {
        "2026-09-01": D("150.00"), "2026-10-01": D("250.00"),
    }  # fmt: skip


def test_it_ranks_the_top_overdue_clients(small_book: SmallBook, finance: User) -> None:
    rows = board.top_overdue_clients(user=finance, today=TODAY)
    assert [(r["client__name"], r["overdue_amount"], r["invoices"]) for r in rows] == [
        ("Alfa", D("1000.00"), 2), ("Beta", D("300.00"), 2),
    ]  # fmt: skip
    lead = board.top_overdue_clients(user=small_book.lead_a, today=TODAY)
    assert [r["client_id"] for r in lead] == [small_book.client_a.pk]
    assert len(board.top_overdue_clients(user=finance, today=TODAY, limit=1)) == 1


def test_a_team_leads_totals_are_the_sums_over_their_accounts(
    small_book: SmallBook, finance: User
) -> None:
    lead_b = small_book.client_b.team.lead
    a = board.finance_dashboard(user=small_book.lead_a, today=TODAY)
    b = board.finance_dashboard(user=lead_b, today=TODAY)
    everyone = board.finance_dashboard(user=finance, today=TODAY)
    assert a["receivables"] + b["receivables"] == everyone["receivables"]
    for i, figure in enumerate(everyone["aging"]):
        assert a["aging"][i].value + b["aging"][i].value == figure.value
    for i, row in enumerate(everyone["collected"]):
        assert a["collected"][i]["total"] + b["collected"][i]["total"] == row["total"]


# The page: access, links, query counts --------------------------------------------------------


# Team leads (who are not finance or admin) get the team lead dashboard at /dashboards/
# (tests/dashboards/test_team.py); the finance figures restricted to a lead are checked above.
@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_it_shows_the_dashboard_to_finance_and_admin(
    role: Role, make_user: Callable[..., User], login: Callable[[User], HttpClient]
) -> None:
    http = login(make_user(role))
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = http.get("/dashboards/")
    assert response.status_code == 200
    assert b"Finance dashboard" in response.content
    assert b'id="dashboard-charts"' in response.content
    assert b"vendor/chart.js/chart.umd.min.js" in response.content
    assert b"js/dashboards.js" in response.content


def test_it_refuses_account_staff_without_a_lead_or_finance_role(
    account_staff: User, login: Callable[[User], HttpClient]
) -> None:
    assert login(account_staff).get("/dashboards/").status_code == 403


def test_it_sends_anonymous_people_to_log_in(client: HttpClient, db: None) -> None:
    response = client.get("/dashboards/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_team_lead_gets_the_team_dashboard_not_this_one(
    small_book: SmallBook, login: Callable[[User], HttpClient]
) -> None:
    response = login(small_book.lead_a).get("/dashboards/")
    assert response.templates[0].name == "dashboards/team.html"
    assert b"Finance dashboard" not in response.content
    assert b"Beta" not in response.content


def _book_relative_to_today() -> dict[str, Any]:
    """Overdue invoices relative to the real today (the list's `overdue` filter reads it)."""
    today = timezone.localdate()
    ago = lambda n: today - datetime.timedelta(days=n)  # noqa: E731
    client = ClientFactory(name="Gamma")
    other = ClientFactory(name="Delta")
    late_10 = issued(client, gross="100", issued_on=ago(40), due=ago(10), check="flagged")
    late_30 = issued(other, gross="40", issued_on=ago(40), due=ago(30))
    issued(client, gross="70", issued_on=ago(40), due=ago(31))  # the next bucket
    issued(client, gross="80", issued_on=ago(40), due=today)  # due today: not late
    finding = CheckFindingFactory(invoice=late_10, rule="price_vs_contract")
    CheckFindingFactory(invoice=late_30, rule="duplicate_invoice")
    return {"client": client, "late": {late_10.pk, late_30.pk}, "finding": finding.pk}


def test_every_figure_links_to_the_list_that_explains_it(
    finance: User, login: Callable[[User], HttpClient]
) -> None:
    book = _book_relative_to_today()
    http = login(finance)
    response = http.get("/dashboards/")
    content = response.content.decode()
    bucket = next(f for f in response.context["aging"] if f.key == "days_0_30")
    assert bucket.value == D("140.00")
    assert bucket.url in content.replace("&amp;", "&")
    listed = http.get(bucket.url).context["page"]
    assert {invoice.pk for invoice in listed} == book["late"]

    [flagged] = [f for f in response.context["check_queue"] if f.key == "flagged"]
    assert flagged.value == 1
    assert [i.check_status for i in http.get(flagged.url).context["page"]] == ["flagged"]

    rule = next(r for r in response.context["findings_by_rule"] if r["rule"] == "price_vs_contract")
    assert rule["url"] == "/billing/review/?rule=price_vs_contract"
    assert [f.pk for f in http.get(rule["url"]).context["page"]] == [book["finding"]]

    [top, _other] = response.context["top_overdue"]
    assert top["client_id"] == book["client"].pk
    assert top["invoices"] == 2
    listed = http.get(top["url"]).context["page"]
    assert len(listed) == top["invoices"]
    assert sum(i.outstanding for i in listed) == top["overdue_amount"] == D("170.00")
    charts = response.context["charts"]
    assert charts["aging"]["urls"][0] == bucket.url
    assert charts["top_overdue"]["urls"][0] == top["url"]


def _grow(n: int, team: Any = None) -> None:
    for _ in range(n):
        client = ClientFactory(**({"team": team} if team else {}))
        AccountTeamMemberFactory(client=client, role="nam")
        invoice = issued(client, gross="10", issued_on=TODAY - datetime.timedelta(days=20),
                         due=TODAY - datetime.timedelta(days=5), check="flagged")  # fmt: skip
        PaymentFactory(invoice=invoice, amount=D("1"), paid_on=TODAY)
        CheckFindingFactory(invoice=invoice, rule=f"rule_{n % 3}")


@pytest.mark.parametrize("size", [2, 40])
@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_the_page_costs_the_same_queries_at_2_and_40_clients(
    size: int, role: Role, make_user: Callable[..., User], login: Callable[[User], HttpClient],
    django_assert_num_queries: Any,
) -> None:  # fmt: skip
    viewer = make_user(role)
    team = TeamFactory(lead=viewer)
    _grow(size, team=team)
    _grow(3)  # another team's accounts: the lead does not see them
    http = login(viewer)
    # session, user, roles (3); aging, credit sales, check queue, findings by rule, collected,
    # top overdue (6); the navbar's notification count (1); the session saved at the end
    # (savepoint, update, release: 3).
    with django_assert_num_queries(QUERIES):
        response = http.get("/dashboards/")
    assert response.status_code == 200
    seen = size + 3  # finance and admin read the whole book
    assert sum(r["findings"] for r in response.context["findings_by_rule"]) == seen


QUERIES = 13


def test_it_writes_nothing(small_book: SmallBook, finance: User, login: Any) -> None:
    before = list(Invoice.objects.order_by("pk").values())
    login(finance).get("/dashboards/")
    assert list(Invoice.objects.order_by("pk").values()) == before


def test_a_collected_month_links_to_the_invoices_paid_in_it(
    finance: User, login: Callable[[User], HttpClient]
) -> None:
    today = timezone.localdate()
    first = today.replace(day=1)
    before = first - datetime.timedelta(days=1)  # last month
    paid_now = issued(ClientFactory(name="Now"), gross="100", issued_on=before, due=today)
    paid_before = issued(ClientFactory(name="Before"), gross="60", issued_on=before, due=today)
    PaymentFactory(invoice=paid_now, amount=D("40"), paid_on=first)
    PaymentFactory(invoice=paid_before, amount=D("60"), paid_on=before)
    http = login(finance)

    month = http.get("/dashboards/").context["collected"][-1]

    assert (month["month"], month["total"]) == (first, D("40"))
    assert (
        f'href="{month["url"].replace("&", "&amp;")}"' in http.get("/dashboards/").content.decode()
    )
    assert [invoice.pk for invoice in http.get(month["url"]).context["page"]] == [paid_now.pk]
