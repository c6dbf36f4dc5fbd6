"""Order services: transitions, deliveries, prices, contracts, totals, reorders, opportunities,
policies and concurrent edits, through the services against PostgreSQL."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection

from accounts_crm.access import Role
from accounts_crm.errors import ConcurrentEditError, NotAllowedError
from clients.models import Client
from orders import services
from orders.errors import ContractNotApplicableError, OrderError, TransitionNotAllowedError
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    OpportunityFactory,
    ProductFactory,
    UserFactory,
)

JAN_1 = datetime.date(2026, 1, 1)
S = Order.Status


@pytest.fixture
def client_co(db: None) -> Client:
    return ClientFactory(name="Alfa S.p.A.")


@pytest.fixture
def nam(client_co: Client) -> User:
    return AccountTeamMemberFactory(client=client_co, role="nam").user


@pytest.fixture
def contract(client_co: Client) -> Contract:
    return ContractFactory(client=client_co, default_discount=Decimal("10.00"))


@pytest.fixture
def product(db: None) -> Product:
    return ProductFactory(list_price=Decimal("100.00"))


def new_order(by: User, client: Client, contract: Contract | None, **fields: object) -> Order:
    fields.setdefault("order_date", datetime.date(2026, 6, 1))
    return services.order_create(by=by, order=Order(client=client, contract=contract, **fields))


def add_line(by: User, order: Order, product: Product, quantity: str = "1", **kw: object):
    order.refresh_from_db()
    return services.order_line_save(
        by=by, line=OrderLine(order=order, product=product, quantity=Decimal(quantity)), **kw
    )


# Transitions ---------------------------------------------------------------------------------

PAIRS = [(a, b) for a in S.values for b in S.values if a != b]


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "to"), PAIRS)
def test_every_transition_is_allowed_or_refused_as_the_table_says(
    nam: User, client_co: Client, contract: Contract, product: Product, start: str, to: str
) -> None:
    order = new_order(nam, client_co, contract)
    add_line(nam, order, product)
    OrderLine.objects.filter(order=order).update(delivered_quantity=Decimal("1"))
    Order.objects.filter(pk=order.pk).update(status=start)

    if to in services.TRANSITIONS[start]:
        moved = services.order_transition(by=nam, order=order, to=to, note="why")
        assert moved.status == to
        change = order.status_changes.get()
        assert (change.from_status, change.to_status, change.by, change.note) == (
            start, to, nam, "why"
        )  # fmt: skip
        assert moved.version > order.version
    else:
        with pytest.raises(TransitionNotAllowedError):
            services.order_transition(by=nam, order=order, to=to)
        order.refresh_from_db()
        assert order.status == start
        assert not order.status_changes.exists()


@pytest.mark.django_db
def test_the_buttons_follow_the_table_and_never_offer_fulfilment(
    nam: User, client_co: Client, contract: Contract
) -> None:
    order = new_order(nam, client_co, contract)
    for status in S.values:
        order.status = status
        allowed = services.allowed_transitions(user=nam, order=order)
        assert set(allowed) == services.TRANSITIONS[status] - {S.FULFILLED}
    outsider = AccountTeamMemberFactory(role="project_manager", client=client_co).user
    assert services.allowed_transitions(user=outsider, order=order) == []


@pytest.mark.django_db
def test_an_order_without_lines_cannot_be_submitted(
    nam: User, client_co: Client, contract: Contract
) -> None:
    order = new_order(nam, client_co, contract)
    with pytest.raises(OrderError, match="at least one line"):
        services.order_transition(by=nam, order=order, to=S.SUBMITTED)
    order.refresh_from_db()
    assert order.status == S.DRAFT


@pytest.mark.django_db
def test_an_order_is_fulfilled_only_when_everything_is_delivered(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    order = new_order(nam, client_co, contract)
    add_line(nam, order, product, "2")
    Order.objects.filter(pk=order.pk).update(status=S.IN_PROGRESS)
    with pytest.raises(OrderError, match="every line is delivered"):
        services.order_transition(by=nam, order=order, to=S.FULFILLED)


@pytest.mark.django_db
def test_the_last_delivery_fulfils_the_order_by_itself(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    order = new_order(nam, client_co, contract)
    first = add_line(nam, order, product, "2")
    second = add_line(nam, order, ProductFactory(), "5")
    for to in (S.SUBMITTED, S.CONFIRMED):
        services.order_transition(by=nam, order=order, to=to)

    services.order_record_delivery(by=nam, line=first, delivered_quantity=Decimal("1"))
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS
    services.order_record_delivery(by=nam, line=first, delivered_quantity=Decimal("2"))
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS
    services.order_record_delivery(by=nam, line=second, delivered_quantity=Decimal("5"))

    order.refresh_from_db()
    assert order.status == S.FULFILLED
    assert [c.to_status for c in order.status_changes.all()] == [
        S.SUBMITTED, S.CONFIRMED, S.IN_PROGRESS, S.FULFILLED
    ]  # fmt: skip


@pytest.mark.django_db
def test_deliveries_are_refused_before_confirmation_and_beyond_the_quantity(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    order = new_order(nam, client_co, contract)
    line = add_line(nam, order, product, "2")
    with pytest.raises(OrderError, match="confirmed orders only"):
        services.order_record_delivery(by=nam, line=line, delivered_quantity=Decimal("1"))
    Order.objects.filter(pk=order.pk).update(status=S.CONFIRMED)
    with pytest.raises(ValidationError):
        services.order_record_delivery(by=nam, line=line, delivered_quantity=Decimal("3"))


# Prices --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_line_takes_the_contract_price_valid_on_the_order_date(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("80.00"),
                         valid_from=JAN_1, valid_to=datetime.date(2026, 6, 30))  # fmt: skip
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("85.00"),
                         valid_from=datetime.date(2026, 7, 1))  # fmt: skip

    june = add_line(nam, new_order(nam, client_co, contract), product)
    july = add_line(
        nam, new_order(nam, client_co, contract, order_date=datetime.date(2026, 7, 1)), product
    )

    assert (june.unit_price, june.discount, june.contract_price) == (
        Decimal("80.00"), Decimal("0"), Decimal("80.00")
    )  # fmt: skip
    assert (july.unit_price, july.contract_price) == (Decimal("85.00"), Decimal("85.00"))


@pytest.mark.django_db
def test_overlapping_price_periods_are_refused(
    nam: User, contract: Contract, product: Product
) -> None:
    ContractPriceFactory(contract=contract, product=product, valid_from=JAN_1,
                         valid_to=datetime.date(2026, 6, 30))  # fmt: skip
    overlapping = ContractPrice(contract=contract, product=product, unit_price=Decimal("70"),
                                valid_from=datetime.date(2026, 6, 30))  # fmt: skip

    with pytest.raises(ValidationError, match="already has an agreed price"):
        services.contract_price_save(by=nam, price=overlapping)
    assert contract.prices.count() == 1


@pytest.mark.django_db
def test_a_reversed_price_period_is_refused_in_words_not_a_database_error(
    nam: User, contract: Contract, product: Product
) -> None:
    reversed_period = ContractPrice(contract=contract, product=product, unit_price=Decimal("70"),
                                    valid_from=datetime.date(2026, 6, 30),
                                    valid_to=datetime.date(2026, 6, 1))  # fmt: skip

    with pytest.raises(ValidationError, match="cannot stop being valid before it starts"):
        services.contract_price_save(by=nam, price=reversed_period)
    assert not contract.prices.exists()


@pytest.mark.django_db
def test_after_the_price_period_ends_the_list_price_less_the_default_discount_applies(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    ContractPriceFactory(contract=contract, product=product, valid_from=JAN_1,
                         valid_to=datetime.date(2026, 3, 31))  # fmt: skip

    line = add_line(nam, new_order(nam, client_co, contract), product, "3")

    assert (line.unit_price, line.discount, line.contract_price) == (
        Decimal("100.00"), Decimal("10.00"), None
    )  # fmt: skip
    assert line.net_amount == Decimal("270.00")


@pytest.mark.django_db
def test_without_a_contract_the_list_price_applies(
    nam: User, client_co: Client, product: Product
) -> None:
    line = add_line(nam, new_order(nam, client_co, None), product)
    assert (line.unit_price, line.discount, line.contract_price) == (
        Decimal("100.00"), Decimal("0"), None
    )  # fmt: skip
    assert (line.vat_rate, line.description) == (product.vat_rate, product.name)


@pytest.mark.django_db
def test_a_manual_price_other_than_the_contract_price_needs_a_reason(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("80.00"))
    order = new_order(nam, client_co, contract)

    def manual(price: str, reason: str = "") -> OrderLine:
        order.refresh_from_db()
        line = OrderLine(order=order, product=product, quantity=Decimal(1),
                         unit_price=Decimal(price), price_reason=reason)  # fmt: skip
        return services.order_line_save(by=nam, line=line, manual_price=True)

    with pytest.raises(ValidationError, match="needs a reason"):
        manual("75.00")
    assert not order.lines.exists()
    kept = manual("75.00", "Volume promised for Q3")
    assert (kept.unit_price, kept.contract_price, kept.price_reason) == (
        Decimal("75.00"), Decimal("80.00"), "Volume promised for Q3"
    )  # fmt: skip
    assert manual("80.00").price_reason == ""


# Contracts -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "expired"}, "is expired"),
        ({"status": "terminated"}, "is terminated"),
        ({"status": "draft"}, "is draft"),
        ({"ends_on": datetime.date(2026, 5, 31)}, "valid from"),
        ({"client": None}, "belongs to"),
    ],
)
def test_an_order_on_a_contract_not_in_force_for_the_client_is_refused(
    nam: User, client_co: Client, fields: dict, message: str
) -> None:
    fields = {**fields, "client": fields.get("client", client_co) or ClientFactory()}
    contract = ContractFactory(**fields)
    with pytest.raises(ContractNotApplicableError, match=message):
        new_order(nam, client_co, contract)
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("applies", [True, False])
def test_a_subsidiary_orders_on_its_parents_contract_only_if_the_contract_says_so(
    client_co: Client, applies: bool
) -> None:
    grandchild = ClientFactory(parent=ClientFactory(parent=client_co))
    nam = AccountTeamMemberFactory(client=grandchild).user
    contract = ContractFactory(client=client_co, applies_to_subsidiaries=applies)

    if applies:
        assert new_order(nam, grandchild, contract).contract == contract
        assert services.applicable_contract(client=grandchild, on=JAN_1) == contract
    else:
        with pytest.raises(ContractNotApplicableError, match="belongs to"):
            new_order(nam, grandchild, contract)
        assert services.applicable_contract(client=grandchild, on=JAN_1) is None


@pytest.mark.django_db
def test_a_contract_saved_on_an_old_version_is_refused(nam: User, contract: Contract) -> None:
    first, second = Contract.objects.get(pk=contract.pk), Contract.objects.get(pk=contract.pk)
    first.terms = "Net 60"
    services.contract_save(by=nam, contract=first, version=first.version)
    second.terms = "Net 30"
    with pytest.raises(ConcurrentEditError):
        services.contract_save(by=nam, contract=second, version=second.version)
    contract.refresh_from_db()
    assert (contract.terms, contract.version) == ("Net 60", 2)


# Totals, reorders, opportunities -------------------------------------------------------------


@pytest.mark.django_db
def test_totals_are_exact_and_round_each_line_half_up(
    nam: User, client_co: Client, contract: Contract
) -> None:
    lines = [
        OrderLine(quantity=Decimal("1"), unit_price=Decimal("0.25"), discount=Decimal("50"),
                  vat_rate=Decimal("22")),  # net 0.125 -> 0.13, VAT 0.0286 -> 0.03
        OrderLine(quantity=Decimal("3"), unit_price=Decimal("10.05"), discount=Decimal("0"),
                  vat_rate=Decimal("10")),  # net 30.15, VAT 3.015 -> 3.02
        OrderLine(quantity=Decimal("0.5"), unit_price=Decimal("0.01"), discount=Decimal("0"),
                  vat_rate=Decimal("4")),  # net 0.005 -> 0.01, VAT 0.0004 -> 0.00
    ]  # fmt: skip
    totals = services.order_totals(lines)
    assert (totals.net, totals.vat, totals.gross) == (
        Decimal("30.29"), Decimal("3.05"), Decimal("33.34")
    )  # fmt: skip
    assert all(isinstance(value, Decimal) for value in (totals.net, totals.vat, totals.gross))


@pytest.mark.django_db
def test_a_reorder_copies_the_lines_at_todays_prices(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("80.00"),
                         valid_from=JAN_1, valid_to=datetime.date(2026, 6, 30))  # fmt: skip
    ContractPriceFactory(contract=contract, product=product, unit_price=Decimal("85.00"),
                         valid_from=datetime.date(2026, 7, 1))  # fmt: skip
    listed = ProductFactory(list_price=Decimal("50.00"))
    original = new_order(nam, client_co, contract)
    add_line(nam, original, product, "4")
    add_line(nam, original, listed, "2")
    services.order_transition(by=nam, order=original, to=S.SUBMITTED)

    copy = services.order_reorder(by=nam, order=original, on=datetime.date(2026, 9, 1))

    assert (copy.kind, copy.status, copy.reorder_of, copy.contract) == (
        "reorder", "draft", original, contract
    )  # fmt: skip
    assert copy.number != original.number
    assert [(line.product, line.quantity, line.unit_price, line.discount)
            for line in copy.lines.all()] == [
        (product, Decimal("4"), Decimal("85.00"), Decimal("0")),
        (listed, Decimal("2"), Decimal("50.00"), Decimal("10.00")),
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_reorder_after_the_contract_ended_takes_the_contract_in_force(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    original = new_order(nam, client_co, contract)
    add_line(nam, original, product)
    renewal = ContractFactory(client=client_co, starts_on=datetime.date(2028, 1, 1),
                              ends_on=datetime.date(2029, 12, 31))  # fmt: skip

    copy = services.order_reorder(by=nam, order=original, on=datetime.date(2028, 3, 1))

    assert copy.contract == renewal


@pytest.mark.django_db
def test_winning_an_opportunity_makes_one_draft_order_with_its_products(
    nam: User, client_co: Client, contract: Contract, product: Product
) -> None:
    opportunity = OpportunityFactory(client=client_co, owner=nam)
    opportunity.products.set([product, ProductFactory()])

    order = services.opportunity_win(by=nam, opportunity=opportunity)
    again = services.opportunity_win(by=nam, opportunity=opportunity)

    opportunity.refresh_from_db()
    assert again == order
    assert (order.status, order.kind, order.client) == ("draft", "upsell", client_co)
    assert order.lines.count() == 2
    assert (opportunity.stage, opportunity.probability, opportunity.order) == ("won", 100, order)


def test_saving_an_opportunity_as_won_is_refused_outside_the_win_action(
    nam: User, client_co: Client
) -> None:
    opportunity = OpportunityFactory(client=client_co, owner=nam, stage="negotiation")
    opportunity.stage = Opportunity.Stage.WON

    with pytest.raises(ValidationError) as refused:
        services.opportunity_save(by=nam, opportunity=opportunity)
    with pytest.raises(ValidationError):
        services.opportunity_save(
            by=nam, opportunity=Opportunity(client=client_co, title="New", stage="won")
        )

    assert "win action" in refused.value.message_dict["stage"][0]
    assert Opportunity.objects.get(pk=opportunity.pk).stage == "negotiation"
    assert not Opportunity.objects.filter(title="New").exists()


# Policies ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["finance", "project_manager", "customer_service", "outsider"])
def test_only_order_takers_take_orders(
    client_co: Client, contract: Contract, product: Product, nam: User, who: str
) -> None:
    if who == "finance":
        person = UserFactory(roles=[Role.FINANCE])
    elif who == "outsider":
        person = AccountTeamMemberFactory().user
    else:
        person = AccountTeamMemberFactory(client=client_co, role=who).user
    draft = new_order(nam, client_co, contract)

    with pytest.raises(NotAllowedError):
        new_order(person, client_co, contract)
    with pytest.raises(NotAllowedError):
        add_line(person, draft, product)
    with pytest.raises(NotAllowedError):
        services.order_transition(by=person, order=draft, to=S.CANCELLED)
    opportunity = Opportunity(client=client_co, title="More")
    with pytest.raises(NotAllowedError):
        services.opportunity_save(by=person, opportunity=opportunity)
    assert Order.objects.count() == 1
    assert not Opportunity.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["nam", "sales"])
def test_the_nam_and_sales_take_orders(
    client_co: Client, contract: Contract, product: Product, role: str
) -> None:
    person = AccountTeamMemberFactory(client=client_co, role=role).user
    order = new_order(person, client_co, contract)
    add_line(person, order, product)
    assert services.order_transition(by=person, order=order, to=S.SUBMITTED).status == S.SUBMITTED


# Concurrent edits ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_one_version_of_an_order_get_one_success_and_one_refusal() -> None:
    client_co = ClientFactory()
    nam = AccountTeamMemberFactory(client=client_co, role="nam").user
    sales = AccountTeamMemberFactory(client=client_co, role="sales").user
    order = services.order_create(by=nam, order=Order(client=client_co, order_date=JAN_1))
    products = [ProductFactory(), ProductFactory()]
    version = Order.objects.get(pk=order.pk).version  # both opened the order at this version
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(person: User, product: Product) -> None:
        try:
            start.wait()
            line = OrderLine(order=Order.objects.get(pk=order.pk), product=product,
                             quantity=Decimal(1))  # fmt: skip
            services.order_line_save(by=person, line=line, version=version)
            outcomes[person.username] = "saved"
        except ConcurrentEditError as error:
            outcomes[person.username] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(person, product))
        for person, product in zip((nam, sales), products, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ for o in outcomes.values()) == ["ConcurrentEditError", "str"]
    winner = next(name for name, o in outcomes.items() if o == "saved")
    saved_product = products[0] if winner == nam.username else products[1]
    order.refresh_from_db()
    assert list(order.lines.values_list("product", flat=True)) == [saved_product.pk]
    assert order.version == version + 1
