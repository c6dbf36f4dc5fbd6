"""Steps every browser test takes."""

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def sign_in(page: Page, user: object) -> None:
    """Sign in through the real form and wait for the home page's heading."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
