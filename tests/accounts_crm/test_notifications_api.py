"""The notifications API: own rows only (others 404), filters, mark read, preferences, schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts_crm.access import Role
from accounts_crm.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    UserPreferences,
)
from accounts_crm.notifications import notify
from tests.clients.api_book import api_as
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


@pytest.fixture
def owner() -> User:
    return UserFactory(roles=[Role.ACCOUNT_STAFF], username="owner")


@pytest.fixture
def outsider() -> User:
    return UserFactory(roles=[Role.FINANCE], username="outsider")


def make(user: User, n: int = 1, **fields: object) -> list[Notification]:
    start = Notification.objects.count()
    return Notification.objects.bulk_create(
        Notification(
            user=user,
            kind=fields.get("kind", NotificationKind.MILESTONE_DUE),
            key=f"test:{start + i}",
            message=f"Notification {start + i}",
            url="/clients/",
            read_at=fields.get("read_at"),
        )
        for i in range(n)
    )


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code


def test_it_lists_only_the_callers_own_newest_first(owner, outsider) -> None:
    mine = make(owner, 2)
    make(outsider, 1)

    body = api_as(owner).get(URL).json()

    assert [row["id"] for row in body["results"]] == [mine[1].pk, mine[0].pk]
    assert body["results"][0]["read"] is False
    assert body["results"][0]["kind"] == "milestone_due"


def test_it_shows_what_a_notification_is_about(owner) -> None:
    account = ClientFactory()
    (notification,) = notify(
        recipients=[owner], kind="reorder_due", key="k", message="m", target=account
    )

    row = api_as(owner).get(f"{URL}{notification.pk}/").json()

    assert row["target_type"] == "clients.client"
    assert row["target_id"] == account.pk
    assert row["created_at"].endswith("Z")


def test_it_filters_by_unread_and_kind(owner) -> None:
    make(owner, 1, kind=NotificationKind.TASK_DUE)
    make(owner, 1, kind=NotificationKind.TASK_DUE, read_at=timezone.now())
    make(owner, 1, kind=NotificationKind.CASE_SLA)
    api = api_as(owner)

    assert api.get(f"{URL}?unread=true").json()["count"] == 2
    assert api.get(f"{URL}?unread=false").json()["count"] == 1
    assert api.get(f"{URL}?kind=task_due&unread=true").json()["count"] == 1


def test_an_unknown_kind_filter_is_a_clear_error(owner) -> None:
    response = api_as(owner).get(f"{URL}?kind=gossip")
    assert_error(response, 400, "invalid")


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", "read/")], ids=["retrieve", "read"]
)
def test_someone_elses_notification_is_a_404(owner, outsider, method, suffix) -> None:
    (theirs,) = make(outsider, 1)

    response = getattr(api_as(owner), method)(f"{URL}{theirs.pk}/{suffix}")

    assert_error(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_anonymous_callers_get_401(owner) -> None:
    (notification,) = make(owner, 1)
    for url in (URL, f"{URL}{notification.pk}/", f"{URL}preferences/"):
        assert api_as(None).get(url).status_code == 401


def test_it_marks_one_read(owner) -> None:
    (notification,) = make(owner, 1)

    response = api_as(owner).post(f"{URL}{notification.pk}/read/")

    assert response.status_code == 200
    assert response.json()["read"] is True
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_it_marks_all_read(owner, outsider) -> None:
    make(owner, 3)
    make(owner, 1, read_at=timezone.now())
    make(outsider, 2)

    response = api_as(owner).post(f"{URL}read-all/")

    assert response.json() == {"marked_read": 3}
    assert Notification.objects.filter(user=outsider, read_at__isnull=True).count() == 2


def test_the_list_runs_as_many_queries_for_40_rows_as_for_2(owner) -> None:
    account = ClientFactory()
    api = api_as(owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL).status_code == 200
        return len(captured)

    for i in range(2):
        notify(recipients=[owner], kind="other", key=f"a{i}", message="m", target=account)
    queries()  # warms the content type cache
    few = queries()
    for i in range(38):
        notify(recipients=[owner], kind="other", key=f"b{i}", message="m", target=account)
    assert queries() == few


# Preferences ---------------------------------------------------------------------------------


def test_it_reads_the_default_preferences(owner) -> None:
    body = api_as(owner).get(f"{URL}preferences/").json()

    assert body == {"language": "it", "email": dict.fromkeys(NotificationKind.values, True)}


def test_it_updates_preferences_partially(owner) -> None:
    api = api_as(owner)

    response = api.patch(
        f"{URL}preferences/", {"language": "en", "email": {"task_due": False}}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["language"] == "en"
    assert response.json()["email"]["task_due"] is False
    assert response.json()["email"]["case_sla"] is True
    api.patch(f"{URL}preferences/", {"email": {"case_sla": False}}, format="json")
    assert UserPreferences.objects.get(user=owner).language == "en"
    assert set(
        NotificationPreference.objects.filter(user=owner, email=False).values_list(
            "kind", flat=True
        )
    ) == {"task_due", "case_sla"}


@pytest.mark.parametrize("payload", [{"language": "de"}, {"email": {"task_due": "maybe"}}])
def test_bad_preferences_are_refused_and_change_nothing(owner, payload) -> None:
    response = api_as(owner).patch(f"{URL}preferences/", payload, format="json")

    assert_error(response, 400, "invalid")
    assert not UserPreferences.objects.exists()
    assert not NotificationPreference.objects.exists()


def test_the_schema_documents_the_endpoints(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    paths = yaml.safe_load(out.read_text())["paths"]

    assert set(paths["/api/v1/notifications/"]["get"]["responses"]) >= {"200", "401"}
    assert {"get", "patch"} <= set(paths["/api/v1/notifications/preferences/"])
    assert "post" in paths["/api/v1/notifications/{id}/read/"]
    assert "404" in paths["/api/v1/notifications/{id}/read/"]["post"]["responses"]
    assert "post" in paths["/api/v1/notifications/read-all/"]
