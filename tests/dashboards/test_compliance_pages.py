"""Contract compliance on the contract page (a panel) and on the client page (a section): the
figures of a small hand-built book, the lists they link to, contracts that are not running,
who sees what, and the queries they cost.

The book: client Alfa (NAM `nam`), `today` fixed at 1 October 2026 (the product's `localdate`),
`now` the real one (the cases' SLAs are set around it).

- ON-PACE: 1 Jan 2026 - 31 Dec 2027, contract year 1 Jan - 31 Dec 2026 (274 of 365 days gone);
  commitment 100,000.00, spend 50,000 + 30,000 = 80,000.00 (the December 2025 order and the one
  of 2 October are outside the year, the draft does not count): 80% of the commitment,
  projected 80,000 / 274 x 365 = 106,569.34, on pace. Billed 60,000.00 of a 200,000.00 cap (30%).
  Prices expiring by 30 November: 20 October and 15 November (2, the first on 20 October); one
  of 1 December is out. Renewal notice 90 days before 31 Dec 2027: 2 Oct 2027, in 366 days.
- BEHIND: 15 Mar 2025 - 31 Dec 2026, contract year 15 Mar 2026 - 14 Mar 2027 (201 of 365 days);
  commitment 100,000.00, spend 40,200.00 (40.2%), projected 40,200 / 201 x 365 = 73,000.00, behind
  pace. Billed 12,500.00 of a 10,000.00 cap: 125%, over by 2,500.00. No price expiring. Notice
  120 days before 31 Dec 2026: 2 Sep 2026, passed 29 days ago.
- OLD (expired 2025), DRAFT, LATER (active, starts 2027): not running, no figures.
- Alfa has one case past its SLA (and one within it, one resolved): both running contracts show 1.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_crm import pages
from accounts_crm.access import Role
from billing.models import Invoice
from clients.models import Client
from clients.views import CLIENT_SECTIONS
from dashboards import compliance_views
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
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2026, 10, 1)
_number = iter(range(1, 100_000))


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compliance's today is 1 October 2026 (the rest of the product keeps the real one)."""
    monkeypatch.setattr(compliance_views, "localdate", lambda: TODAY)


# The book ------------------------------------------------------------------------------------


def order(contract: Contract, amount: str, day: datetime.date, status: str = "confirmed") -> None:
    placed = OrderFactory(client=contract.client, contract=contract, status=status, order_date=day)
    OrderLineFactory(order=placed, quantity=D("2"), unit_price=D(amount) / 2)


def invoice(contract: Contract, net: str) -> None:
    """An issued invoice of `contract` with net total `net`."""
    row = InvoiceFactory(client=contract.client, contract=contract)
    Invoice.objects.filter(pk=row.pk).update(
        status="issued", number=next(_number), year=2026, issue_date=datetime.date(2026, 5, 1),
        due_date=datetime.date(2026, 7, 1), net_total=D(net), gross_total=D(net),
    )  # fmt: skip


@dataclass
class Book:
    alfa: Client
    nam: User
    on_pace: Contract
    behind: Contract
    old: Contract
    draft: Contract
    later: Contract


def on_pace_contract(client: Client, number: str) -> Contract:
    contract = ContractFactory(
        client=client, number=number, starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2027, 12, 31), annual_commitment=D("100000.00"),
        billing_cap=D("200000.00"), renewal_notice_days=90,
    )  # fmt: skip
    order(contract, "50000.00", datetime.date(2026, 2, 1))
    order(contract, "30000.00", datetime.date(2026, 9, 30), status="fulfilled")
    order(contract, "9000.00", datetime.date(2025, 12, 31))  # the previous contract year
    order(contract, "7000.00", datetime.date(2026, 10, 2))  # after today
    order(contract, "8000.00", datetime.date(2026, 6, 1), status="draft")
    invoice(contract, "60000.00")
    for valid_to in (datetime.date(2026, 10, 20), datetime.date(2026, 11, 15)):
        ContractPriceFactory(contract=contract, valid_to=valid_to)
    ContractPriceFactory(contract=contract, valid_to=datetime.date(2026, 12, 1))
    return contract


