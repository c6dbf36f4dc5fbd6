from __future__ import annotations

from celery import shared_task
from django.core.management import call_command
from django.utils import timezone

from accounts_crm.models import Heartbeat


@shared_task
def heartbeat(*, source: str = Heartbeat.Source.WORKER) -> str:
    """Record that a worker ran a task (sent by beat every minute); idempotent by its unique key."""
    Heartbeat.objects.update_or_create(source=source, defaults={"last_seen": timezone.now()})
    return source


@shared_task
def clear_expired_sessions() -> None:
    call_command("clearsessions")
