"""In a browser: the bell shows the unread count, its dropdown loads the latest, opening one goes
to its page and the count drops; marking read on the list updates the bell without a reload."""

import pytest
from playwright.sync_api import expect

from accounts_crm.access import Role
from accounts_crm.notifications import notify
from tests.browser.pages import sign_in
from tests.factories import ClientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
