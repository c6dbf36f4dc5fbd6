"""The UI shell: base layout, per-role home pages and navbar, language switch, auth pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts_crm.access import Role
from tests.factories import PASSWORD

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
STATIC_DIR = Path(settings.BASE_DIR) / "static"

Login = Callable[[User], Client]


def h1(response: object) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)  # type: ignore[attr-defined]
    assert match, "page has no <h1>"
    return " ".join(match.group(1).split())


def nav(response: object) -> str:
    """The HTML of the navbar's entry list only (not the page body, which may link the same)."""
    html = response.content.decode()  # type: ignore[attr-defined]
    match = re.search(r'<ul class="navbar-nav[^"]*" data-testid="nav">(.*?)</ul>', html, re.S)
    assert match, "page has no navbar entries"
    return match.group(1)


@pytest.fixture
def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize(
    ("role_fixture", "title"),
    [
        ("account_staff", "My accounts"),
        ("team_lead", "My team's accounts"),
        ("finance", "Finance review"),
        ("admin_user", "Administration"),
    ],
)
def test_it_shows_each_role_its_own_home(
    request: pytest.FixtureRequest, english: Client, login: Login, role_fixture: str, title: str
) -> None:
    login(request.getfixturevalue(role_fixture))
    response = english.get("/", follow=True)  # account staff: redirected to the NAM home
    assert response.status_code == 200
    assert h1(response) == title


def test_it_shows_the_italian_home_by_default(
    client: Client, login: Login, account_staff: User
) -> None:
    login(account_staff)
    response = client.get("/", follow=True)
    assert h1(response) == "I miei clienti"
    assert '<html lang="it">' in response.content.decode()


def test_it_tells_a_person_without_role_to_ask_an_administrator(
    make_user: Callable[..., User], english: Client, login: Login
) -> None:
    login(make_user(username="nobody"))
    response = english.get("/")
    assert h1(response) == "No role assigned"
    assert "Ask an administrator" in response.content.decode()
    assert "/admin/" not in nav(response)


def test_it_shows_the_admin_entries_to_admin_only(
    english: Client, login: Login, admin_user: User
) -> None:
    login(admin_user)
    entries = nav(english.get("/"))
    assert f'href="{reverse("admin:index")}"' in entries
    assert f'href="{reverse("health")}"' in entries
    assert f'href="{reverse("api-docs")}"' in entries


@pytest.mark.parametrize("role_fixture", ["account_staff", "team_lead", "finance"])
def test_it_hides_the_admin_entries_from_other_roles(
    request: pytest.FixtureRequest, english: Client, login: Login, role_fixture: str
) -> None:
    login(request.getfixturevalue(role_fixture))
    entries = nav(english.get("/", follow=True))
    assert f'href="{reverse("home")}"' in entries
    assert f'href="{reverse("api-docs")}"' in entries
    assert f'href="{reverse("admin:index")}"' not in entries
    assert f'href="{reverse("health")}"' not in entries


def test_it_shows_the_user_menu_with_name_roles_and_logout(
    make_user: Callable[..., User], english: Client, login: Login
) -> None:
    user = make_user(
        Role.TEAM_LEAD, Role.FINANCE, username="multi", first_name="Ada", last_name="Neri"
    )
    login(user)
    html = english.get("/").content.decode()
    roles = re.search(r'data-testid="user-roles">(.*?)</div>', html, re.S)
    assert roles
    assert "Team lead" in roles.group(1)
    assert "Finance" in roles.group(1)
    assert "Administrator" not in roles.group(1)
    assert "Ada Neri" in html
    # Django's logout only accepts POST: the menu must post it with a CSRF token.
    assert re.search(
        rf'<form method="post" action="{reverse("logout")}">\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken"',
        html,
    )


def test_it_lands_a_person_with_several_roles_on_the_widest_home(
    make_user: Callable[..., User], english: Client, login: Login
) -> None:
    login(make_user(Role.ACCOUNT_STAFF, Role.FINANCE, username="both"))
    assert h1(english.get("/")) == "Finance review"


def test_it_sends_the_csrf_token_with_htmx_requests(
    client: Client, login: Login, account_staff: User
) -> None:
    login(account_staff)
    html = client.get("/", follow=True).content.decode()
    assert re.search(r"""<body[^>]* hx-headers='\{"X-CSRFToken": "\w+"\}'""", html)


def test_it_switches_the_language_to_english_and_back(
    client: Client, login: Login, account_staff: User
) -> None:
    login(account_staff)
    assert h1(client.get("/", follow=True)) == "I miei clienti"
    assert 'name="language" value="en"' in client.get("/", follow=True).content.decode()

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    response = client.get("/", follow=True)
    assert h1(response) == "My accounts"
    assert '<html lang="en">' in response.content.decode()

    client.post(reverse("set_language"), {"language": "it", "next": "/"})
    assert h1(client.get("/", follow=True)) == "I miei clienti"


