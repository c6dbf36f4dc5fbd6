"""The notification service (accounts_crm/notifications.py), its e-mail task and the models'
constraints: notify once per (user, key), in the recipient's language, e-mail after commit."""

from __future__ import annotations

import datetime
import smtplib
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from accounts_crm import notifications, tasks
from accounts_crm.access import Role
from accounts_crm.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    UserPreferences,
)
from accounts_crm.notifications import Notice, notify, notify_many
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

DUE = gettext_lazy("Milestone %(name)s is due on %(due)s.")


@pytest.fixture
def nam() -> User:
    return UserFactory(roles=[Role.ACCOUNT_STAFF], username="nam")


@pytest.fixture
def manager() -> User:
    return UserFactory(roles=[Role.ACCOUNT_STAFF], username="pm")


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Ids handed to the e-mail task (instead of a broker)."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.send_notification_email, "delay", ids.append)
    return ids


@pytest.fixture
def sending(monkeypatch: pytest.MonkeyPatch) -> None:
    """The e-mail task runs in-process when enqueued (mail lands in mail.outbox)."""
    monkeypatch.setattr(
        tasks.send_notification_email, "delay", lambda pk: tasks.send_notification_email(pk)
    )


def due(**kwargs: object) -> list[Notification]:
    params = {"name": "Go-live", "due": datetime.date(2026, 3, 4)}
    defaults: dict[str, object] = {
        "kind": NotificationKind.MILESTONE_DUE,
        "key": "milestone:1:due-7d",
        "message": DUE,
        "params": params,
        "url": "/projects/1/",
    }
    return notify(**(defaults | kwargs))  # type: ignore[arg-type]


# Once per (user, key) ------------------------------------------------------------------------


def test_it_notifies_each_recipient_once_when_run_twice(nam, manager) -> None:
    first = due(recipients=[nam, manager])
    second = due(recipients=[nam, manager])

    assert {n.user_id for n in first} == {nam.pk, manager.pk}
    assert second == []
    assert Notification.objects.count() == 2


def test_it_returns_only_the_rows_it_created(nam, manager) -> None:
    due(recipients=[nam])

    created = due(recipients=[nam, manager])

    assert [n.user_id for n in created] == [manager.pk]
    assert created[0].pk == Notification.objects.get(user=manager).pk
    assert created[0].message == Notification.objects.get(user=manager).message


def test_a_new_threshold_is_a_new_notification(nam) -> None:
    due(recipients=[nam], key="milestone:1:due-7d")
    due(recipients=[nam], key="milestone:1:due-1d")

    assert Notification.objects.filter(user=nam).count() == 2


def test_it_inserts_all_recipients_in_one_statement(
    nam, manager, django_assert_num_queries
) -> None:
    others = [UserFactory() for _ in range(20)]

    # The recipients with their language, the insert, the e-mail opt-outs.
    with django_assert_num_queries(3):
        created = due(recipients=[nam, manager, *others])

    assert len(created) == 22


def test_the_bulk_form_notifies_many_people_about_many_targets_at_once(
    nam, manager, django_assert_num_queries
) -> None:
    acme, globex = ClientFactory(name="Acme"), ClientFactory(name="Globex")
    renewal = gettext_lazy("Contract of %(client)s reaches its renewal notice.")
    notices = [
        Notice(user=nam, kind=NotificationKind.CONTRACT_RENEWAL, key=f"contract:{c.pk}:notice",
               message=renewal, params={"client": c.name}, target=c, url=f"/clients/{c.pk}/")
        for c in (acme, globex)
    ] + [
        Notice(user=manager.pk, kind="reorder_due", key="reorder:7", message="Reorder due",
               url="/orders/"),
        # The same (user, key) twice in one call: one row.
        Notice(user=manager.pk, kind="reorder_due", key="reorder:7", message="Reorder due"),
    ]  # fmt: skip

    ContentType.objects.clear_cache()
    # + the clients' content type, once per process (Django caches content types).
    with django_assert_num_queries(4):
        created = notify_many(notices=notices)

    assert len(created) == 3
    acme_row = Notification.objects.get(user=nam, key=f"contract:{acme.pk}:notice")
    assert acme_row.target == acme
    assert acme_row.message == "Contract of Acme reaches its renewal notice."
    assert Notification.objects.get(user=manager).target is None
    assert notify_many(notices=notices) == []


