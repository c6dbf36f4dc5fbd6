"""The notification pages: bell, menu, list (filters, CSV, pages), open, mark read, preferences,
and the language that follows a person (switch remembered, restored on sign-in)."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_crm.access import Role
from accounts_crm.context_processors import NotificationBell
from accounts_crm.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    UserPreferences,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return UserFactory(roles=[Role.ACCOUNT_STAFF], username="owner")


@pytest.fixture
def outsider() -> User:
    return UserFactory(roles=[Role.ACCOUNT_STAFF], username="outsider")


@pytest.fixture
def english(client: HttpClient) -> HttpClient:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def owner_client(english: HttpClient, login, owner) -> HttpClient:
    return login(owner)


def make(user: User, n: int = 1, **fields: object) -> list[Notification]:
    start = Notification.objects.count()
    rows = [
        Notification(
            user=user,
            kind=fields.get("kind", NotificationKind.MILESTONE_DUE),
            key=f"test:{start + i}",
            message=fields.get("message", f"Milestone {start + i} is due"),
            url=fields.get("url", "/clients/"),
            read_at=fields.get("read_at"),
        )
        for i in range(n)
    ]
    return Notification.objects.bulk_create(rows)


def count_queries(client: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The bell ------------------------------------------------------------------------------------


def test_it_shows_the_unread_count_on_the_bell(owner_client, owner) -> None:
    make(owner, 3)
    make(owner, 2, read_at=timezone.now())

    page = owner_client.get("/", follow=True).content.decode()

    assert 'data-testid="notification-bell"' in page
    assert ">3<span" in page


def test_it_caps_the_bell_at_99(owner) -> None:
    make(owner, 100)
    assert NotificationBell(owner).label == "99+"


def test_anonymous_pages_have_no_bell(client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert "notification-bell" not in page


def test_the_bell_costs_one_query_whatever_the_count(owner, django_assert_num_queries) -> None:
    make(owner, 40)
    bell = NotificationBell(owner)

    with django_assert_num_queries(1):
        assert bell.count == 40
        assert bell.label == "40"


def test_a_page_with_the_bell_runs_as_many_queries_for_40_unread_as_for_none(
    owner_client, owner
) -> None:
    none = count_queries(owner_client, "/my-book/")
    make(owner, 40)
    assert count_queries(owner_client, "/my-book/") == none


def test_the_menu_lists_the_latest_eight(owner_client, owner, outsider) -> None:
    make(owner, 10)
    make(outsider, 1, message="Someone else's")

    page = owner_client.get("/notifications/menu/").content.decode()

    assert page.count('data-testid="menu-notification"') == 8
    assert "Milestone 9 is due" in page
    assert "Someone else" not in page


# The list ------------------------------------------------------------------------------------


def test_the_list_shows_only_the_persons_own(owner_client, owner, outsider) -> None:
    make(owner, 2)
    make(outsider, 1, message="Someone else's")

    page = owner_client.get("/notifications/").content.decode()

    assert page.count('data-testid="notification-row"') == 2
    assert "Someone else" not in page


def test_the_list_filters_by_kind_unread_and_text(owner_client, owner) -> None:
    make(owner, 1, kind=NotificationKind.TASK_DUE, message="Task A")
    make(owner, 1, kind=NotificationKind.TASK_DUE, message="Task B", read_at=timezone.now())
    make(owner, 1, kind=NotificationKind.PAYMENT_OVERDUE, message="Invoice C")

    def rows(query: str) -> int:
        page = owner_client.get(f"/notifications/?{query}").content.decode()
        return page.count('data-testid="notification-row"')

    assert rows("kind=task_due") == 2
    assert rows("kind=task_due&unread=true") == 1
    assert rows("unread=false") == 1
    assert rows("q=invoice") == 1


def test_an_unknown_kind_filter_shows_an_error(owner_client, owner) -> None:
    make(owner, 1)

    response = owner_client.get("/notifications/?kind=gossip")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_list_answers_htmx_with_the_results_only(owner_client, owner) -> None:
    make(owner, 1)

    page = owner_client.get("/notifications/", headers={"HX-Request": "true"}).content.decode()

    assert 'id="results"' in page
    assert "<nav" not in page.split('id="results"')[0]
    assert "notification-bell" not in page


def test_the_list_paginates(owner_client, owner) -> None:
    make(owner, 30)

    first = owner_client.get("/notifications/").content.decode()
    second = owner_client.get("/notifications/?page=2").content.decode()

    assert first.count('data-testid="notification-row"') == 25
    assert second.count('data-testid="notification-row"') == 5


def test_the_list_query_count_is_pinned(owner_client, owner, django_assert_num_queries) -> None:
    make(owner, 30)
    # Session read and save (SESSION_SAVE_EVERY_REQUEST), user, roles, page count, rows, bell.
    with django_assert_num_queries(9):
        assert owner_client.get("/notifications/?unread=true").status_code == 200
    make(owner, 30)
    with django_assert_num_queries(9):
        assert owner_client.get("/notifications/?page=2").status_code == 200


def test_the_list_exports_csv(owner_client, owner, outsider) -> None:
    make(owner, 1, message="Go-live is due", url="/clients/7/")
    make(outsider, 1, message="Someone else's")

    response = owner_client.get("/notifications/?format=csv")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Created", "Kind", "Message", "Link", "Read"]
    assert len(rows) == 2
    assert rows[1][1:] == ["Milestone due", "Go-live is due", f"{settings.SITE_URL}/clients/7/", ""]


# Opening and marking read --------------------------------------------------------------------


def test_opening_marks_read_and_goes_to_the_page(owner_client, owner) -> None:
    (notification,) = make(owner, 1, url="/clients/42/")

    response = owner_client.get(f"/notifications/{notification.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/clients/42/"
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/x", ""])
def test_opening_never_leaves_the_site(owner_client, owner, url) -> None:
    (notification,) = make(owner, 1)
    Notification.objects.filter(pk=notification.pk).update(url=url)  # past the service's check

    response = owner_client.get(f"/notifications/{notification.pk}/open/")

    assert response["Location"] == "/notifications/"


def test_mark_read_with_htmx_returns_the_row_and_the_new_count(owner_client, owner) -> None:
    first, _second = make(owner, 2)

    response = owner_client.post(f"/notifications/{first.pk}/read/", headers={"HX-Request": "true"})

    page = response.content.decode()
    assert f'id="notification-{first.pk}"' in page
    assert 'hx-swap-oob="true"' in page
    assert ">1<span" in page
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_read_without_javascript_goes_back(owner_client, owner) -> None:
    (notification,) = make(owner, 1)

    response = owner_client.post(
        f"/notifications/{notification.pk}/read/", {"next": "/notifications/?kind=task_due"}
    )

    assert response["Location"] == "/notifications/?kind=task_due"


def test_mark_read_ignores_a_next_on_another_site(owner_client, owner) -> None:
    (notification,) = make(owner, 1)

    response = owner_client.post(
        f"/notifications/{notification.pk}/read/", {"next": "https://evil.example/"}
    )

    assert response["Location"] == "/notifications/"


def test_mark_all_read(owner_client, owner, outsider) -> None:
    make(owner, 3)
    make(outsider, 1)

    response = owner_client.post("/notifications/read-all/", follow=True)

    assert "3 notifications marked read." in response.content.decode()
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=outsider, read_at__isnull=True).count() == 1


def test_mark_read_is_a_post(owner_client, owner) -> None:
    (notification,) = make(owner, 1)
    assert owner_client.get(f"/notifications/{notification.pk}/read/").status_code == 405
    assert owner_client.get("/notifications/read-all/").status_code == 405


# Access: someone else's notification is a 404 on every route -----------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("get", "open/"), ("post", "read/")], ids=["open", "read"]
)
def test_someone_elses_notification_is_a_404(owner_client, outsider, method, path) -> None:
    (theirs,) = make(outsider, 1)

    response = getattr(owner_client, method)(f"/notifications/{theirs.pk}/{path}")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "path", ["/notifications/", "/notifications/menu/", "/notifications/preferences/"]
)
def test_anonymous_people_are_sent_to_sign_in(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# Preferences ---------------------------------------------------------------------------------


def test_the_preferences_page_shows_the_defaults(owner_client) -> None:
    page = owner_client.get("/notifications/preferences/").content.decode()

    assert page.count('type="checkbox"') == len(NotificationKind.values)
    assert page.count("checked") == len(NotificationKind.values)
    assert '<option value="it" selected>' in page


def test_saving_preferences_keeps_language_and_email_choices(owner_client, owner) -> None:
    data = {"language": "en"} | {f"email_{kind}": "on" for kind in NotificationKind.values}
    del data["email_payment_overdue"]

    response = owner_client.post("/notifications/preferences/", data)

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Your preferences are saved." in owner_client.get(response["Location"]).content.decode()
    assert UserPreferences.objects.get(user=owner).language == "en"
    assert list(
        NotificationPreference.objects.filter(user=owner, email=False).values_list(
            "kind", flat=True
        )
    ) == ["payment_overdue"]


def test_bad_preferences_show_an_error_and_change_nothing(owner_client, owner) -> None:
    response = owner_client.post("/notifications/preferences/", {"language": "klingon"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not UserPreferences.objects.exists()
    assert not NotificationPreference.objects.exists()


# Language follows the person -----------------------------------------------------------------


def test_switching_language_is_remembered(owner_client, owner) -> None:
    response = owner_client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert UserPreferences.objects.get(user=owner).language == "en"

    owner_client.post("/i18n/setlang/", {"language": "it", "next": "/"})
    assert UserPreferences.objects.get(user=owner).language == "it"


def test_an_invalid_switch_is_not_remembered(owner_client, owner) -> None:
    owner_client.post("/i18n/setlang/", {"language": "klingon", "next": "/"})
    assert not UserPreferences.objects.exists()


def test_an_anonymous_switch_stores_nothing(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert not UserPreferences.objects.exists()


def test_signing_in_restores_the_stored_language(client, login, owner) -> None:
    UserPreferences.objects.create(user=owner, language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"

    login(owner)

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert 'lang="en"' in client.get("/", follow=True).content.decode()


def test_signing_in_without_a_stored_language_keeps_the_browsers(client, login, owner) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    login(owner)

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert not UserPreferences.objects.exists()
