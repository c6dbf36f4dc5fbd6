"""Background work on clients: checking and applying imports (clients/imports.py), of every
import group (the catalogue's and contract prices' too: the job says which).

Each task takes a job id, re-reads the job and calls one service; the services only act on a job
in the state the task expects, so a task delivered twice does its work once.
"""

from __future__ import annotations

from collections.abc import Callable

from celery import Task, shared_task

from accounts_crm.tasks import TRANSIENT_DB_ERRORS
from clients import imports

MAX_RETRIES = 3
# A 5000-row file takes a minute or two to check (every row through full_clean and the services);
# the default task limit is sized for short jobs.
TIME_LIMIT = 15 * 60
LIMITS = {"time_limit": TIME_LIMIT, "soft_time_limit": TIME_LIMIT - 30}


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES, **LIMITS
)
def import_check(self: Task, job_id: int) -> None:
    """Dry-run every row of an uploaded import, for its preview."""
    _run(self, imports.import_job_check, job_id)


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES, **LIMITS
)
def import_apply(self: Task, job_id: int) -> None:
    """Write the valid rows of a checked import in one transaction, or nothing."""
    _run(self, imports.import_job_apply, job_id)


def _run(task: Task, service: Callable[..., object], job_id: int) -> None:
    try:
        service(job_id=job_id)
    except TRANSIENT_DB_ERRORS as error:
        if task.request.retries < MAX_RETRIES:
            raise task.retry(exc=error, countdown=2 ** (task.request.retries + 1)) from error
        imports.import_job_fail(job_id=job_id, error=error)
    except Exception as error:
        # The job's transaction is rolled back; say so on the job instead of polling forever.
        imports.import_job_fail(job_id=job_id, error=error)
        raise
