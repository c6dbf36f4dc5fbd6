"""Background jobs of billing: the invoice check, enqueued on commit by every invoice change, and
the nightly check of the whole open book (beat entry in accounts_crm/celery.py). The daily payment
watch (billing/payment_watch.py, beat entry there too) tells NAMs and finance of overdue invoices.

The rules engine lives in billing/checks.py (`check_invoices(ids)`); it is imported when the task
runs, so that a worker without it fails loudly (ImportError) instead of reporting a clean check.
"""

from __future__ import annotations

import importlib

from celery import Task, shared_task

from accounts_crm.tasks import TRANSIENT_DB_ERRORS

CHECK_MAX_RETRIES = 3
CHECK_TIME_LIMIT = 120
CHECK_SOFT_TIME_LIMIT = 100
# The whole book: minutes, not hours (see the benchmark figures in billing/checks.py's note).
NIGHTLY_TIME_LIMIT = 60 * 60
NIGHTLY_SOFT_TIME_LIMIT = 55 * 60


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=CHECK_MAX_RETRIES,
    time_limit=CHECK_TIME_LIMIT,
    soft_time_limit=CHECK_SOFT_TIME_LIMIT,
)
def invoice_check(self: Task, invoice_ids: list[int]) -> object:
    """Run the invoice checks on `invoice_ids` (re-read from the database).

    Safe to run twice: the checks upsert findings on unique (invoice, rule, key). Retries with
    backoff only when the database was unreachable; anything else is a bug and is raised.
    """
    checks = importlib.import_module("billing.checks")
    try:
        return checks.check_invoices(list(invoice_ids))
    except TRANSIENT_DB_ERRORS as error:
        if self.request.retries < CHECK_MAX_RETRIES:
            raise self.retry(exc=error, countdown=10 * 2**self.request.retries) from error
        raise


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=CHECK_MAX_RETRIES,
    time_limit=NIGHTLY_TIME_LIMIT,
    soft_time_limit=NIGHTLY_SOFT_TIME_LIMIT,
)
def invoice_check_nightly(self: Task) -> object:
    """The nightly batch: every rule over the whole open book (drafts and issued invoices not
    fully paid), set-based. Safe to run twice (same upsert as the per-invoice check)."""
    checks = importlib.import_module("billing.checks")
    try:
        return checks.check_open_book()
    except TRANSIENT_DB_ERRORS as error:
        if self.request.retries < CHECK_MAX_RETRIES:
            raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error
        raise


# The payment watch (billing/payment_watch.py): a set-based scan of the whole book in seconds; one
# still running after this is stuck. Well under the broker's visibility timeout (acks_late).
WATCH_MAX_RETRIES = 3
WATCH_TIME_LIMIT = 10 * 60
WATCH_SOFT_TIME_LIMIT = 9 * 60


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=WATCH_MAX_RETRIES,
    time_limit=WATCH_TIME_LIMIT,
    soft_time_limit=WATCH_SOFT_TIME_LIMIT,
)
def payment_watch(self: Task) -> dict[str, object]:
    """Notify the NAMs and finance of overdue invoices that reached a threshold; returns the
    overdue invoices per threshold and the notifications created.

    Safe to run twice, concurrently, or again after a worker died mid-run: every effect is a
    notification with a unique (user, key), inserted with ON CONFLICT DO NOTHING. Retries with
    backoff only when the database was unreachable; anything else is a bug and is raised (the
    next daily run tries again).
    """
    watch = importlib.import_module("billing.payment_watch")
    try:
        return watch.payment_watch().as_dict()
    except TRANSIENT_DB_ERRORS as error:
        if self.request.retries < WATCH_MAX_RETRIES:
            # 1, 2, 4 minutes: then tomorrow's run takes over.
            raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error
        raise
