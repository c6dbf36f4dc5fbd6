"""The Celery app. Configuration is in settings (CELERY_*); the beat schedule is here, in code."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accounts_crm.settings")

app = Celery("accounts_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Exactly one beat process runs this schedule (the run command starts one; see README, "Scale out").
app.conf.beat_schedule = {
    "beat-heartbeat": {
        "task": "accounts_crm.tasks.heartbeat",
        "schedule": 60.0,
        "kwargs": {"source": "beat"},
    },
    # Deadlines that find people (projects/deadlines.py). A scan not started within its own
    # period is dropped: the next one does the same work.
    "deadline-scan": {
        "task": "projects.tasks.deadline_scan",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    # The invoice checks over the whole open book (billing/checks.py), once a night.
    "invoice-check-nightly": {
        "task": "billing.tasks.invoice_check_nightly",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
    # Overdue receivables to the NAMs and finance (billing/payment_watch.py), each morning before
    # office hours. Once per threshold by its keys: a late or repeated run tells nobody twice.
    "payment-watch": {
        "task": "billing.tasks.payment_watch",
        "schedule": crontab(hour=7, minute=15),
        "options": {"expires": 6 * 60 * 60},
    },
    # Contracts behind their commitment's pace, to their NAMs (dashboards/commitment_watch.py).
    "commitment-watch": {
        "task": "dashboards.tasks.commitment_watch",
        "schedule": crontab(hour=7, minute=30),
        "options": {"expires": 6 * 3600},
    },
    "clear-expired-sessions": {
        "task": "accounts_crm.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
}
