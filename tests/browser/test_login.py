"""Every role signs in through the real login page and lands on its own home."""

import re

import pytest
from playwright.sync_api import expect

from accounts_crm.access import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("role", "heading", "admin_link"),
    [
        (Role.ACCOUNT_STAFF, "My accounts", False),
        (Role.TEAM_LEAD, "My team's accounts", False),
        (Role.FINANCE, "Finance review", False),
        (Role.ADMIN, "Administration", True),
    ],
)
def test_it_signs_each_role_in_to_its_home(page, make_user, role, heading, admin_link) -> None:
    user = make_user(role, is_staff=role == Role.ADMIN)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    nav = page.get_by_role("navigation").first
    expect(nav.get_by_role("link", name="Admin")).to_have_count(1 if admin_link else 0)


def test_it_shows_a_wrong_password_and_keeps_the_username(page, account_staff) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(account_staff.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value(account_staff.username)


def test_it_switches_the_interface_to_italian_and_signs_out(page, finance) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(finance.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Finance review")

    page.get_by_role("button", name=re.compile("Italiano")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controllo amministrativo")

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Esci").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Accedi")
