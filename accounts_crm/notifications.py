"""Notifications: the one way any app tells a person something, in-app and by e-mail.

Jobs (deadline scan, invoice checks, payment watch) call `notify` or `notify_many`:

    notify(
        recipients=[nam, project_manager],
        kind=NotificationKind.MILESTONE_DUE,
        key=f"milestone:{milestone.pk}:due-7d",
        message=gettext_lazy("Milestone %(name)s of %(project)s is due on %(due)s."),
        params={"name": milestone.name, "project": project.name, "due": milestone.due_on},
        target=milestone,
        url=reverse("projects:milestone_detail", args=[milestone.pk]),
    )

- `key` names the effect; (user, key) is unique in the database, so running a job twice, or two
  workers running it at once, notifies once: the insert is `ON CONFLICT DO NOTHING` and only the
  rows it really created come back (and get an e-mail).
- `message` is a lazy translatable string with `%(name)s` placeholders, rendered per recipient in
  their language (UserPreferences.language) and stored rendered. Lazy params are rendered in that
  language too; dates, times and numbers are formatted for it.
- E-mail goes out after the caller's transaction commits (nothing is sent for a rolled-back
  change), one Celery task per notification, unless the person switched e-mail off for the kind.
- One INSERT per call, however many recipients; `notify_many` takes notices for many people and
  targets at once (one INSERT for all of them, too).
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Model
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts_crm.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationQuerySet,
    UserPreferences,
)

__all__ = [
    "Notice",
    "NotificationKind",
    "is_local_url",
    "notification_email_message",
    "notification_email_send",
    "notification_get",
    "notification_list",
    "notification_mark_all_read",
    "notification_mark_read",
    "notification_preferences",
    "notification_unread_count",
    "notify",
    "notify_many",
    "user_language",
    "user_language_remember",
    "user_preferences_update",
]

KEY_MAX_LENGTH = Notification._meta.get_field("key").max_length
URL_MAX_LENGTH = Notification._meta.get_field("url").max_length


@dataclass(frozen=True)
class Notice:
    """One notification to create: for `user`, about `target`, once per (user, key)."""

    user: User | int
    kind: NotificationKind | str
    key: str
    message: str | Promise
    params: Mapping[str, Any] = field(default_factory=dict)
    target: Model | None = None
    url: str = ""


# Creating ------------------------------------------------------------------------------------


def notify(
    *,
    recipients: Iterable[User | int],
    kind: NotificationKind | str,
    key: str,
    message: str | Promise,
    params: Mapping[str, Any] | None = None,
    target: Model | None = None,
    url: str = "",
) -> list[Notification]:
    """Tell each recipient the same thing once; returns the notifications created now.

    A recipient already notified with this key, or inactive, gets nothing (and is not returned).
    """
    notices = [
        Notice(
            user=user, kind=kind, key=key, message=message, params=params or {}, target=target,
            url=url,
        )
        for user in recipients
    ]  # fmt: skip
    return notify_many(notices=notices)


def notify_many(*, notices: Iterable[Notice]) -> list[Notification]:
    """Create many notifications (many people, many targets) with one INSERT.

    Three queries whatever the number of notices: the recipients with their language, the
    insert, their e-mail opt-outs. Returns only the rows created by this call. The one write is a
    single statement, atomic by itself; e-mail waits for the caller's transaction to commit.
    """
    unique: dict[tuple[int, str], Notice] = {}
    for notice in notices:
        _check(notice)
        unique.setdefault((_user_id(notice.user), notice.key), notice)
    if not unique:
        return []
    user_ids = {user_id for user_id, _key in unique}
    recipients = {
        pk: (email, language or settings.LANGUAGE_CODE)
        for pk, email, language in User.objects.filter(pk__in=user_ids, is_active=True).values_list(
            "pk", "email", "preferences__language"
        )
    }
    rows = []
    by_language: dict[str, list[tuple[int, Notice]]] = {}
    for (user_id, _key), notice in unique.items():
        if user_id in recipients:
            by_language.setdefault(recipients[user_id][1], []).append((user_id, notice))
    now = timezone.now()
    for language, group in by_language.items():
        with translation.override(language):
            for user_id, notice in group:
                rows.append(_row(user_id, notice, now))
    created = _insert(rows)
    if created:
        _enqueue_emails(created, {pk: email for pk, (email, _language) in recipients.items()})
    return created


def _check(notice: Notice) -> None:
    """Bad input from a job is a bug in the job: fail loudly, create nothing."""
    if notice.kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {notice.kind!r}.")
    if not notice.key or len(notice.key) > KEY_MAX_LENGTH:
        raise ValueError(f"A notification key needs 1 to {KEY_MAX_LENGTH} characters.")
    if notice.url and (len(notice.url) > URL_MAX_LENGTH or not is_local_url(notice.url)):
        raise ValueError(f"A notification links to a local path, not {notice.url!r}.")
    if notice.target is not None and notice.target.pk is None:
        raise ValueError("A notification's target must be saved first.")


def is_local_url(url: str) -> bool:
    """A path on this site ("/projects/4/"): never another host, never a scheme."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=set())


