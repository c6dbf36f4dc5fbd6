"""The deadline scan: deadlines that find people, once per threshold.

`deadline_scan()` (run by the Celery task `projects.tasks.deadline_scan`, every 15 minutes from
beat) looks at the whole book and notifies:

| kind | when | who |
| --- | --- | --- |
| milestone | 7 days before, 1 day before (or on the day), overdue | owner, project manager, NAM |
| milestone | overdue by more than DEADLINE_ESCALATION_DAYS days | team lead of the client's team |
| task | as milestones (tasks with a due date) | assignee, project manager, NAM |
| task | overdue by more than DEADLINE_ESCALATION_DAYS days | team lead |
| contract | its renewal notice period has started (end - notice days) | NAM, team lead |
| service case | open past its SLA due time | assignee, NAM |
| reorder | due by the client's own rhythm (orders/suggestions.py) | NAM |

Only open work counts: milestones and tasks of open projects, not completed or done; active
contracts that have not ended; open cases. "NAM" is every active NAM of the client on the day.

Once per threshold, and no lock: each notice's key names the effect,
``<kind>:<id>:<threshold>:<the due date it refers to>`` (for example
``milestone:42:due-7d:2026-12-04``), and the notification service inserts with
``ON CONFLICT (user, key) DO NOTHING``. A second run, or a second worker running at the same time,
finds the rows and creates nothing; a crash leaves nothing behind that could block the next run.
Moving a due date changes the key, so the new date is announced again. A deadline first seen late
(created 1 day before it is due, or after a scan was missed) is announced at the threshold it has
reached, not at every threshold it skipped.

Set-based: per kind, one query reads the work with its people (owner, manager, client, team
lead), one reads the NAMs of those clients, and the notification service writes everything with
one INSERT (three queries); reorders add the three queries of `reorders_due`. The number of
queries does not grow with the number of milestones, tasks, contracts or cases.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import whole_book_reader
from accounts_crm.models import NotificationKind
from accounts_crm.notifications import Notice, notify_many
from clients.selectors import active_nams
from orders.models import Contract
from orders.suggestions import reorders_due
from projects.models import Milestone, Project, ServiceCase, Task

logger = logging.getLogger(__name__)

# The thresholds of a dated deadline (milestones, tasks): name -> days before the due date from
# which it applies. The scan announces the nearest threshold reached, once: 7 to 2 days left is
# "due-7d", 1 or 0 days left (due tomorrow or today) "due-1d", past the due date "overdue".
# Overdue for more than settings.DEADLINE_ESCALATION_DAYS days adds "escalated" (team lead).
DEADLINE_THRESHOLDS: dict[str, int] = {"due-7d": 7, "due-1d": 1}
OVERDUE = "overdue"
ESCALATED = "escalated"
RENEWAL_NOTICE = "renewal-notice"
PAST_SLA = "past-sla"
REORDER = "due"

HORIZON_DAYS = max(DEADLINE_THRESHOLDS.values())


def threshold_for(days_left: int) -> str | None:
    """The threshold a deadline `days_left` days away has reached (None: not yet)."""
    if days_left < 0:
        return OVERDUE
    reached = [(days, name) for name, days in DEADLINE_THRESHOLDS.items() if days_left <= days]
    return min(reached)[1] if reached else None


def escalation_days() -> int:
    return settings.DEADLINE_ESCALATION_DAYS


# "Due %(when)s" for the last threshold (rendered in each recipient's language).
WHEN = {0: _("today"), 1: _("tomorrow")}

MESSAGES = {
    ("milestone", "due-7d"): _(
        "Milestone %(name)s of %(project)s (%(client)s) is due on %(due)s, in %(days)s days."
    ),
    ("milestone", "due-1d"): _(
        "Milestone %(name)s of %(project)s (%(client)s) is due %(when)s, %(due)s."
    ),
    ("milestone", OVERDUE): _(
        "Milestone %(name)s of %(project)s (%(client)s) is overdue: it was due on %(due)s."
    ),
    ("milestone", ESCALATED): _(
        "Milestone %(name)s of %(project)s (%(client)s) is %(days)s days overdue (due on %(due)s)."
    ),
    ("task", "due-7d"): _(
        "Task %(name)s of %(project)s (%(client)s) is due on %(due)s, in %(days)s days."
    ),
    ("task", "due-1d"): _("Task %(name)s of %(project)s (%(client)s) is due %(when)s, %(due)s."),
    ("task", OVERDUE): _(
        "Task %(name)s of %(project)s (%(client)s) is overdue: it was due on %(due)s."
    ),
    ("task", ESCALATED): _(
        "Task %(name)s of %(project)s (%(client)s) is %(days)s days overdue (due on %(due)s)."
    ),
    ("contract", RENEWAL_NOTICE): _(
        "Contract %(number)s with %(client)s ends on %(due)s: its %(notice)s-day renewal "
        "notice period has started."
    ),
    ("case", PAST_SLA): _(
        "Service case %(name)s of %(client)s is past its SLA: it was due at %(due)s."
    ),
    ("reorder", REORDER): _(
        "%(client)s should reorder %(product)s by %(due)s (it usually buys it every "
        "%(interval)s days)."
    ),
}


@dataclass
class ScanResult:
    """What one scan created, per kind (notifications, not deadlines)."""

    created: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def deadline_scan(
    *, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> ScanResult:
    """Notify everyone of every deadline that reached a threshold; safe to run any time, twice,
    or in two workers at once (see the module docstring)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    result = ScanResult()
    for kind, notices in (
        ("milestone", lambda: _milestone_notices(today)),
        ("task", lambda: _task_notices(today)),
        ("contract", lambda: _contract_notices(today)),
        ("case", lambda: _case_notices(now)),
        ("reorder", lambda: _reorder_notices(today)),
    ):
        # One transaction per kind: its e-mails are enqueued when its rows are committed, and a
        # failure later in the scan does not take back what was already told (the rerun skips it).
        with transaction.atomic():
            result.created[kind] = len(notify_many(notices=notices()))
    logger.info("deadline scan on %s: %s", today, result.created)
    return result