@pytest.fixture
def book() -> Book:
    alfa = ClientFactory(name="Alfa")
    nam = AccountTeamMemberFactory(client=alfa, role="nam").user
    on_pace = on_pace_contract(alfa, "CTR-A-ON")
    behind = ContractFactory(
        client=alfa, number="CTR-B-BEHIND", starts_on=datetime.date(2025, 3, 15),
        ends_on=datetime.date(2026, 12, 31), annual_commitment=D("100000.00"),
        billing_cap=D("10000.00"), renewal_notice_days=120,
    )  # fmt: skip
    order(behind, "40200.00", datetime.date(2026, 4, 1))
    order(behind, "5000.00", datetime.date(2026, 3, 14))  # the previous contract year
    invoice(behind, "12500.00")
    ContractPriceFactory(contract=behind, valid_to=datetime.date(2026, 9, 30))  # expired
    old = ContractFactory(
        client=alfa, number="CTR-C-OLD", status="expired", starts_on=datetime.date(2024, 1, 1),
        ends_on=datetime.date(2025, 12, 31), annual_commitment=D("5000.00"),
    )  # fmt: skip
    draft = ContractFactory(client=alfa, number="CTR-D-DRAFT", status="draft")
    later = ContractFactory(
        client=alfa, number="CTR-E-LATER", starts_on=datetime.date(2027, 1, 1),
        ends_on=datetime.date(2027, 12, 31),
    )  # fmt: skip
    now = timezone.now()
    ServiceCaseFactory(client=alfa, opened_at=now - datetime.timedelta(days=3))
    ServiceCaseFactory(client=alfa, opened_at=now, sla_due=now + datetime.timedelta(hours=2))
    ServiceCaseFactory(
        client=alfa, opened_at=now - datetime.timedelta(days=3), status="resolved",
        resolution="Done", resolved_at=now - datetime.timedelta(days=2),
    )  # fmt: skip
    return Book(alfa, nam, on_pace, behind, old, draft, later)


@pytest.fixture
def english(client: HttpClient) -> HttpClient:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def as_user(english: HttpClient, login: Callable[[User], HttpClient]) -> Callable[[User], Any]:
    return login


# Reading the page ----------------------------------------------------------------------------


class _Figures(HTMLParser):
    """Text and links of every element carrying a data-testid (nested ones too)."""

    VOID = {"br", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, Any]] = {}
        self.open: list[tuple[str, int]] = []  # testid, depth at which it opened
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for testid, _ in self.open:
            if tag == "a" and attributes.get("href"):
                self.found[testid]["links"].append(attributes["href"])
        if tag in self.VOID:
            return
        self.depth += 1
        if testid := attributes.get("data-testid"):
            self.found.setdefault(testid, {"text": "", "links": []})
            self.open.append((testid, self.depth))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        while self.open and self.open[-1][1] == self.depth:
            self.open.pop()
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        for testid, _ in self.open:
            self.found[testid]["text"] += data


def figures(html: str) -> dict[str, dict[str, Any]]:
    parser = _Figures()
    parser.feed(html)
    for figure in parser.found.values():
        figure["text"] = re.sub(r"\s+", " ", figure["text"]).strip()
    return parser.found


def contract_page(http: HttpClient, contract: Contract) -> dict[str, dict[str, Any]]:
    response = http.get(f"/orders/contracts/{contract.pk}/")
    assert response.status_code == 200
    return figures(response.content.decode())


