from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from accounts_crm.access import Role
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Service and model messages are asserted in English; the product's default is Italian.

    Only the test's own thread: HTTP requests still pick their language from the cookie or the
    browser (LocaleMiddleware), and tests of the Italian messages ask for Italian explicitly.
    Without it a test's language would depend on which request ran before it in the thread.
    """
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fast_password_hasher(settings) -> None:
    """Real hashing is slow on purpose; tests need it to be correct, not slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(*roles: Role, **fields: object) -> User:
        return UserFactory(roles=list(roles), **fields)

    return make


@pytest.fixture
def account_staff(make_user: Callable[..., User]) -> User:
    return make_user(Role.ACCOUNT_STAFF, username="nam")


@pytest.fixture
def team_lead(make_user: Callable[..., User]) -> User:
    return make_user(Role.TEAM_LEAD, username="lead")


@pytest.fixture
def finance(make_user: Callable[..., User]) -> User:
    return make_user(Role.FINANCE, username="finance")


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, username="boss", is_staff=True, is_superuser=True)


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    """Log `user` in through the real login form (axes and session hooks included)."""

    def do_login(user: User) -> Client:
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, response.content[:500]
        return client

    return do_login


@pytest.fixture
def as_principal(
    client: Client, login: Callable[[User], Client], world: Any
) -> Callable[[str], Client]:
    """For the access matrices: sign in as one of `world.users` (the module's own `world`
    fixture), or stay anonymous; pages answer in English."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def sign_in(principal: str) -> Client:
        if principal != "anonymous":
            login(world.users[principal])
        return client

    return sign_in