def _user_id(user: User | int) -> int:
    return user if isinstance(user, int) else user.pk


def _render(message: str | Promise, params: Mapping[str, Any]) -> str:
    """The message in the active language, with params formatted for it."""
    text = str(message)
    if not params:
        return text
    return text % {name: _param(value) for name, value in params.items()}


def _param(value: Any) -> Any:
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, (decimal.Decimal, float)):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return value


def _row(user_id: int, notice: Notice, now: datetime.datetime) -> tuple[Any, ...]:
    target_type = (
        ContentType.objects.get_for_model(notice.target).pk if notice.target is not None else None
    )
    target_id = notice.target.pk if notice.target is not None else None
    message = _render(notice.message, notice.params)
    return (user_id, str(notice.kind), notice.key, message, notice.url, target_type, target_id, now)


# Columns in the order of _row; the array types are those of the columns.
_INSERT_COLUMNS = (
    ("user_id", "bigint"),
    ("kind", "varchar"),
    ("key", "varchar"),
    ("message", "text"),
    ("url", "varchar"),
    ("target_type_id", "integer"),
    ("target_id", "bigint"),
    ("created_at", "timestamptz"),
)


def _insert(rows: list[tuple[Any, ...]]) -> list[Notification]:
    """INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING: one statement
    with eight parameters, whatever the number of rows; a row whose (user, key) exists (or is
    being inserted by a concurrent job) is skipped and not returned."""
    if not rows:
        return []
    opts = Notification._meta
    fields = opts.concrete_fields
    names = ", ".join(connection.ops.quote_name(name) for name, _type in _INSERT_COLUMNS)
    arrays = ", ".join(f"%s::{type_}[]" for _name, type_ in _INSERT_COLUMNS)
    returning = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # Only identifiers of our own model and fixed type names are formatted in; the data are the
    # eight array parameters.
    table = connection.ops.quote_name(opts.db_table)
    sql = (
        f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        f'ON CONFLICT ("user_id", "key") DO NOTHING RETURNING {returning}'
    )
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)
        created = cursor.fetchall()
    attnames = [f.attname for f in fields]
    return [Notification.from_db(connection.alias, attnames, row) for row in created]


def _enqueue_emails(created: list[Notification], emails: Mapping[int, str]) -> None:
    from accounts_crm.tasks import send_notification_email  # tasks import this module

    opted_out = set(
        NotificationPreference.objects.filter(
            user_id__in={n.user_id for n in created},
            kind__in={n.kind for n in created},
            email=False,
        ).values_list("user_id", "kind")
    )
    for notification in created:
        if emails.get(notification.user_id) and (
            (notification.user_id, notification.kind) not in opted_out
        ):
            transaction.on_commit(partial(send_notification_email.delay, notification.pk))


# E-mail --------------------------------------------------------------------------------------


def wants_email(*, user: User, kind: str) -> bool:
    """E-mail is on for a kind unless the person switched it off."""
    return not NotificationPreference.objects.filter(user=user, kind=kind, email=False).exists()