def client_section(http: HttpClient, client: Client) -> dict[int, dict[str, dict[str, Any]]]:
    """The client page's compliance section, contract id -> its figures."""
    response = http.get(f"/clients/{client.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    section = html[html.index('<section id="compliance"') :]
    section = section[: section.index("</section>")]
    parts = re.split(r'(?=<li class="list-group-item" data-testid="compliance-contract")', section)
    cards = {}
    for part in parts[1:]:
        contract_id = int(re.search(r'data-contract="(\d+)"', part).group(1))
        cards[contract_id] = figures(part)
    return cards


def text(found: dict[str, dict[str, Any]], testid: str) -> str:
    return found[testid]["text"]


# The figures ---------------------------------------------------------------------------------


def assert_on_pace_figures(found: dict[str, dict[str, Any]], contract: Contract) -> None:
    assert text(found, "compliance-spend") == (
        "80,000.00 EUR of 100,000.00 EUR annual commitment (80%) "
        "Contract year 01/01/2026 \N{EN DASH} 12/31/2026, 75.1% gone."
    )
    assert text(found, "compliance-pace") == (
        "✓ On pace 106,569.34 EUR projected for the contract year at this rhythm, "
        "against 100,000.00 EUR."
    )
    assert "behind-pace" not in found
    assert text(found, "compliance-billed") == (
        "60,000.00 EUR of a 200,000.00 EUR billing cap (30% used)"
    )
    assert "over-cap" not in found
    assert text(found, "compliance-prices") == "2 prices, the first on 10/20/2026"
    assert text(found, "compliance-cases") == "⚠ 1 case past its SLA"
    assert text(found, "compliance-notice") == "in 366 days, on 10/02/2027"
    assert found["compliance-spend"]["links"] == [
        f"/orders/?contract={contract.pk}&ordered_after=2026-01-01&ordered_before=2026-10-01"
    ]
    assert found["compliance-billed"]["links"] == [
        f"/billing/?contract={contract.pk}&in_revenue=true"
    ]
    assert found["compliance-prices"]["links"] == [f"/orders/contracts/{contract.pk}/#prices"]
    assert found["compliance-cases"]["links"] == [
        f"/projects/cases/all/?client={contract.client_id}&past_sla=true"
    ]


def assert_behind_figures(found: dict[str, dict[str, Any]]) -> None:
    assert text(found, "compliance-spend") == (
        "40,200.00 EUR of 100,000.00 EUR annual commitment (40.2%) "
        "Contract year 03/15/2026 \N{EN DASH} 03/14/2027, 55.1% gone."
    )
    assert text(found, "compliance-pace") == (
        "⚠ Behind pace 73,000.00 EUR projected for the contract year at this rhythm, "
        "against 100,000.00 EUR."
    )
    assert "on-pace" not in found
    assert text(found, "compliance-billed") == (
        "12,500.00 EUR of a 10,000.00 EUR billing cap (125% used) ⚠ Over the cap by 2,500.00 EUR"
    )
    assert text(found, "compliance-prices") == "none"
    assert found["compliance-prices"]["links"] == []
    assert text(found, "compliance-cases") == "⚠ 1 case past its SLA"
    assert text(found, "compliance-notice") == "⚠ passed 29 days ago, on 09/02/2026"


def test_the_contract_page_shows_an_on_pace_contracts_figures(book: Book, as_user) -> None:
    found = contract_page(as_user(book.nam), book.on_pace)
    assert_on_pace_figures(found, book.on_pace)


def test_the_contract_page_shows_a_contract_behind_pace_and_over_its_cap(
    book: Book, as_user
) -> None:
    found = contract_page(as_user(book.nam), book.behind)
    assert_behind_figures(found)


def test_the_spend_links_to_the_orders_of_the_contract_year(book: Book, as_user) -> None:
    http = as_user(book.nam)
    url = contract_page(http, book.on_pace)["compliance-spend"]["links"][0]
    html = http.get(url).content.decode()
    # The two orders that make the spend, and the draft of the same year (the list shows it;
    # the spend leaves it out). Not the order of the previous year, nor the one after today.
    assert html.count('data-testid="order-row"') == 3


def test_the_billed_links_to_the_invoices_that_make_it(book: Book, as_user) -> None:
    # 12,500.00 on the contract, 1,000.00 through an order of the contract (the invoice names
    # no contract); a draft and the other contract's 60,000.00 are not billed under it.
    placed = OrderFactory(client=book.alfa, contract=book.behind, status="confirmed")
    via_order = InvoiceFactory(client=book.alfa, order=placed)
    Invoice.objects.filter(pk=via_order.pk).update(
        status="paid", number=next(_number), year=2026, issue_date=datetime.date(2026, 6, 1),
        due_date=datetime.date(2026, 7, 1), net_total=D("1000.00"), gross_total=D("1000.00"),
    )  # fmt: skip
    InvoiceFactory(client=book.alfa, contract=book.behind)  # a draft
    http = as_user(book.nam)
    found = contract_page(http, book.behind)
    assert text(found, "compliance-billed").startswith("13,500.00 EUR of a 10,000.00 EUR")
    (url,) = found["compliance-billed"]["links"]
    listed = list(http.get(url).context["page"].object_list)
    assert len(listed) == 2
    assert sum((i.net_total for i in listed), D("0")) == D("13500.00")


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ("old", "Ended on 12/31/2025: the contract no longer runs"),
        ("draft", "A draft: compliance is measured once the contract is active."),
        ("later", "Starts on 01/01/2027: compliance is measured from then."),
    ],
)
def test_a_contract_that_is_not_running_says_why_it_has_no_figures(
    book: Book, as_user, contract: str, message: str
) -> None:
    found = contract_page(as_user(book.nam), getattr(book, contract))
    assert message in text(found, "compliance-not-running")
    assert "compliance-figures" not in found


def test_a_terminated_contract_says_so(book: Book, as_user) -> None:
    Contract.objects.filter(pk=book.on_pace.pk).update(status="terminated")
    found = contract_page(as_user(book.nam), book.on_pace)
    assert text(found, "compliance-not-running").startswith("Terminated")
    assert "compliance-figures" not in found


def test_no_commitment_and_no_cap_are_said_in_words(book: Book, as_user) -> None:
    Contract.objects.filter(pk=book.on_pace.pk).update(annual_commitment=None, billing_cap=None)
    found = contract_page(as_user(book.nam), book.on_pace)
    assert text(found, "compliance-spend").startswith("80,000.00 EUR (no annual commitment)")
    assert "compliance-pace" not in found
    assert text(found, "compliance-billed") == "60,000.00 EUR (no billing cap)"