def test_it_shows_login_errors_in_italian_by_default(client: Client, account_staff: User) -> None:
    response = client.post(
        reverse("login"), {"username": account_staff.username, "password": "wrong"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert h1(response) == "Accedi"
    assert "Inserisci" in html  # Django's own Italian "please enter a correct username..."
    assert "Please enter a correct" not in html
    # What the user typed is kept, the password is not.
    assert f'value="{account_staff.username}"' in html
    assert 'value="wrong"' not in html
    assert "Password dimenticata?" in html
    assert f'href="{reverse("password_reset")}"' in html


def test_it_shows_the_login_page_in_english_when_chosen(english: Client) -> None:
    response = english.get(reverse("login"))
    assert response.status_code == 200
    assert h1(response) == "Sign in"
    assert "Forgot your password?" in response.content.decode()


def test_it_explains_a_lockout_and_when_it_ends(english: Client, account_staff: User) -> None:
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        english.post(reverse("login"), {"username": account_staff.username, "password": "no"})
    response = english.post(
        reverse("login"), {"username": account_staff.username, "password": "no"}
    )
    assert response.status_code == 429
    html = response.content.decode()
    assert h1(response) == "Account temporarily locked"
    minutes = int(settings.AXES_COOLOFF_TIME / timedelta(minutes=1))
    assert f"It unlocks by itself after {minutes} minutes" in html


def test_it_handles_an_invalid_password_reset_link(db: None, english: Client) -> None:
    url = reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"})
    response = english.get(url)
    assert response.status_code == 200
    assert h1(response) == "This link does not work"
    assert f'href="{reverse("password_reset")}"' in response.content.decode()


def test_it_mails_a_working_password_reset_link(
    english: Client, account_staff: User, mailoutbox: list
) -> None:
    response = english.post(reverse("password_reset"), {"email": account_staff.email})
    assert response.status_code == 302
    assert h1(english.get(response["Location"])) == "Check your e-mail"
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+", mailoutbox[0].body)
    assert link
    assert h1(english.get(link.group(0), follow=True)) == "Choose a new password"


def test_it_renders_the_not_found_page_inside_the_layout(
    client: Client, login: Login, account_staff: User
) -> None:
    login(account_staff)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert h1(response) == "Pagina non trovata"
    assert 'data-testid="nav"' in response.content.decode()


def test_it_renders_the_server_error_page_without_a_request() -> None:
    html = render_to_string("500.html")
    assert "<h1>" in html
    assert "{%" not in html


def test_it_references_no_cdn_in_templates() -> None:
    external = re.compile(
        r"""(?:\b(?:src|href|action)\s*=\s*["']?\s*|url\(\s*["']?|@import\s+["']?)"""
        r"""(?:https?:)?//""",
        re.I,
    )
    templates = list(TEMPLATES_DIR.rglob("*.html")) + list(TEMPLATES_DIR.rglob("*.txt"))
    assert templates
    offenders = [
        str(path.relative_to(TEMPLATES_DIR))
        for path in templates
        if external.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_it_finds_every_static_file_base_html_references() -> None:
    base = (TEMPLATES_DIR / "base.html").read_text(encoding="utf-8")
    paths = re.findall(r"""\{%\s*static\s+["']([^"']+)["']\s*%\}""", base)
    assert {
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "vendor/htmx.org/htmx.min.js",
    } <= set(paths)
    missing = [path for path in paths if not (STATIC_DIR / path).is_file()]
    assert missing == []


def test_it_changes_the_password_through_the_form(
    english: Client, login: Login, account_staff: User
) -> None:
    login(account_staff)
    url = reverse("password_change")
    assert h1(english.get(url)) == "Change password"

    response = english.post(
        url, {"old_password": "wrong", "new_password1": "x", "new_password2": "x"}
    )
    assert response.status_code == 200
    assert 'class="form-control is-invalid"' in response.content.decode()

    new = "a-much-Longer-passphrase-2026"
    response = english.post(
        url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True
    )
    assert h1(response) == "Password changed"


def test_it_renders_the_forbidden_page_inside_the_layout(
    rf: RequestFactory, account_staff: User
) -> None:
    request = rf.get("/somewhere/")
    request.user = account_staff
    html = render_to_string("403.html", request=request)
    assert "<h1>" in html
    assert 'data-testid="nav"' in html


def test_it_lets_visitors_switch_language_on_the_login_page(client) -> None:
    assert 'name="language" value="en"' in client.get("/accounts/login/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "<h1" in (page := client.get("/accounts/login/").content.decode())
    assert "Sign in" in page
