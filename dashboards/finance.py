"""Selectors of the finance dashboard: they compose billing's selectors and write nothing.

Every figure starts from `visible_to(user)` (directly or through a billing selector), so a team
lead's totals are the sums over the accounts they may see and finance and admin see the book.
Each figure is one SQL aggregate; the dashboard costs the same few queries whatever the size of
the book. Amounts are summed as stored: the book is kept in one currency (DEFAULT_CURRENCY).

Each figure carries the URL of the list that explains it (the invoice list or the review queue
with the filters of billing/filters.py), so the page can link every number and bar.

DSO (days sales outstanding), the count-back-free "simple" method:

    DSO = receivables today / credit sales of the last 90 days x 90

receivables: what open invoices still owe (receivables_aging's total: not yet due and overdue);
credit sales: gross of the invoices issued in the 90 days up to today (not cancelled) less the
gross of the credit notes issued (not cancelled) in the same days. No sales: no DSO (None).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts_crm.access import AnyUser
from accounts_crm.pages import list_url
from billing import selectors as billing_selectors
from billing.filters import in_revenue
from billing.models import OPEN_STATUSES, ZERO, Invoice, Payment

MONEY = billing_selectors.MONEY
DSO_WINDOW_DAYS = 90
TOP_OVERDUE_CLIENTS = 10
COLLECTED_MONTHS = 12


def invoice_list_url(**filters: object) -> str:
    """The invoice list filtered by InvoiceFilter's parameters."""
    return list_url("billing:invoice_list", **filters)


def review_queue_url(**filters: object) -> str:
    """The review queue filtered by FindingFilter's parameters."""
    return list_url("billing:review_queue", **filters)


@dataclass(frozen=True)
class Figure:
    """One number of the dashboard, with what it is and the list behind it."""

    key: str
    label: str
    value: Decimal | int
    url: str


def check_queue(*, user: AnyUser) -> list[Figure]:
    """Visible invoices waiting for the check (unchecked) and for review (flagged)."""
    waiting = (Invoice.CheckStatus.UNCHECKED, Invoice.CheckStatus.FLAGGED)
    # Grouped over the two statuses' rows only: read off the check status index.
    counts = dict.fromkeys(waiting, 0) | dict(
        Invoice.objects.visible_to(user)
        .filter(check_status__in=waiting)
        .order_by()
        .values("check_status")
        .annotate(n=Count("pk"))
        .values_list("check_status", "n")
    )
    return [
        Figure(
            "unchecked",
            str(Invoice.CheckStatus.UNCHECKED.label),
            counts[Invoice.CheckStatus.UNCHECKED],
            invoice_list_url(check_status=Invoice.CheckStatus.UNCHECKED),
        ),
        Figure(
            "flagged",
            str(Invoice.CheckStatus.FLAGGED.label),
            counts[Invoice.CheckStatus.FLAGGED],
            invoice_list_url(check_status=Invoice.CheckStatus.FLAGGED),
        ),
    ]


def findings_by_rule(*, user: AnyUser) -> list[dict[str, object]]:
    """Open findings per rule (count, invoices, amount at stake), the largest amount first,
    each with the rule's title and its filtered review queue."""
    from billing.checks import rule_for

    rows = list(billing_selectors.review_queue_by_rule(user=user))
    for row in rows:
        rule = rule_for(row["rule"])
        row["label"] = str(rule.title) if rule is not None else row["rule"]
        row["url"] = review_queue_url(rule=row["rule"])
    return rows


def aging_buckets(*, user: AnyUser, today: datetime.date | None = None) -> list[Figure]:
    """Overdue receivables by days past due, billing's aging summed over the book (one query):
    0-30, 31-60, 61-90 and over 90 days late, each linked to the overdue invoices it sums."""
    today = today or timezone.localdate()
    totals = billing_selectors.receivables_by_bucket(user=user, today=today)

    def days(n: int) -> str:
        return (today - datetime.timedelta(days=n)).isoformat()

    # "0-30 days late" is due from 30 days ago to yesterday (due today is not late yet).
    return [
        Figure("days_0_30", _("0-30 days late"), totals["days_0_30"],
               invoice_list_url(overdue="true", due_after=days(30), due_before=days(1))),
        Figure("days_31_60", _("31-60 days late"), totals["days_31_60"],
               invoice_list_url(overdue="true", due_after=days(60), due_before=days(31))),
        Figure("days_61_90", _("61-90 days late"), totals["days_61_90"],
               invoice_list_url(overdue="true", due_after=days(90), due_before=days(61))),
        Figure("days_over_90", _("Over 90 days late"), totals["days_over_90"],
               invoice_list_url(overdue="true", due_before=days(91))),
        Figure("total", _("Outstanding"), totals["total"], reverse("billing:receivables")),
    ]  # fmt: skip