def test_the_client_section_lists_the_running_contracts_with_their_figures(
    book: Book, as_user
) -> None:
    ContractFactory(number="CTR-FOREIGN")  # another client's
    cards = client_section(as_user(book.nam), book.alfa)
    assert list(cards) == [book.on_pace.pk, book.behind.pk]  # by number; not OLD, DRAFT, LATER
    assert_on_pace_figures(cards[book.on_pace.pk], book.on_pace)
    assert_behind_figures(cards[book.behind.pk])


def test_a_client_without_a_running_contract_says_so(english, as_user) -> None:
    alfa = ClientFactory()
    ContractFactory(client=alfa, status="expired", ends_on=datetime.date(2026, 9, 30))
    http = as_user(AccountTeamMemberFactory(client=alfa, role="nam").user)
    html = http.get(f"/clients/{alfa.pk}/").content.decode()
    assert client_section(http, alfa) == {}
    assert "No contract is running today." in html


def test_the_section_sits_before_the_history_and_the_panel_is_registered_once() -> None:
    slugs = [section.slug for section in CLIENT_SECTIONS]
    assert slugs.index("compliance") == slugs.index("history") - 1
    assert slugs.count("compliance") == 1
    assert (
        pages.PAGE_PANELS["orders.contract"].count(compliance_views.contract_compliance_panel) == 1
    )


# Who sees it ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "finance", "admin"])
def test_everyone_who_sees_the_contract_sees_its_figures(book: Book, as_user, role: str) -> None:
    viewer = {
        "lead": lambda: book.alfa.team.lead,
        "finance": lambda: UserFactory(roles=[Role.FINANCE]),
        "admin": lambda: UserFactory(roles=[Role.ADMIN]),
    }[role]()
    http = as_user(viewer)
    assert_behind_figures(contract_page(http, book.behind))
    assert list(client_section(http, book.alfa)) == [book.on_pace.pk, book.behind.pk]


def test_a_nam_of_another_team_gets_404_on_both_pages(book: Book, as_user) -> None:
    other = AccountTeamMemberFactory(client=ClientFactory(team=TeamFactory()), role="nam").user
    http = as_user(other)
    assert http.get(f"/orders/contracts/{book.on_pace.pk}/").status_code == 404
    assert http.get(f"/clients/{book.alfa.pk}/").status_code == 404


# What it costs -------------------------------------------------------------------------------


def queries(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert http.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def without_compliance(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Take the section and the panel off the pages, to measure what they cost."""

    def remove() -> None:
        monkeypatch.setattr(
            "clients.views.CLIENT_SECTIONS",
            [section for section in CLIENT_SECTIONS if section.slug != "compliance"],
        )
        monkeypatch.setitem(pages.PAGE_PANELS, "orders.contract", [])

    return remove


def test_the_client_section_costs_seven_queries_for_one_contract_or_several(
    book: Book, as_user, without_compliance
) -> None:
    http = as_user(book.nam)
    url = f"/clients/{book.alfa.pk}/"
    queries(http, url)  # its audit context gives the rows written next an author, as later
    Contract.objects.filter(pk=book.behind.pk).update(status="draft")  # one running contract
    one = queries(http, url)
    assert len(client_section(http, book.alfa)) == 1
    Contract.objects.filter(pk=book.behind.pk).update(status="active")
    for n in range(3):
        on_pace_contract(book.alfa, f"CTR-F-{n}")
    several = queries(http, url)
    assert len(client_section(http, book.alfa)) == 5
    assert several == one
    without_compliance()
    assert one - queries(http, url) == 7


def test_the_contract_panel_costs_seven_queries_however_big_the_book(
    book: Book, as_user, without_compliance
) -> None:
    http = as_user(book.nam)
    url = f"/orders/contracts/{book.on_pace.pk}/"

    def grow(n: int) -> None:
        for _ in range(n):
            on_pace_contract(book.alfa, f"CTR-F-{next(_number)}")
            order(book.on_pace, "10.00", datetime.date(2026, 5, 1))
            invoice(book.on_pace, "10.00")
            ContractPriceFactory(contract=book.on_pace, valid_to=datetime.date(2026, 10, 30))

    # A first request leaves its audit context on the test's one transaction: the rows written
    # after it have an author, whom the contract's history then reads (one query, either way).
    queries(http, url)
    grow(1)
    few = queries(http, url)
    grow(3)
    assert queries(http, url) == few
    # A contract that is not running answers with its message, without reading any figure.
    not_running = queries(http, f"/orders/contracts/{book.old.pk}/")
    without_compliance()
    assert few - queries(http, url) == 7
    assert queries(http, f"/orders/contracts/{book.old.pk}/") == not_running
