"""Reorders due and whitespace on hand-built histories whose right answer is known."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from clients.models import Client
from orders.models import Opportunity, Order, Product
from orders.suggestions import (
    REORDER_LEAD_DAYS,
    reorders_due,
    suggestion_to_opportunity,
    whitespace,
)
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

D0 = datetime.date(2025, 1, 6)


def day(n: int) -> datetime.date:
    return D0 + datetime.timedelta(days=n)


def buy(
    client: Client, product: Product, on: datetime.date, *, status: str = "fulfilled",
    quantity: str = "1", price: str = "100.00",
) -> Order:  # fmt: skip
    order = OrderFactory(client=client, order_date=on, status=status)
    OrderLineFactory(order=order, product=product, quantity=Decimal(quantity),
                     unit_price=Decimal(price))  # fmt: skip
    return order


@pytest.fixture
def client_a() -> Client:
    return ClientFactory(name="Alfa", industry="Food")


@pytest.fixture
def toner() -> Product:
    return ProductFactory(name="Toner", family="Consumables")


# Reorders due --------------------------------------------------------------------------------


def test_it_expects_a_monthly_buyer_thirty_days_after_the_last_order(
    admin_user: User, client_a: Client, toner: Product
) -> None:
    for n in (0, 30, 60, 90):
        buy(client_a, toner, day(n))

    [due] = reorders_due(user=admin_user, on=day(125))

    assert (due.client, due.product) == (client_a, toner)
    assert due.interval_days == 30
    assert due.last_order_on == day(90)
    assert due.due_on == day(120)
    assert due.days_overdue == 5
    assert due.last_order_dates == [day(90), day(60), day(30)]
    assert due.purchases == 4


def test_it_lists_a_reorder_from_the_lead_days_before_it_is_due(
    admin_user: User, client_a: Client, toner: Product
) -> None:
    for n in (0, 30, 60):
        buy(client_a, toner, day(n))

    assert reorders_due(user=admin_user, on=day(90 - REORDER_LEAD_DAYS - 1)) == []
    [due] = reorders_due(user=admin_user, on=day(90 - REORDER_LEAD_DAYS))
    assert due.days_overdue == -REORDER_LEAD_DAYS


def test_it_takes_the_median_gap_of_an_irregular_rhythm(
    admin_user: User, client_a: Client, toner: Product
) -> None:
    # Gaps 10, 40, 20, 90, 25: the median is 25 (the mean, 37, would be pulled by the 90).
    for n in (0, 10, 50, 70, 160, 185):
        buy(client_a, toner, day(n))

    [due] = reorders_due(user=admin_user, on=day(400))

    assert due.interval_days == 25
    assert due.due_on == day(210)


def test_it_rounds_an_even_median_half_up(
    admin_user: User, client_a: Client, toner: Product
) -> None:
    for n in (0, 20, 41):  # gaps 20 and 21: median 20.5 -> 21
        buy(client_a, toner, day(n))

    [due] = reorders_due(user=admin_user, on=day(200))

    assert due.interval_days == 21


def test_it_needs_three_purchase_days(admin_user: User, client_a: Client, toner: Product) -> None:
    buy(client_a, toner, day(0))
    buy(client_a, toner, day(30))
    buy(client_a, toner, day(30))  # a second order the same day is the same purchase

    assert reorders_due(user=admin_user, on=day(300)) == []


def test_it_ignores_drafts_cancelled_and_future_orders(
    admin_user: User, client_a: Client, toner: Product
) -> None:
    buy(client_a, toner, day(0))
    buy(client_a, toner, day(30))
    buy(client_a, toner, day(45), status="cancelled")
    buy(client_a, toner, day(500))  # after the day we look from

    assert reorders_due(user=admin_user, on=day(100)) == []


def test_it_expects_nothing_from_an_inactive_client(admin_user: User, toner: Product) -> None:
    gone = ClientFactory(status="inactive")
    for n in (0, 30, 60):
        buy(gone, toner, day(n))

    assert reorders_due(user=admin_user, on=day(100)) == []


@pytest.mark.parametrize("status", ["draft", "submitted"])
def test_it_skips_a_product_already_being_reordered(
    admin_user: User, client_a: Client, toner: Product, status: str
) -> None:
    for n in (0, 30, 60):
        buy(client_a, toner, day(n))
    other = ProductFactory(family="Consumables")
    for n in (0, 30, 60):
        buy(client_a, other, day(n))
    buy(client_a, toner, day(95), status=status)

    assert [due.product for due in reorders_due(user=admin_user, on=day(100))] == [other]


def test_it_keeps_each_client_and_product_to_its_own_rhythm(
    admin_user: User, client_a: Client, toner: Product
) -> None:
    client_b = ClientFactory(name="Beta")
    paper = ProductFactory(name="Paper", family="Consumables")
    for n in (0, 30, 60):
        buy(client_a, toner, day(n))
    for n in (0, 7, 14, 21):
        buy(client_a, paper, day(n))
    for n in (0, 60, 120):
        buy(client_b, toner, day(n))

    rows = reorders_due(user=admin_user, on=day(200))

    found = {(r.client.name, r.product.name): (r.interval_days, r.due_on) for r in rows}
    assert found == {
        ("Alfa", "Toner"): (30, day(90)),
        ("Alfa", "Paper"): (7, day(28)),
        ("Beta", "Toner"): (60, day(180)),
    }
    assert [r.due_on for r in rows] == sorted(r.due_on for r in rows)  # most overdue first
    only_b = reorders_due(user=admin_user, client=client_b, on=day(200))
    assert [(r.client, r.product) for r in only_b] == [(client_b, toner)]
    by_ids = reorders_due(user=admin_user, clients=[client_b.pk], on=day(200))
    assert [(r.client, r.product) for r in by_ids] == [(client_b, toner)]
    assert reorders_due(user=admin_user, clients=[], on=day(200)) == []


def test_it_never_shows_a_client_the_person_does_not_see(toner: Product) -> None:
    seen, unseen = ClientFactory(), ClientFactory()
    nam = AccountTeamMemberFactory(client=seen).user
    for client in (seen, unseen):
        for n in (0, 30, 60):
            buy(client, toner, day(n))

    assert [r.client for r in reorders_due(user=nam, on=day(100))] == [seen]
    assert reorders_due(user=nam, client=unseen, on=day(100)) == []
    assert reorders_due(user=nam, clients=[unseen.pk], on=day(100)) == []
    assert reorders_due(user=AccountTeamMemberFactory().user, on=day(100)) == []


def test_it_reads_reorders_due_in_three_queries(
    admin_user: User, django_assert_num_queries, client_a: Client
) -> None:
    for i in range(5):
        product, buyer = ProductFactory(), ClientFactory() if i % 2 else client_a
        for n in (0, 30, 60):
            buy(buyer, product, day(n + i))
    reorders_due(user=admin_user, on=day(1))  # reads the user's roles once
    with django_assert_num_queries(3):
        rows = reorders_due(user=admin_user, on=day(200))
    assert len(rows) == 5


# Whitespace ----------------------------------------------------------------------------------


@pytest.fixture
def group() -> tuple[Client, Client]:
    head = ClientFactory(name="Head", industry="Food")
    subsidiary = ClientFactory(name="Sub", industry="Food", parent=head)
    return head, subsidiary


def test_it_suggests_what_peers_in_the_same_industry_buy(
    admin_user: User, group: tuple[Client, Client]
) -> None:
    head, subsidiary = group
    a = ProductFactory(family="A")
    b = ProductFactory(family="B")
    c = ProductFactory(family="C")
    d = ProductFactory(family="D")
    buy(subsidiary, a, day(300), quantity="2", price="150.00")
    for peer in (ClientFactory(industry="Food"), ClientFactory(industry="Food")):
        buy(peer, a, day(200))
        buy(peer, b, day(210))
    third_peer = ClientFactory(industry="Food")
    buy(third_peer, c, day(250))
    buy(ClientFactory(industry="Textiles"), d, day(250))  # another industry: ignored

    matrix = whitespace(user=admin_user, client=head, on=day(400))

    assert matrix.companies == [head, subsidiary]
    assert matrix.families == ["A", "B", "C", "D"]
    assert matrix.rows == [
        (head, [None, None, None, None]),
        (subsidiary, [Decimal("300.00"), None, None, None]),
    ]
    assert [(s.family, s.peer_count, s.comparable_count) for s in matrix.suggestions] == [
        ("B", 2, 3),
        ("C", 1, 3),
    ]


def test_it_reads_the_same_group_from_any_company_in_it(
    admin_user: User, group: tuple[Client, Client]
) -> None:
    head, subsidiary = group
    grandchild = ClientFactory(parent=subsidiary, industry="Logistics")
    ClientFactory(industry="Food")  # not in the group

    assert whitespace(user=admin_user, client=grandchild, on=day(1)).companies == [
        head,
        subsidiary,
        grandchild,
    ]


def test_it_counts_only_recent_orders_that_went_ahead(
    admin_user: User, group: tuple[Client, Client]
) -> None:
    head, _ = group
    a, b = ProductFactory(family="A"), ProductFactory(family="B")
    buy(head, a, day(0))  # more than 24 months before
    buy(head, b, day(800), status="cancelled")
    peer = ClientFactory(industry="Food")
    buy(peer, a, day(790))
    buy(peer, b, day(790), status="draft")

    matrix = whitespace(user=admin_user, client=head, on=day(800))

    assert matrix.amounts == {}
    assert [s.family for s in matrix.suggestions] == ["A"]


def test_it_shows_only_the_companies_of_the_group_the_person_sees(
    group: tuple[Client, Client],
) -> None:
    head, subsidiary = group
    nam = AccountTeamMemberFactory(client=subsidiary).user

    assert whitespace(user=nam, client=subsidiary, on=day(1)).companies == [subsidiary]
    outsider = AccountTeamMemberFactory().user
    assert whitespace(user=outsider, client=head, on=day(1)).companies == []


def test_it_reads_whitespace_in_five_queries(
    admin_user: User, group: tuple[Client, Client], django_assert_num_queries
) -> None:
    head, subsidiary = group
    for family in "ABCDEF":
        product = ProductFactory(family=family)
        buy(ClientFactory(industry="Food"), product, day(10))
        buy(subsidiary if family < "C" else ClientFactory(industry="Food"), product, day(10))
    whitespace(user=admin_user, client=head, on=day(20))
    with django_assert_num_queries(5):  # companies, families, amounts, peers, their families
        matrix = whitespace(user=admin_user, client=head, on=day(20))
    assert len(matrix.suggestions) == 4


# One click -----------------------------------------------------------------------------------


def test_a_whitespace_suggestion_becomes_one_opportunity(group: tuple[Client, Client]) -> None:
    head, _ = group
    nam = AccountTeamMemberFactory(client=head).user
    best = ProductFactory(family="B", sku="B-1")
    buy(ClientFactory(industry="Food"), best, day(1))
    ProductFactory(family="B", sku="B-2", is_active=False)

    opportunity = suggestion_to_opportunity(
        by=nam, client=head, family="B", source=Opportunity.Source.WHITESPACE
    )
    again = suggestion_to_opportunity(
        by=nam, client=head, family="B", source=Opportunity.Source.WHITESPACE
    )

    assert again == opportunity
    assert opportunity.source == "whitespace"
    assert opportunity.owner == nam
    assert opportunity.stage == "qualification"
    assert list(opportunity.products.all()) == [best]
    assert "B" in opportunity.title


def test_a_reorder_due_becomes_an_opportunity_at_the_contract_price(
    group: tuple[Client, Client], toner: Product
) -> None:
    head, _ = group
    nam = AccountTeamMemberFactory(client=head).user
    contract = ContractFactory(client=head, starts_on=datetime.date(2000, 1, 1),
                               ends_on=datetime.date(2100, 1, 1))  # fmt: skip
    ContractPriceFactory(contract=contract, product=toner, unit_price=Decimal("77.70"),
                         valid_from=datetime.date(2000, 1, 1))  # fmt: skip

    opportunity = suggestion_to_opportunity(
        by=nam, client=head, product=toner, source=Opportunity.Source.REORDER_DUE
    )

    assert opportunity.source == "reorder_due"
    assert opportunity.value == Decimal("77.70")
    assert list(opportunity.products.all()) == [toner]


def test_a_suggestion_is_refused_to_someone_who_does_not_take_orders(
    group: tuple[Client, Client], toner: Product
) -> None:
    from accounts_crm.errors import NotAllowedError

    head, _ = group
    pm = AccountTeamMemberFactory(client=head, role="project_manager").user

    with pytest.raises(NotAllowedError):
        suggestion_to_opportunity(
            by=pm, client=head, product=toner, source=Opportunity.Source.REORDER_DUE
        )
    assert not Opportunity.objects.exists()


def test_a_suggestion_stays_one_opportunity_whatever_the_language_or_title(
    group: tuple[Client, Client], toner: Product
) -> None:
    from django.utils import translation

    head, _ = group
    nam = AccountTeamMemberFactory(client=head).user
    with translation.override("it"):
        first = suggestion_to_opportunity(
            by=nam, client=head, product=toner, source=Opportunity.Source.REORDER_DUE
        )
    Opportunity.objects.filter(pk=first.pk).update(title="Renamed by the NAM")
    with translation.override("en"):
        again = suggestion_to_opportunity(
            by=nam, client=head, product=toner, source=Opportunity.Source.REORDER_DUE
        )

    assert again == first
    assert Opportunity.objects.count() == 1


def test_an_open_suggestion_is_not_handed_to_someone_who_does_not_take_orders(
    group: tuple[Client, Client], toner: Product
) -> None:
    from accounts_crm.errors import NotAllowedError

    head, _ = group
    nam = AccountTeamMemberFactory(client=head).user
    pm = AccountTeamMemberFactory(client=head, role="project_manager").user
    suggestion_to_opportunity(
        by=nam, client=head, product=toner, source=Opportunity.Source.REORDER_DUE
    )

    with pytest.raises(NotAllowedError):
        suggestion_to_opportunity(
            by=pm, client=head, product=toner, source=Opportunity.Source.REORDER_DUE
        )
