"""A NAM sees a check finding on the client page and comments on it; finance opens the review
queue, goes to the finding in one click, overrides it with a reason, issues the invoice and sees
its number."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts_crm.access import Role
from billing import services
from billing.models import Invoice
from tests.browser.pages import sign_in
from tests.factories import (
    AccountTeamMemberFactory,
    CheckFindingFactory,
    ClientFactory,
    ContractFactory,
    OrderFactory,
    OrderLineFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The invoice checks the pages enqueue go nowhere: the broker is outside the product."""
    from billing import tasks

    monkeypatch.setattr(tasks.invoice_check, "delay", lambda ids: None)


def test_finance_overrides_a_finding_from_the_review_queue_and_issues(
    page, browser, live_server
) -> None:
    finance = UserFactory(roles=[Role.FINANCE], first_name="Franca", last_name="Conti")
    padano = ClientFactory(name="Padano Distribuzione")
    nam = AccountTeamMemberFactory(client=padano, role="nam").user
    order = OrderFactory(client=padano, contract=ContractFactory(client=padano),
                         status="confirmed")  # fmt: skip
    OrderLineFactory(order=order, quantity=Decimal("10"), unit_price=Decimal("80.00"))
    invoice = services.invoice_from_order(by=finance, order=order)
    CheckFindingFactory(
        invoice=invoice, rule="retired_rule", severity="error",
        message="Unit price 100.00 is above the contract price 80.00.",
        amount_at_stake=Decimal("200.00"),
    )  # fmt: skip

    # The NAM sees the finding on the client page and answers it.
    nam_context = browser.new_context(locale="en-US", base_url=live_server.url)
    nam_page = nam_context.new_page()
    nam_page.set_default_timeout(15_000)
    sign_in(nam_page, nam)
    nam_page.goto(f"/clients/{padano.pk}/#findings")
    findings = nam_page.get_by_test_id("client-findings")
    expect(findings).to_contain_text("Unit price 100.00 is above the contract price 80.00.")
    findings.get_by_role("textbox", name="Comment").fill("The client accepted 100.00 in writing")
    findings.get_by_role("button", name="Comment").click()
    expect(nam_page.get_by_test_id("client-findings")).to_contain_text(
        "The client accepted 100.00 in writing"
    )
    nam_context.close()

    # Finance: the review queue, one click to the finding, override with a reason.
    sign_in(page, finance)
    page.goto("/billing/review/")
    expect(page.get_by_test_id("finding-row")).to_have_count(1)
    page.get_by_test_id("open-finding").click()
    expect(page).to_have_url(re.compile(rf"/billing/invoices/{invoice.pk}/#finding-\d+$"))
    expect(page.get_by_test_id("issue-blocked")).to_be_visible()
    finding = page.get_by_test_id("finding")
    expect(finding).to_contain_text("The client accepted 100.00 in writing")
    finding.get_by_label("Reason for the override").fill("Price agreed in writing by the client")
    finding.get_by_role("button", name="Override").click()
    expect(page.get_by_test_id("finding-override")).to_contain_text(
        "Price agreed in writing by the client"
    )
    expect(page.get_by_test_id("finding-override")).to_contain_text("Franca Conti")
    expect(page.get_by_test_id("issue-blocked")).to_have_count(0)

    # Issue: the number appears.
    page.get_by_test_id("issue-form").get_by_role("button", name="Issue").click()
    number = Invoice.objects.get(pk=invoice.pk).display_number
    assert number.startswith("FV-")
    expect(page.get_by_test_id("invoice-number")).to_have_text(f"Invoice {number}")
    expect(page.get_by_test_id("messages")).to_contain_text(f"Invoice issued with number {number}")