def test_it_skips_inactive_people(nam) -> None:
    gone = UserFactory(is_active=False)

    created = due(recipients=[nam, gone])

    assert [n.user_id for n in created] == [nam.pk]


def test_nothing_to_notify_is_no_query(django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert notify_many(notices=[]) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"kind": "gossip"}, "Unknown notification kind"),
        ({"key": ""}, "key"),
        ({"key": "x" * 201}, "key"),
        ({"url": "https://evil.example/"}, "local path"),
        ({"url": "//evil.example/"}, "local path"),
        ({"url": "javascript:alert(1)"}, "local path"),
    ],
)
def test_bad_input_from_a_job_raises_and_creates_nothing(nam, kwargs, error) -> None:
    with pytest.raises(ValueError, match=error):
        due(recipients=[nam], **kwargs)

    assert not Notification.objects.exists()


def test_an_unsaved_target_is_refused(nam) -> None:
    with pytest.raises(ValueError, match="saved"):
        due(recipients=[nam], target=ClientFactory.build())


# Language ------------------------------------------------------------------------------------


def test_the_message_is_in_each_recipients_language(nam, manager) -> None:
    """'Italian' is already translated ('Italiano') in locale/it/LC_MESSAGES/django.po."""
    UserPreferences.objects.create(user=nam, language="it")
    UserPreferences.objects.create(user=manager, language="en")

    with translation.override("en"):
        due(recipients=[nam, manager], message=gettext_lazy("Italian"), params={})

    assert Notification.objects.get(user=nam).message == "Italiano"
    assert Notification.objects.get(user=manager).message == "Italian"


def test_the_recipients_language_is_active_while_rendering(nam, manager) -> None:
    """Lazy params, dates and numbers are rendered in the recipient's language too."""
    UserPreferences.objects.create(user=nam, language="en")
    active_language = lazy(translation.get_language, str)()

    with translation.override("en"):
        due(
            recipients=[nam, manager],  # manager has no preferences: the site's default, Italian
            message="%(language)s %(label)s %(due)s %(amount)s",
            params={
                "language": active_language,
                "label": gettext_lazy("English"),
                "due": datetime.date(2026, 3, 4),
                "amount": Decimal("1234.50"),
            },
        )

    assert Notification.objects.get(user=nam).message == "en English 03/04/2026 1,234.50"
    assert Notification.objects.get(user=manager).message == "it Inglese 04/03/2026 1.234,50"


# E-mail after commit -------------------------------------------------------------------------


