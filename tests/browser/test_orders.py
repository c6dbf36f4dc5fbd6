"""A NAM takes an order from the client page by typing SKUs, submits it and reorders from it;
a suggestion on the client page becomes an opportunity in one click."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts_crm.access import Role
from orders.models import Opportunity, Order
from tests.browser.pages import sign_in
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_nam_take_an_order_by_sku_submit_it_and_reorder(page) -> None:
    nam = UserFactory(roles=[Role.ACCOUNT_STAFF], first_name="Ada", last_name="Neri")
    padano = ClientFactory(name="Padano Distribuzione")
    AccountTeamMemberFactory(client=padano, user=nam, role="nam")
    today = timezone.localdate()
    contract = ContractFactory(
        client=padano, number="CTR-PADANO", starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=300), default_discount=Decimal("10.00"),
    )  # fmt: skip
    toner = ProductFactory(sku="TON-100", name="Toner", list_price=Decimal("100.00"))
    ProductFactory(sku="PAP-A4", name="Paper A4", list_price=Decimal("5.00"))
    ContractPriceFactory(contract=contract, product=toner, unit_price=Decimal("80.00"),
                         valid_from=contract.starts_on)  # fmt: skip

    sign_in(page, nam)
    page.goto(f"/clients/{padano.pk}/")
    page.get_by_test_id("client-orders").locator("..").get_by_role("link", name="New order").click()
    # The contract in force is already chosen.
    expect(page.get_by_label("Contract")).to_have_value(str(contract.pk))
    page.get_by_role("button", name="Save").click()

    # Fast entry: type a SKU, a quantity, Enter; the lines update in place (htmx).
    lines = page.get_by_test_id("order-lines")
    form = page.get_by_test_id("line-form")
    form.get_by_label("SKU or name").fill("TON-100")
    form.get_by_label("Quantity").fill("3")
    form.get_by_role("button", name="Add line").click()
    expect(lines.get_by_test_id("order-line")).to_have_count(1)
    expect(page.get_by_test_id("messages")).to_contain_text("added")
    form = page.get_by_test_id("line-form")
    expect(form.get_by_label("SKU or name")).to_have_value("")
    form.get_by_label("SKU or name").fill("pap-a4")
    form.get_by_label("Quantity").fill("10")
    form.get_by_label("Quantity").press("Enter")
    expect(lines.get_by_test_id("order-line")).to_have_count(2)
    # 3 x 80.00 (contract) + 10 x 5.00 less 10% (list price, contract discount) = 285.00 net.
    expect(page.get_by_test_id("total-net")).to_have_text("285.00 EUR")
    expect(page.get_by_test_id("total-gross")).to_have_text("347.70 EUR")

    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Submitted")
    expect(page.get_by_test_id("status-history")).to_contain_text("Draft → Submitted")
    original = Order.objects.get(client=padano)

    page.get_by_role("button", name="Reorder").click()
    expect(page.get_by_test_id("messages")).to_contain_text(f"created from {original.number}")
    expect(page.get_by_test_id("order-status")).to_have_text("Draft")
    expect(page.get_by_test_id("order-lines").get_by_test_id("order-line")).to_have_count(2)
    expect(page.get_by_test_id("total-net")).to_have_text("285.00 EUR")
    expect(page).to_have_url(re.compile(r"/orders/\d+/#lines$"))
    assert Order.objects.get(reorder_of=original).kind == "reorder"


def test_a_whitespace_suggestion_becomes_an_opportunity_in_one_click(page) -> None:
    nam = UserFactory(roles=[Role.ACCOUNT_STAFF], first_name="Ada", last_name="Neri")
    padano = ClientFactory(name="Padano Distribuzione", industry="Retail")
    AccountTeamMemberFactory(client=padano, user=nam, role="nam")
    # A comparable client (same industry) buys a family Padano does not: a whitespace suggestion.
    peer = ClientFactory(name="Rival Retail", industry="Retail")
    OrderLineFactory(
        order=OrderFactory(client=peer, status="fulfilled",
                           order_date=timezone.localdate() - datetime.timedelta(days=20)),
        product=ProductFactory(sku="SRV-PRINT", name="Managed print", family="Services"),
    )  # fmt: skip

    sign_in(page, nam)
    page.goto(f"/clients/{padano.pk}/")
    suggestion = page.get_by_test_id("whitespace-suggestion").filter(has_text="Services")
    expect(suggestion).to_contain_text("bought by 1 of 1 comparable clients")
    suggestion.get_by_role("button", name="Create opportunity").click()

    # The button turns into a link to the opportunity, in place (htmx).
    link = suggestion.get_by_test_id("suggestion-opportunity")
    expect(link).to_contain_text("Whitespace: Services")
    expect(suggestion.get_by_role("button", name="Create opportunity")).to_have_count(0)
    opportunity = Opportunity.objects.get(client=padano)
    assert opportunity.source == "whitespace"

    # The opportunity is on the client page once reloaded, and the link leads to it.
    page.reload()
    expect(page.get_by_test_id("client-opportunities")).to_contain_text("Whitespace: Services")
    page.get_by_test_id("whitespace-suggestion").get_by_test_id("suggestion-opportunity").click()
    expect(page).to_have_url(re.compile(rf"/orders/opportunities/{opportunity.pk}/edit/$"))
    expect(page.get_by_label("Title")).to_have_value("Whitespace: Services")
    assert Opportunity.objects.count() == 1