# People ----------------------------------------------------------------------------------------


def _people(*ids: int | None, extra: Iterable[int] = ()) -> list[int]:
    return sorted({pk for pk in (*ids, *extra) if pk is not None})


# Links -----------------------------------------------------------------------------------------


def _link(*candidates: tuple[str, int, str]) -> str:
    """The first of (URL name, pk, #anchor) that resolves, else "" (the pages may not exist yet:
    the notification is still worth having without a link)."""
    for name, pk, anchor in candidates:
        try:
            return reverse(name, args=[pk]) + anchor
        except NoReverseMatch:
            continue
    return ""


def _project_child_link(kind: str, pk: int, project_id: int) -> str:
    return _link(
        (f"projects:{kind}_detail", pk, ""),
        ("projects:project_detail", project_id, f"#{kind}-{pk}"),
    )


# Milestones and tasks --------------------------------------------------------------------------


def _dated_notices(
    kind: str,
    model: type[models.Model],
    notification_kind: NotificationKind,
    rows: Iterable[dict],
    today: datetime.date,
    recipients_field: str,
) -> list[Notice]:
    rows = list(rows)
    nams = active_nams((row["client_id"] for row in rows), today)
    late_after = escalation_days()
    notices = []
    for row in rows:
        days_left = (row["due_on"] - today).days
        threshold = threshold_for(days_left)
        if threshold is None:
            continue
        target = model(pk=row["pk"])
        key = f"{kind}:{row['pk']}:{{}}:{row['due_on'].isoformat()}"
        url = _project_child_link(kind, row["pk"], row["project_id"])
        params = {
            "name": row["name"],
            "project": row["project_name"],
            "client": row["client_name"],
            "due": row["due_on"],
            "days": abs(days_left),
            "when": WHEN.get(days_left, ""),
        }
        people = _people(
            row[recipients_field], row["manager_id"], extra=nams.get(row["client_id"], ())
        )
        notices += [
            Notice(
                user=user, kind=notification_kind, key=key.format(threshold),
                message=MESSAGES[kind, threshold], params=params, target=target, url=url,
            )
            for user in people
        ]  # fmt: skip
        if -days_left > late_after and row["lead_id"] is not None:
            notices.append(
                Notice(
                    user=row["lead_id"], kind=notification_kind, key=key.format(ESCALATED),
                    message=MESSAGES[kind, ESCALATED], params=params, target=target, url=url,
                )
            )  # fmt: skip
    return notices


def _milestone_notices(today: datetime.date) -> list[Notice]:
    rows = (
        Milestone.objects.open()
        .filter(
            project__status__in=Project.OPEN_STATUSES,
            due_on__lte=today + datetime.timedelta(days=HORIZON_DAYS),
        )
        .values(
            "pk", "name", "due_on", "owner_id", "project_id",
            project_name=F("project__name"), manager_id=F("project__manager_id"),
            client_id=F("project__client_id"), client_name=F("project__client__name"),
            lead_id=F("project__client__team__lead_id"),
        )
        .order_by("due_on", "pk")
    )  # fmt: skip
    return _dated_notices(
        "milestone", Milestone, NotificationKind.MILESTONE_DUE, rows, today, "owner_id"
    )