def credit_sales(*, user: AnyUser, today: datetime.date | None = None) -> Decimal:
    """Gross invoiced in the DSO window (the 90 days up to today) less credit notes issued in it."""
    today = today or timezone.localdate()
    window = in_revenue() & Q(  # a cancelled invoice is left out with its credit notes
        issue_date__gt=today - datetime.timedelta(days=DSO_WINDOW_DAYS),
        issue_date__lte=today,
    )
    sums = (
        Invoice.objects.visible_to(user)
        .filter(window)
        .aggregate(
            invoiced=Coalesce(
                Sum("gross_total", filter=Q(kind=Invoice.Kind.INVOICE)),
                Value(ZERO),
                output_field=MONEY,
            ),
            credited=Coalesce(
                Sum("gross_total", filter=Q(kind=Invoice.Kind.CREDIT_NOTE)),
                Value(ZERO),
                output_field=MONEY,
            ),
        )
    )
    return sums["invoiced"] - sums["credited"]


def dso(*, receivables: Decimal, sales: Decimal) -> Decimal | None:
    """Days sales outstanding by the module's formula, to one decimal; None without sales."""
    if sales <= 0:
        return None
    return (receivables / sales * DSO_WINDOW_DAYS).quantize(Decimal("0.1"))


def collected_per_month(
    *, user: AnyUser, today: datetime.date | None = None
) -> list[dict[str, object]]:
    """Payments received per calendar month, the 12 months up to today's (oldest first, months
    without payments at 0). One grouped query; the 12 slots are filled in Python."""
    today = today or timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _month in range(COLLECTED_MONTHS):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    sums = dict(
        Payment.objects.visible_to(user)
        .filter(paid_on__gte=months[0], paid_on__lte=today)
        .annotate(month=TruncMonth("paid_on"))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    return [
        {"month": m, "total": sums.get(m, ZERO), "url": invoice_list_url(
            paid_after=m.isoformat(), paid_before=min(_month_end(m), today).isoformat())}
        for m in months
    ]  # fmt: skip


def _month_end(first: datetime.date) -> datetime.date:
    following = datetime.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


def top_overdue_clients(
    *, user: AnyUser, today: datetime.date | None = None, limit: int = TOP_OVERDUE_CLIENTS
) -> list[dict[str, object]]:
    """The clients owing the most on overdue invoices (outstanding past due), largest first,
    each linked to its overdue invoices."""
    today = today or timezone.localdate()
    overdue = billing_selectors.with_receivables(
        Invoice.objects.visible_to(user).filter(
            kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES, due_date__lt=today
        ),
        today,
    )
    # Largest first, so clients owing nothing (overdue invoices credited in full) come last and
    # are dropped here: a HAVING on the sum would compute every invoice's outstanding again.
    rows = [
        row
        for row in overdue.order_by()
        .values("client_id", "client__name")
        .annotate(overdue_amount=Sum("outstanding"), invoices=Count("pk"))
        .order_by("-overdue_amount", "client__name", "client_id")[:limit]
        if row["overdue_amount"] > 0
    ]
    for row in rows:
        row["url"] = invoice_list_url(client=row["client_id"], overdue="true")
    return rows


def finance_dashboard(*, user: AnyUser, today: datetime.date | None = None) -> dict[str, object]:
    """Every figure of the finance dashboard (six queries)."""
    today = today or timezone.localdate()
    aging = aging_buckets(user=user, today=today)
    receivables = aging[-1].value
    sales = credit_sales(user=user, today=today)
    return {
        "today": today,
        "currency": settings.DEFAULT_CURRENCY,
        "check_queue": check_queue(user=user),
        "findings_by_rule": findings_by_rule(user=user),
        "aging": aging[:-1],
        "receivables": receivables,
        "receivables_url": aging[-1].url,
        "credit_sales": sales,
        "dso": dso(receivables=receivables, sales=sales),
        "dso_window_days": DSO_WINDOW_DAYS,
        "collected": collected_per_month(user=user, today=today),
        "top_overdue": top_overdue_clients(user=user, today=today),
    }


def chart_data(dashboard: dict[str, object]) -> dict[str, object]:
    """What static/js/dashboards.js draws (read from json_script): labels, values (as strings,
    Decimal-exact) and the URL each bar opens."""
    aging: list[Figure] = dashboard["aging"]  # type: ignore[assignment]
    rules: list[dict[str, object]] = dashboard["findings_by_rule"]  # type: ignore[assignment]
    collected: list[dict[str, object]] = dashboard["collected"]  # type: ignore[assignment]
    top: list[dict[str, object]] = dashboard["top_overdue"]  # type: ignore[assignment]
    return {
        "aging": {
            "labels": [f.label for f in aging],
            "values": [str(f.value) for f in aging],
            "urls": [f.url for f in aging],
        },
        "findings": {
            "labels": [str(r["label"]) for r in rules],
            "values": [str(r["amount_at_stake"]) for r in rules],
            "urls": [r["url"] for r in rules],
        },
        "collected": {
            "labels": [r["month"].strftime("%Y-%m") for r in collected],
            "values": [str(r["total"]) for r in collected],
            "urls": [r["url"] for r in collected],
        },
        "top_overdue": {
            "labels": [str(r["client__name"]) for r in top],
            "values": [str(r["overdue_amount"]) for r in top],
            "urls": [r["url"] for r in top],
        },
    }
