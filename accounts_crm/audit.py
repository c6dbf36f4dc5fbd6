"""The audit trail: every change to a tracked table, bulk updates included, with who and where.

django-pghistory installs PostgreSQL triggers, so a `QuerySet.update()` or a raw SQL update is
recorded as surely as a `save()`. HistoryMiddleware attaches the request's user and URL; Celery
tasks and commands attach theirs with `audit_context(...)`.
"""

from __future__ import annotations

from typing import Any

import pghistory
from django.db import models
from pghistory.models import Events

# Bookkeeping columns change on every save; in the trail they would only hide the real change.
UNAUDITED_FIELDS = ("created_at", "updated_at")


def audited(*, exclude: tuple[str, ...] = (), **options: Any) -> Any:
    """Class decorator for a domain model: record inserts, updates (with old/new) and deletes.

    An update that changes only unaudited fields records nothing.
    """
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=[*UNAUDITED_FIELDS, *exclude],
        **options,
    )


def audit_context(**context: Any) -> Any:
    """Context manager naming who or what makes the changes inside it (a task, a command)."""
    return pghistory.context(**context)


def audit_trail(obj: models.Model) -> models.QuerySet:
    """Events of one object, newest first, each with its diff (`pgh_diff`) and context."""
    return Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")
