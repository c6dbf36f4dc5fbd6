"""Background jobs of delivery: the periodic deadline scan (scheduled in accounts_crm/celery.py)."""

from __future__ import annotations

from celery import Task, shared_task

from accounts_crm.tasks import TRANSIENT_DB_ERRORS
from projects import deadlines

# Transient database errors are retried (accounts_crm.tasks.TRANSIENT_DB_ERRORS); anything else
# is left to the next scheduled run and the logs.
SCAN_MAX_RETRIES = 3
# The scan of a large book takes seconds; a scan still running after this is stuck. It is well
# under the broker's visibility timeout, so an acked-late scan is not redelivered while it runs.
SCAN_TIME_LIMIT = 600
SCAN_SOFT_TIME_LIMIT = 540


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=SCAN_MAX_RETRIES,
    time_limit=SCAN_TIME_LIMIT,
    soft_time_limit=SCAN_SOFT_TIME_LIMIT,
)
def deadline_scan(self: Task) -> dict[str, int]:
    """Notify the deadlines that reached a threshold; returns the notifications created per kind.

    Safe to run twice, concurrently, or again after a worker died mid-run: every effect is a
    notification with a unique (user, key), inserted with ON CONFLICT DO NOTHING. The message is
    acknowledged only after the scan (acks_late) and given back to the broker when the worker is
    lost (reject_on_worker_lost), so a killed scan is run again to the end by another worker.
    """
    try:
        return deadlines.deadline_scan().created
    except TRANSIENT_DB_ERRORS as error:
        if self.request.retries < SCAN_MAX_RETRIES:
            # 30 s, 1 min, 2 min: then the next scheduled scan takes over.
            raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
        raise
