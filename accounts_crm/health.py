"""Health checks beyond django-health-check's own: the broker and the beat scheduler.

The endpoint (`/health/`) lists database, cache, broker, workers (Celery ping) and beat, and
answers 500 when any of them fails, so a load balancer or an operator sees which piece is down.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db import connection
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from accounts_crm.celery import app as celery_app
from accounts_crm.models import Heartbeat


@dataclasses.dataclass
class Broker(HealthCheck):
    """The broker accepts a connection (Redis, or the filesystem transport's folders)."""

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=2), repr=False
    )

    def run(self) -> None:
        try:
            with celery_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as error:
            raise ServiceUnavailable(f"Broker unreachable: {type(error).__name__}") from error


@dataclasses.dataclass
class Beat(HealthCheck):
    """Beat sends a heartbeat task every minute; a stale one means beat or every worker is down."""

    max_age: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(minutes=3), repr=False
    )

    def run(self) -> None:
        try:
            beat = Heartbeat.objects.filter(source=Heartbeat.Source.BEAT).first()
        finally:
            # Checks run in the view's worker threads; do not leave a connection open in one.
            connection.close()
        if beat is None:
            raise ServiceUnavailable("No heartbeat from beat yet")
        age = timezone.now() - beat.last_seen
        if age > self.max_age:
            raise ServiceUnavailable(f"Last beat heartbeat {int(age.total_seconds())}s ago")
