"""Background job of the dashboards: the daily commitment watch (accounts_crm/celery.py)."""

from __future__ import annotations

from celery import Task, shared_task

from accounts_crm.tasks import TRANSIENT_DB_ERRORS
from dashboards import commitment_watch as watch

MAX_RETRIES = 3


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    time_limit=600,
    soft_time_limit=540,
)
def commitment_watch(self: Task) -> int:
    """Tell the NAMs of contracts behind their commitment's pace; safe to run twice or at once
    (each notification has a unique key). Retries only when the database was unreachable."""
    try:
        return watch.commitment_watch()
    except TRANSIENT_DB_ERRORS as error:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error
        raise