def notification_email_message(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail for a notification, in the recipient's language, linking back to the site."""
    user = notification.user
    with translation.override(user_language(user)):
        context = {
            "notification": notification,
            "user": user,
            "kind_label": notification.get_kind_display(),
            "link": absolute_url(reverse("notifications:open", args=[notification.pk])),
            "preferences_link": absolute_url(reverse("notifications:preferences")),
        }
        subject = render_to_string("notifications/email_subject.txt", context)
        text = render_to_string("notifications/email_body.txt", context)
        html = render_to_string("notifications/email_body.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # one line: headers cannot hold newlines
        body=text,
        to=[user.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def notification_email_send(*, notification_id: int) -> bool:
    """Send a notification's e-mail once; True when it was sent now.

    The row is locked while sending, so two deliveries of the task cannot both send; `emailed_at`
    is set in the same transaction, so a redelivered task finds it set and sends nothing. If the
    mail server fails, the transaction rolls back and a retry sends it.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user", "user__preferences")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        user = notification.user
        if not (user.is_active and user.email and wants_email(user=user, kind=notification.kind)):
            return False
        notification_email_message(notification).send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


# Reading and marking read ----------------------------------------------------------------------


def notification_list(*, user: User) -> NotificationQuerySet:
    """The person's own notifications, newest first (others' are never listed)."""
    return Notification.objects.visible_to(user).order_by("-created_at", "-id")


def notification_get(*, user: User, pk: int) -> Notification:
    """One of the person's own notifications; anyone else's is a 404."""
    return get_object_or_404(Notification.objects.visible_to(user), pk=pk)


def notification_unread_count(*, user: User) -> int:
    """One query on a partial index (the bell on every page)."""
    return Notification.objects.visible_to(user).unread().count()


def notification_mark_read(*, notification: Notification, by: User) -> Notification:
    """Mark one of `by`'s notifications read (again is harmless: the first time is kept)."""
    if notification.user_id != by.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        now = timezone.now()
        updated = Notification.objects.filter(
            pk=notification.pk, user_id=by.pk, read_at__isnull=True
        ).update(read_at=now)
        notification.read_at = now if updated else notification.read_at
        if not updated:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_mark_all_read(*, by: User) -> int:
    """Mark all of `by`'s unread notifications read; returns how many."""
    return Notification.objects.visible_to(by).unread().update(read_at=timezone.now())


# Preferences ---------------------------------------------------------------------------------


def user_language(user: User) -> str:
    """The language a person reads in: their preference, else the site's default."""
    try:
        return user.preferences.language
    except UserPreferences.DoesNotExist:
        return settings.LANGUAGE_CODE


def _check_language(language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(
            {"language": _("Choose one of the product's languages.")}, code="invalid"
        )


def user_language_remember(*, user: User, language: str) -> UserPreferences:
    """Keep the language a person chose (language switch, preferences page)."""
    _check_language(language)
    preferences, _created = UserPreferences.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    user.preferences = preferences
    return preferences


def notification_preferences(*, user: User) -> dict[str, bool]:
    """E-mail on or off for every kind (on where the person never said otherwise)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {kind: chosen.get(kind, True) for kind in NotificationKind.values}


@transaction.atomic
def user_preferences_update(
    *, user: User, language: str | None = None, email: Mapping[str, bool] | None = None
) -> dict[str, bool]:
    """Change a person's language and/or e-mail per kind; returns e-mail per kind afterwards.

    Kinds left out of `email` keep their setting. An unknown language or kind changes nothing.
    """
    email = dict(email or {})
    unknown = sorted(set(email) - set(NotificationKind.values))
    if unknown:
        raise ValidationError(
            {"email": _("Unknown notification kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)}},
            code="invalid",
        )
    if language is not None:
        user_language_remember(user=user, language=language)
    if email:
        NotificationPreference.objects.bulk_create(
            [NotificationPreference(user=user, kind=kind, email=on) for kind, on in email.items()],
            update_conflicts=True,
            unique_fields=["user", "kind"],
            update_fields=["email"],
        )
    return notification_preferences(user=user)
