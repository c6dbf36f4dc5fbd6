"""A NAM opens their client's page, reads the contract compliance section, follows a contract's
spend to the orders behind it, and finds the same figures on the contract page. (The figures
themselves: tests/dashboards/test_compliance_pages.py, on the same book.)"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser, page  # noqa: F401 (fixtures)
from tests.browser.pages import sign_in
from tests.dashboards.test_compliance_pages import Book, book, fixed_today  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nam_follows_a_contracts_spend_to_its_orders(page, book: Book) -> None:  # noqa: F811
    sign_in(page, book.nam)
    page.goto(f"/clients/{book.alfa.pk}/")
    section = page.locator("#compliance")
    cards = section.get_by_test_id("compliance-contract")
    expect(cards).to_have_count(2)
    behind = cards.filter(has_text="CTR-B-BEHIND")
    expect(behind.get_by_test_id("behind-pace")).to_have_text(re.compile("Behind pace"))
    expect(behind.get_by_test_id("over-cap")).to_contain_text("2,500.00 EUR")
    expect(cards.filter(has_text="CTR-A-ON").get_by_test_id("on-pace")).to_be_visible()

    behind.get_by_test_id("compliance-spend").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/orders/\?contract={book.behind.pk}&ordered_after="))
    expect(page.get_by_test_id("order-row")).to_have_count(1)  # the order of this contract year

    page.goto(f"/orders/contracts/{book.behind.pk}/")
    panel = page.get_by_test_id("contract-compliance")
    expect(panel.get_by_test_id("compliance-notice")).to_contain_text("passed 29 days ago")
