from __future__ import annotations

import smtplib

from celery import Task, shared_task
from django.core.management import call_command
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from accounts_crm import notifications
from accounts_crm.models import Heartbeat


@shared_task
def heartbeat(*, source: str = Heartbeat.Source.WORKER) -> str:
    """Record that a worker ran a task (sent by beat every minute); idempotent by its unique key."""
    Heartbeat.objects.update_or_create(source=source, defaults={"last_seen": timezone.now()})
    return source


@shared_task
def clear_expired_sessions() -> None:
    call_command("clearsessions")


# Worth another try for any task: the database was unreachable, restarting or hung up. A bug or bad
# data will not get better by retrying.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)


# Notification e-mail -------------------------------------------------------------------------

# Worth another try: the mail server or the database was unreachable, busy or hung up. A refused
# address or a template error will not get better and is not retried.
TRANSIENT_MAIL_ERRORS = (
    ConnectionError,
    TimeoutError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    OperationalError,
    InterfaceError,
)
MAIL_MAX_RETRIES = 5


def is_transient_mail_error(error: BaseException) -> bool:
    if isinstance(error, TRANSIENT_MAIL_ERRORS):
        return True
    # 4xx answers ("mailbox busy", "try again later") are temporary by SMTP's definition.
    return isinstance(error, smtplib.SMTPResponseException) and 400 <= error.smtp_code < 500


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAIL_MAX_RETRIES,
    time_limit=120,
    soft_time_limit=90,
)
def send_notification_email(self: Task, notification_id: int) -> bool:
    """E-mail one notification; safe to run twice (it sends only while `emailed_at` is empty)."""
    try:
        return notifications.notification_email_send(notification_id=notification_id)
    except Exception as error:
        if is_transient_mail_error(error) and self.request.retries < MAIL_MAX_RETRIES:
            # 30 s, 1 min, 2 min, 4 min, 8 min.
            raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
        raise
