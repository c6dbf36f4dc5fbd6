"""Login, throttling, session lifetime and the login wall in front of every page."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts_crm.middleware import SESSION_LOGIN_AT
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

# Pages anyone may open: signing in and recovering a password, the load balancer's probe.
PUBLIC_PREFIXES = (
    "/accounts/login/",
    "/admin/login/",
    "/accounts/password_reset/",
    "/accounts/reset/",
    "/health/",
    "/i18n/",
)


def fail_login(client, username: str, times: int):
    for _ in range(times):
        response = client.post("/accounts/login/", {"username": username, "password": "wrong"})
    return response


def test_it_locks_out_after_repeated_failures_even_with_the_right_password(
    client, account_staff
) -> None:
    response = fail_login(client, account_staff.username, settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    response = client.post(
        "/accounts/login/", {"username": account_staff.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_lifts_the_lockout_by_itself_after_the_cool_off(client, account_staff) -> None:
    fail_login(client, account_staff.username, settings.AXES_FAILURE_LIMIT)
    # Age the attempts past the cool-off instead of sleeping through it.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    response = client.post(
        "/accounts/login/", {"username": account_staff.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(account_staff.pk)


def test_it_locks_one_username_without_locking_the_others(client, account_staff, finance) -> None:
    fail_login(client, account_staff.username, settings.AXES_FAILURE_LIMIT)
    response = client.post("/accounts/login/", {"username": finance.username, "password": PASSWORD})
    assert response.status_code == 302


def test_it_rotates_the_session_key_on_login(client, account_staff) -> None:
    client.get("/accounts/login/")
    client.session["probe"] = 1  # force an anonymous session to exist
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    client.post("/accounts/login/", {"username": account_staff.username, "password": PASSWORD})
    assert client.session.session_key != before


def test_it_ends_idle_sessions_after_the_idle_timeout(login, account_staff) -> None:
    client = login(account_staff)
    assert client.get("/", follow=True).status_code == 200
    assert settings.SESSION_SAVE_EVERY_REQUEST
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    # The server side expires too: a session stored with an expiry in the past is gone.
    session = client.session
    session.set_expiry(-1)
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_ends_sessions_older_than_the_absolute_lifetime_however_busy(
    login, account_staff
) -> None:
    client = login(account_staff)
    session = client.session
    session[SESSION_LOGIN_AT] = int(time.time()) - settings.SESSION_ABSOLUTE_LIFETIME - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
    assert client.get("/").status_code == 302


def test_it_logs_out_only_by_post(login, account_staff) -> None:
    client = login(account_staff)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_it_sends_a_password_reset_link_that_works(client, account_staff) -> None:
    response = client.post("/accounts/password_reset/", {"email": account_staff.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link[link.index("/accounts/reset/") :].strip()
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert response.status_code == 302
    account_staff.refresh_from_db()
    assert account_staff.check_password("a-brand-new-passphrase")


def all_url_paths() -> list[str]:
    """Every URL the project serves, with a sample value in place of each parameter."""
    paths: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                route = re.sub(r"<[^>]+>|\(\?P<[^>]+>[^)]*\)", "1", route)
                paths.add(re.sub(r"[\^$\\]|\\Z", "", route))

    walk(get_resolver().url_patterns, "/")
    return sorted(paths)


def test_it_sends_anonymous_visitors_to_login_from_every_url(client) -> None:
    checked = 0
    for path in all_url_paths():
        if path.startswith(PUBLIC_PREFIXES) or path.startswith("/static/"):
            continue
        response = client.get(path)
        if path.startswith("/admin/"):
            # The admin has its own login page, with the same axes throttling.
            assert response.status_code in (302, 404), path
            if response.status_code == 302:
                assert "/login/" in response["Location"], path
        elif path.startswith("/api/"):
            assert response.status_code in (302, 401, 403), path
        else:
            assert response.status_code == 302, path
            assert response["Location"].startswith("/accounts/login/"), path
        checked += 1
    assert checked > 10