def _task_notices(today: datetime.date) -> list[Notice]:
    rows = (
        Task.objects.open()
        .filter(
            project__status__in=Project.OPEN_STATUSES,
            due_on__isnull=False,
            due_on__lte=today + datetime.timedelta(days=HORIZON_DAYS),
        )
        .values(
            "pk", "due_on", "assignee_id", "project_id", name=F("title"),
            project_name=F("project__name"), manager_id=F("project__manager_id"),
            client_id=F("project__client_id"), client_name=F("project__client__name"),
            lead_id=F("project__client__team__lead_id"),
        )
        .order_by("due_on", "pk")
    )  # fmt: skip
    return _dated_notices("task", Task, NotificationKind.TASK_DUE, rows, today, "assignee_id")


# Contracts -------------------------------------------------------------------------------------


def _contract_notices(today: datetime.date) -> list[Notice]:
    """Active contracts that have not ended and whose notice date (end - notice days) has come."""
    notice_starts = models.ExpressionWrapper(
        F("ends_on") - F("renewal_notice_days"), output_field=models.DateField()
    )
    rows = list(
        Contract.objects.filter(status=Contract.Status.ACTIVE, ends_on__gte=today)
        .alias(notice_starts=notice_starts)
        .filter(notice_starts__lte=today)
        .values(
            "pk", "number", "ends_on", "renewal_notice_days", "client_id",
            client_name=F("client__name"), lead_id=F("client__team__lead_id"),
        )
        .order_by("ends_on", "pk")
    )  # fmt: skip
    nams = active_nams((row["client_id"] for row in rows), today)
    notices = []
    for row in rows:
        params = {
            "number": row["number"],
            "client": row["client_name"],
            "due": row["ends_on"],
            "notice": row["renewal_notice_days"],
        }
        url = _link(("orders:contract_detail", row["pk"], ""))
        notices += [
            Notice(
                user=user, kind=NotificationKind.CONTRACT_RENEWAL,
                key=f"contract:{row['pk']}:{RENEWAL_NOTICE}:{row['ends_on'].isoformat()}",
                message=MESSAGES["contract", RENEWAL_NOTICE], params=params,
                target=Contract(pk=row["pk"]), url=url,
            )
            for user in _people(row["lead_id"], extra=nams.get(row["client_id"], ()))
        ]  # fmt: skip
    return notices


# Service cases ---------------------------------------------------------------------------------


def _case_notices(now: datetime.datetime) -> list[Notice]:
    rows = list(
        ServiceCase.objects.past_sla(now)
        .values(
            "pk", "subject", "sla_due", "assignee_id", "client_id",
            client_name=F("client__name"),
        )
        .order_by("sla_due", "pk")
    )  # fmt: skip
    nams = active_nams((row["client_id"] for row in rows), timezone.localdate(now))
    notices = []
    for row in rows:
        due = row["sla_due"].astimezone(datetime.UTC)
        params = {"name": f"#{row['pk']} {row['subject']}", "client": row["client_name"],
                  "due": row["sla_due"]}  # fmt: skip
        url = _link(
            ("projects:case_detail", row["pk"], ""),
            ("projects:servicecase_detail", row["pk"], ""),
        )
        notices += [
            Notice(
                user=user, kind=NotificationKind.CASE_SLA,
                key=f"case:{row['pk']}:{PAST_SLA}:{due:%Y-%m-%dT%H:%M:%SZ}",
                message=MESSAGES["case", PAST_SLA], params=params,
                target=ServiceCase(pk=row["pk"]), url=url,
            )
            for user in _people(row["assignee_id"], extra=nams.get(row["client_id"], ()))
        ]  # fmt: skip
    return notices


# Reorders --------------------------------------------------------------------------------------


def _reorder_notices(today: datetime.date) -> list[Notice]:
    """Reorders due on the whole book: `reorders_due` once (three queries), not per client."""
    due = reorders_due(user=whole_book_reader("deadline-scan"), on=today)
    nams = active_nams((item.client.pk for item in due), today)
    notices = []
    for item in due:
        params = {
            "client": item.client.name,
            "product": item.product.name,
            "due": item.due_on,
            "interval": item.interval_days,
        }
        url = _link(("clients:client_detail", item.client.pk, "#reorders"))
        notices += [
            Notice(
                user=user, kind=NotificationKind.REORDER_DUE,
                key=f"reorder:{item.client.pk}:{item.product.pk}:{REORDER}:"
                f"{item.due_on.isoformat()}",
                message=MESSAGES["reorder", REORDER], params=params, target=item.client, url=url,
            )
            for user in sorted(nams.get(item.client.pk, ()))
        ]  # fmt: skip
    return notices


__all__ = [
    "DEADLINE_THRESHOLDS",
    "ESCALATED",
    "OVERDUE",
    "ScanResult",
    "deadline_scan",
    "threshold_for",
]
