"""The payment watch: overdue receivables that find people, once per threshold.

`payment_watch()` (run by the Celery task `billing.tasks.payment_watch`, daily from beat) looks at
the whole book and tells the billed client's active NAMs and every active finance user about each
invoice that is past its due date and still owed money:

- invoices only (a credit note owes nothing: it reduces what its invoice owes), issued or
  partially paid (`Invoice.objects.overdue()`: drafts, paid and cancelled invoices drop out);
- with something still outstanding: gross - paid - issued credit notes > 0, by the one rule of
  `billing.selectors.with_receivables` (an invoice credited in full owes nothing);
- overdue by at least one of PAYMENT_WATCH_THRESHOLDS days.

Once per threshold, and no lock: each notice's key names the effect,
``payment:<invoice id>:overdue-<days>d:<the due date>`` (for example
``payment:42:overdue-30d:2026-11-02``), and the notification service inserts with
``ON CONFLICT (user, key) DO NOTHING``. A second run the same day, or a second worker at the
same time, creates nothing; a crash leaves nothing behind that could block the next run. A moved
due date changes the key, so the invoice is announced again against its new date. An invoice
first seen late (a run was missed, or it was loaded already overdue) is announced at the highest
threshold it has reached, not at every threshold it skipped: 45 days overdue gets the 30-day
notice only, and the 60-day one a fortnight later.

Set-based: one query reads the overdue invoices with their client and outstanding amount, one the
active NAMs of those clients, one the finance users, and the notification service writes
everything with one INSERT (three queries), all in one transaction. The number of queries does
not grow with the number of overdue invoices.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts_crm.access import Role
from accounts_crm.models import NotificationKind
from accounts_crm.money import format_money
from accounts_crm.notifications import Notice, notify_many
from billing.models import Invoice
from billing.selectors import with_receivables
from clients.selectors import active_nams

logger = logging.getLogger(__name__)

# Days past the due date at which an unpaid invoice is announced (again): the day after it fell
# due, then after a month, two and three months. Each is announced once per due date; a run
# announces only the highest one reached. Keep it sorted.
PAYMENT_WATCH_THRESHOLDS: tuple[int, ...] = (1, 30, 60, 90)

MESSAGE = _(
    "Invoice %(number)s of %(client)s is %(overdue)s overdue (due on %(due)s): "
    "%(outstanding)s still to be paid."
)


def threshold_for(days_overdue: int) -> int | None:
    """The highest threshold an invoice `days_overdue` days past its due date has reached."""
    reached = [days for days in PAYMENT_WATCH_THRESHOLDS if days_overdue >= days]
    return max(reached) if reached else None


def payment_key(invoice_id: int, threshold: int, due_date: datetime.date) -> str:
    return f"payment:{invoice_id}:overdue-{threshold}d:{due_date.isoformat()}"


def _days(days: int) -> str:
    return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}


# Rendered by the notification service in each recipient's language (plural and number format).
_days_lazy = lazy(_days, str)
_money_lazy = lazy(format_money, str)


@dataclass
class WatchResult:
    """What one run saw and created: overdue invoices per threshold reached, notifications."""

    invoices: dict[int, int] = field(default_factory=dict)
    created: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"invoices": {str(k): v for k, v in self.invoices.items()}, "created": self.created}


def payment_watch(*, today: datetime.date | None = None) -> WatchResult:
    """Tell the NAMs and finance about every overdue invoice that reached a threshold; safe to run
    any time, twice, or in two workers at once (see the module docstring)."""
    today = today or timezone.localdate()
    result = WatchResult()
    # One transaction: the e-mails are enqueued when the rows are committed, none for a rollback.
    with transaction.atomic():
        rows = _overdue_invoices(today)
        if rows:
            notices = _notices(rows, today, result)
            result.created = len(notify_many(notices=notices))
    logger.info("payment watch on %s: %s", today, result.as_dict())
    return result


def _overdue_invoices(today: datetime.date) -> list[dict]:
    """Invoices overdue by at least the first threshold with something still owed (one query)."""
    first = datetime.timedelta(days=PAYMENT_WATCH_THRESHOLDS[0])
    invoices = Invoice.objects.overdue(today).filter(
        kind=Invoice.Kind.INVOICE, due_date__lte=today - first
    )
    return list(
        with_receivables(invoices, today)
        .filter(outstanding__gt=0)
        .values(
            "pk", "series", "year", "number", "due_date", "currency", "client_id", "outstanding",
            client_name=F("client__name"),
        )
        .order_by("due_date", "pk")
    )  # fmt: skip


def _finance() -> set[int]:
    """Ids of the active finance users (one query)."""
    return set(
        User.objects.filter(is_active=True, groups__name=Role.FINANCE).values_list("pk", flat=True)
    )


def _notices(rows: list[dict], today: datetime.date, result: WatchResult) -> list[Notice]:
    nams = active_nams((row["client_id"] for row in rows), today)
    finance = _finance()
    notices = []
    for row in rows:
        days_overdue = (today - row["due_date"]).days
        threshold = threshold_for(days_overdue)
        if threshold is None:  # the query already asks for the first threshold
            continue
        result.invoices[threshold] = result.invoices.get(threshold, 0) + 1
        number = Invoice(series=row["series"], year=row["year"], number=row["number"])
        params = {
            "number": number.display_number,
            "client": row["client_name"],
            "outstanding": _money_lazy(row["outstanding"], row["currency"]),
            "overdue": _days_lazy(days_overdue),
            "days": days_overdue,
            "due": row["due_date"],
        }
        key = payment_key(row["pk"], threshold, row["due_date"])
        url = reverse("billing:invoice_detail", args=[row["pk"]])
        target = Invoice(pk=row["pk"])
        notices += [
            Notice(
                user=user, kind=NotificationKind.PAYMENT_OVERDUE, key=key, message=MESSAGE,
                params=params, target=target, url=url,
            )
            for user in sorted(finance | nams.get(row["client_id"], set()))
        ]  # fmt: skip
    return notices


__all__ = [
    "PAYMENT_WATCH_THRESHOLDS",
    "WatchResult",
    "payment_key",
    "payment_watch",
    "threshold_for",
]