def test_email_is_enqueued_when_the_transaction_commits(
    nam, enqueued, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = due(recipients=[nam])
        assert enqueued == []  # not before the commit

    for callback in callbacks:
        callback()
    assert enqueued == [created[0].pk]


def test_no_email_is_enqueued_when_the_transaction_rolls_back(
    nam, enqueued, django_capture_on_commit_callbacks
) -> None:
    def failing_job() -> None:
        with transaction.atomic():
            due(recipients=[nam])
            raise RuntimeError("the job failed after notifying")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_job()

    assert enqueued == []
    assert not Notification.objects.exists()


def test_a_repeated_notification_enqueues_no_second_email(
    nam, enqueued, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        due(recipients=[nam])
        due(recipients=[nam])

    assert len(enqueued) == 1


def test_email_follows_the_per_kind_preference(
    nam, manager, enqueued, django_capture_on_commit_callbacks
) -> None:
    NotificationPreference.objects.create(
        user=nam, kind=NotificationKind.MILESTONE_DUE, email=False
    )
    NotificationPreference.objects.create(user=nam, kind=NotificationKind.TASK_DUE, email=True)
    without_address = UserFactory(email="")

    with django_capture_on_commit_callbacks(execute=True):
        created = due(recipients=[nam, manager, without_address])
        task_due = due(recipients=[nam], kind=NotificationKind.TASK_DUE, key="task:1:due-1d")

    mine = {n.user_id: n.pk for n in created}
    assert enqueued == [mine[manager.pk], task_due[0].pk]
    assert Notification.objects.filter(user=nam).count() == 2  # in-app regardless


def test_the_email_is_in_the_recipients_language_with_an_absolute_link(
    nam, sending, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SITE_URL = "https://crm.example.com/"
    UserPreferences.objects.create(user=nam, language="it")

    with django_capture_on_commit_callbacks(execute=True):
        (notification,) = due(recipients=[nam], message=gettext_lazy("Italian"), params={})

    (sent,) = mail.outbox
    assert sent.to == [nam.email]
    assert "Italiano" in sent.subject
    assert "\n" not in sent.subject
    link = f"https://crm.example.com/notifications/{notification.pk}/open/"
    assert link in sent.body
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html"
    assert '<html lang="it">' in html
    assert link in html
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_the_email_task_sends_once_when_run_twice(nam) -> None:
    (notification,) = due(recipients=[nam])

    assert tasks.send_notification_email(notification.pk) is True
    assert tasks.send_notification_email(notification.pk) is False

    assert len(mail.outbox) == 1


def test_the_email_task_respects_a_preference_changed_after_notifying(nam) -> None:
    (notification,) = due(recipients=[nam])
    notifications.user_preferences_update(user=nam, email={"milestone_due": False})

    assert tasks.send_notification_email(notification.pk) is False
    assert mail.outbox == []


def test_the_email_task_does_nothing_for_a_deleted_notification() -> None:
    assert tasks.send_notification_email(987654321) is False


def test_a_failed_send_leaves_the_notification_unsent_for_the_retry(nam, monkeypatch) -> None:
    (notification,) = due(recipients=[nam])

    def refuse(*args: object, **kwargs: object) -> int:
        raise smtplib.SMTPServerDisconnected("bye")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    retried: list[BaseException] = []

    class Retry(Exception):
        pass

    def retry(*, exc: BaseException, countdown: int) -> Retry:
        retried.append(exc)
        return Retry()

    monkeypatch.setattr(tasks.send_notification_email, "retry", retry)
    with pytest.raises(Retry):
        tasks.send_notification_email(notification.pk)

    assert isinstance(retried[0], smtplib.SMTPServerDisconnected)
    notification.refresh_from_db()
    assert notification.emailed_at is None


def test_a_permanent_mail_error_is_not_retried(nam, monkeypatch) -> None:
    (notification,) = due(recipients=[nam])

    def refuse(*args: object, **kwargs: object) -> int:
        raise smtplib.SMTPRecipientsRefused({nam.email: (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    monkeypatch.setattr(tasks.send_notification_email, "retry", pytest.fail)

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        tasks.send_notification_email(notification.pk)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (smtplib.SMTPServerDisconnected(), True),
        (smtplib.SMTPConnectError(421, b"busy"), True),
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (smtplib.SMTPResponseException(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({}), False),
        (ValueError(), False),
    ],
)
def test_which_mail_errors_are_transient(error: BaseException, transient: bool) -> None:
    assert tasks.is_transient_mail_error(error) is transient


def test_the_email_task_is_acked_late() -> None:
    task = tasks.send_notification_email
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.max_retries == tasks.MAIL_MAX_RETRIES


# Reading, marking read, preferences -----------------------------------------------------------


def test_mark_read_keeps_the_first_time(nam) -> None:
    (notification,) = due(recipients=[nam])

    notifications.notification_mark_read(notification=notification, by=nam)
    first = notification.read_at
    notifications.notification_mark_read(notification=notification, by=nam)

    notification.refresh_from_db()
    assert first is not None
    assert notification.read_at == first


def test_nobody_marks_someone_elses_notification_read(nam, manager) -> None:
    (notification,) = due(recipients=[nam])

    with pytest.raises(Notification.DoesNotExist):
        notifications.notification_mark_read(notification=notification, by=manager)

    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_touches_only_the_persons_own(nam, manager) -> None:
    due(recipients=[nam, manager])
    due(recipients=[nam], key="milestone:1:due-1d")

    assert notifications.notification_mark_all_read(by=nam) == 2
    assert notifications.notification_unread_count(user=nam) == 0
    assert notifications.notification_unread_count(user=manager) == 1


def test_preferences_default_to_email_on(nam) -> None:
    assert notifications.notification_preferences(user=nam) == dict.fromkeys(
        NotificationKind.values, True
    )
    assert notifications.user_language(nam) == "it"


def test_preferences_update_changes_only_what_is_given(nam) -> None:
    notifications.user_preferences_update(user=nam, language="en", email={"task_due": False})
    chosen = notifications.user_preferences_update(user=nam, email={"case_sla": False})

    assert chosen["task_due"] is False
    assert chosen["case_sla"] is False
    assert chosen["milestone_due"] is True
    assert UserPreferences.objects.get(user=nam).language == "en"


@pytest.mark.parametrize(
    "kwargs", [{"language": "de"}, {"language": "en", "email": {"gossip": False}}]
)
def test_bad_preferences_change_nothing(nam, kwargs) -> None:
    with pytest.raises(ValidationError):
        notifications.user_preferences_update(user=nam, **kwargs)

    assert not UserPreferences.objects.exists()
    assert not NotificationPreference.objects.exists()


# Constraints ---------------------------------------------------------------------------------

CONSTRAINT_CASES: list[tuple[str, Callable[[User], object]]] = [
    (
        "notification_once_per_user_and_key",
        lambda u: [
            Notification.objects.create(user=u, kind="other", key="k", message="m")
            for _ in range(2)
        ],
    ),
    (
        "notification_kind_valid",
        lambda u: Notification.objects.create(user=u, kind="gossip", key="k", message="m"),
    ),
    (
        "notification_key_not_empty",
        lambda u: Notification.objects.create(user=u, kind="other", key="", message="m"),
    ),
    (
        "notification_target_complete",
        lambda u: Notification.objects.create(
            user=u, kind="other", key="k", message="m", target_id=1
        ),
    ),
    (
        "notificationpreference_one_per_user_and_kind",
        lambda u: [
            NotificationPreference.objects.create(user=u, kind="other", email=False)
            for _ in range(2)
        ],
    ),
    (
        "notificationpreference_kind_valid",
        lambda u: NotificationPreference.objects.create(user=u, kind="gossip"),
    ),
    (
        "userpreferences_language_valid",
        lambda u: UserPreferences.objects.create(user=u, language="de"),
    ),
]


@pytest.mark.parametrize(("constraint", "violate"), CONSTRAINT_CASES)
def test_the_database_refuses(nam, constraint: str, violate: Callable[[User], object]) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        violate(nam)


# Two jobs at once ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_jobs_notifying_at_once_create_one_row() -> None:
    """Two connections insert the same (user, key) concurrently: the second waits for the first
    to commit, then skips the row; only the first one gets it back (and e-mails)."""
    person = UserFactory(email="")  # no e-mail: nothing to enqueue
    started = threading.Barrier(2)
    results: list[int] = []

    def job() -> None:
        try:
            with transaction.atomic():
                started.wait(timeout=10)
                created = due(recipients=[person])
                time.sleep(0.2)  # hold the row until the other job is blocked on it
            results.append(len(created))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(user=person).count() == 1
