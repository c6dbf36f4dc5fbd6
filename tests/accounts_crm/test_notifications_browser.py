"""In a browser: the bell shows the unread count, its dropdown loads the latest, opening one goes
to its page and the count drops; marking read on the list updates the bell without a reload."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts_crm.access import Role
from accounts_crm.notifications import notify
from tests.factories import PASSWORD, ClientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, live_server) -> Iterator[object]:
    """Same browser as tests/browser/conftest.py (Debian's chromium, never a downloaded one)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(locale="en-US", base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_a_nam_opens_a_notification_from_the_bell(page) -> None:
    nam = UserFactory(roles=[Role.ACCOUNT_STAFF], email="")
    account = ClientFactory(name="Padano Spa")
    notify(
        recipients=[nam],
        kind="contract_renewal",
        key="contract:1:notice",
        message="The Padano contract reaches its renewal notice",
        url=f"/clients/{account.pk}/",
    )
    notify(recipients=[nam], kind="other", key="other:1", message="Something else")  # fmt: skip
    sign_in(page, nam)

    count = page.get_by_test_id("notification-count")
    expect(count).to_contain_text("2")
    page.get_by_test_id("notification-bell").get_by_role("button").click()
    menu = page.get_by_test_id("notification-menu")
    expect(menu.get_by_test_id("menu-notification")).to_have_count(2)
    menu.get_by_text("The Padano contract reaches its renewal notice").click()

    expect(page).to_have_url(f"{page.url.split('/clients/')[0]}/clients/{account.pk}/")
    expect(page.get_by_test_id("notification-count")).to_contain_text("1")


def test_marking_read_on_the_list_updates_the_bell(page) -> None:
    nam = UserFactory(roles=[Role.ACCOUNT_STAFF], email="")
    for n in range(2):
        notify(recipients=[nam], kind="task_due", key=f"task:{n}", message=f"Task {n} is due")
    sign_in(page, nam)
    page.goto("/notifications/")

    page.get_by_test_id("mark-read").first.click()

    expect(page.get_by_test_id("mark-read")).to_have_count(1)
    expect(page.get_by_test_id("notification-count")).to_contain_text("1")
