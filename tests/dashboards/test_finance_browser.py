"""Finance opens the dashboard, sees the charts drawn from the vendored Chart.js, clicks a bar of
the aging chart and lands on the filtered invoice list behind it. (A team lead's dashboard and
its bars: tests/dashboards/test_team.py.)"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts_crm.access import Role
from tests.browser.conftest import browser, page  # noqa: F401 (fixtures)
from tests.browser.pages import sign_in
from tests.dashboards.test_finance import issued
from tests.factories import ClientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_clicks_an_aging_bar_and_lands_on_the_filtered_list(page) -> None:  # noqa: F811
    today = timezone.localdate()
    ago = lambda n: today - datetime.timedelta(days=n)  # noqa: E731
    mine = ClientFactory(name="Padano Distribuzione")
    finance = UserFactory(roles=[Role.FINANCE])
    late = issued(mine, gross="120", issued_on=ago(40), due=ago(10))
    issued(mine, gross="80", issued_on=ago(100), due=ago(95))  # the 90+ bucket
    issued(ClientFactory(name="Other Spa"), gross="999", issued_on=ago(90), due=ago(45))  # 31-60

    sign_in(page, finance)
    page.goto("/dashboards/")
    canvas = page.locator('canvas[data-chart="aging"]')
    expect(canvas).to_have_attribute("data-drawn", "true")
    expect(page.get_by_test_id("aging")).to_contain_text("120.00")
    expect(page.get_by_test_id("aging")).to_contain_text("999.00")  # finance sees every team
    # Where Chart.js drew the first bar (0-30 days late), in the canvas' CSS pixels.
    x, y = page.evaluate(
        """() => {
            const canvas = document.querySelector('canvas[data-chart="aging"]');
            const bar = Chart.getChart(canvas).getDatasetMeta(0).data[0];
            return [bar.x, (bar.y + bar.base) / 2];
        }"""
    )
    canvas.click(position={"x": x, "y": y})
    expect(page).to_have_url(re.compile(r"/billing/\?overdue=true&due_after=.*&due_before="))
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(late.display_number)
