"""Account health: one score per client, 0 to 100, with the reasons behind it.

The formula (every client starts at 100; each signal takes off points, capped per signal; the
score never goes below 0):

- late milestones (open, due before today): 8 points each, at most 24;
- overdue receivables (open invoices past due with something still owed): 10 points when any,
  20 when the oldest is more than 60 days past due;
- open invoice check findings: 6 per error, 2 per warning, at most 18;
- service cases open past their SLA: 7 each, at most 21;
- days since the last activity: more than 30 days 5, more than 60 days 10, more than 90 days
  (or no activity at all) 15;
- revenue vs the account plan target of today's year: the net ordered this year (orders
  confirmed, in progress or fulfilled, dated from 1 January to today) against the target
  pro-rated to today (target x day of the year / days in the year): below 90% 10 points,
  below 60% 20; no plan or a zero target takes nothing off.

The most a client can lose is 118 points, so a client in trouble everywhere scores 0.

Bands: good from 75 up, watch from 50 to 74, at risk below 50.

There is no notion of a dispute in the data model yet (an invoice the client contests); open
check findings are the nearest signal, so they carry it. When disputes exist they join that row.

Everything is read set-based: the visible clients, then one grouped query per signal (eight
queries), whatever the number of clients. Every row counted hangs off a visible client, so a
viewer's figures only ever count what they may see.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts_crm.access import AnyUser
from accounts_crm.money import format_money, quantize
from billing.models import CheckFinding, Invoice
from billing.selectors import with_receivables
from clients.models import AccountPlan, Activity, Client
from orders.models import OrderLine
from orders.selectors import line_net_expression
from projects.models import Milestone, ServiceCase

# The formula, in one place (the module docstring is its documentation).
LATE_MILESTONE_POINTS, LATE_MILESTONE_CAP = 8, 24
OVERDUE_POINTS, OVERDUE_LONG_POINTS, OVERDUE_LONG_DAYS = 10, 20, 60
FINDING_ERROR_POINTS, FINDING_WARNING_POINTS, FINDING_CAP = 6, 2, 18
SLA_BREACH_POINTS, SLA_BREACH_CAP = 7, 21
# (more than N days without activity, points off), checked from the largest.
SILENCE_STEPS = ((90, 15), (60, 10), (30, 5))
REVENUE_STEPS = ((Decimal("0.60"), 20), (Decimal("0.90"), 10))  # (below this share, points)
GOOD_FROM, WATCH_FROM = 75, 50

# Orders that count as revenue ordered (the client committed to them).
ORDERED_STATUSES = ("confirmed", "in_progress", "fulfilled")

BANDS = {
    "good": gettext_lazy("Good"),
    "watch": gettext_lazy("Watch"),
    "at_risk": gettext_lazy("At risk"),
}


@dataclass(frozen=True)
class Health:
    """A client's score, its band (`good`, `watch`, `at_risk`), the reasons (translated
    sentences with the numbers, largest penalty first) and the raw signals for links."""

    client_id: int
    score: int
    band: str
    reasons: list[str] = field(default_factory=list)
    signals: dict[str, object] = field(default_factory=dict)

    @property
    def band_label(self) -> str:
        return str(BANDS[self.band])


def band_of(score: int) -> str:
    if score >= GOOD_FROM:
        return "good"
    if score >= WATCH_FROM:
        return "watch"
    return "at_risk"


def _grouped(queryset: QuerySet, group: str, **aggregates: object) -> dict[int, dict]:
    rows = queryset.order_by().values(group).annotate(**aggregates)
    return {row.pop(group): row for row in rows}


def health_signals(
    client_ids: list[int], *, today: datetime.date, now: datetime.datetime
) -> dict[int, SimpleNamespace]:
    """The raw signals of the formula for `client_ids`, one grouped query per signal.

    Grouped queries over the signal tables, not a correlated subquery per client: on the large
    book the single-query shape is estimated so costly that PostgreSQL JIT-compiles it, which
    alone takes longer than running eight small queries."""
    year_start = datetime.date(today.year, 1, 1)
    late = _grouped(
        Milestone.objects.overdue(today).filter(project__client__in=client_ids),
        "project__client",
        late_milestones=Count("pk"),
    )
    overdue = _grouped(
        with_receivables(
            Invoice.objects.overdue(today).filter(client__in=client_ids, kind=Invoice.Kind.INVOICE),
            today,
        ).filter(outstanding__gt=0),
        "client",
        overdue_amount=Sum("outstanding"),
        overdue_oldest_due=Min("due_date"),
        overdue_currency=Max("currency"),
    )
    findings = _grouped(
        CheckFinding.objects.open().filter(invoice__client__in=client_ids),
        "invoice__client",
        finding_errors=Count("pk", filter=Q(severity="error")),
        finding_warnings=Count("pk", filter=Q(severity="warning")),
    )
    breaches = _grouped(
        ServiceCase.objects.past_sla(now).filter(client__in=client_ids),
        "client",
        sla_breaches=Count("pk"),
    )
    activity = _grouped(
        Activity.objects.filter(client__in=client_ids),
        "client",
        last_activity_at=Max("occurred_at"),
    )
    plans = {
        client: {"revenue_target": target, "target_currency": currency}
        for client, target, currency in AccountPlan.objects.filter(
            client__in=client_ids, year=today.year
        ).values_list("client", "revenue_target", "currency")
    }
    ordered = _grouped(
        OrderLine.objects.filter(
            order__client__in=client_ids,
            order__status__in=ORDERED_STATUSES,
            order__order_date__gte=year_start,
            order__order_date__lte=today,
        ),
        "order__client",
        ordered_this_year=Sum(line_net_expression()),
    )
    signals = {}
    for pk in client_ids:
        values: dict[str, object] = {
            "pk": pk,
            "late_milestones": 0,
            "overdue_amount": None,
            "overdue_oldest_due": None,
            "overdue_currency": None,
            "finding_errors": 0,
            "finding_warnings": 0,
            "sla_breaches": 0,
            "last_activity_at": None,
            "revenue_target": None,
            "target_currency": None,
            "ordered_this_year": None,
        }
        for source in (late, overdue, findings, breaches, activity, plans, ordered):
            values.update(source.get(pk, {}))
        signals[pk] = SimpleNamespace(**values)
    return signals


def _score(client: SimpleNamespace, *, today: datetime.date) -> Health:
    penalties: list[tuple[int, str]] = []
    signals: dict[str, object] = {}

    late = client.late_milestones or 0
    signals["late_milestones"] = late
    if late:
        penalties.append(
            (
                min(late * LATE_MILESTONE_POINTS, LATE_MILESTONE_CAP),
                ngettext("%(count)d milestone late", "%(count)d milestones late", late)
                % {"count": late},
            )
        )

    amount = client.overdue_amount or Decimal("0")
    signals["overdue_amount"] = amount
    if amount > 0:
        days = (today - client.overdue_oldest_due).days
        signals["overdue_days"] = days
        currency = client.overdue_currency or settings.DEFAULT_CURRENCY
        points = OVERDUE_LONG_POINTS if days > OVERDUE_LONG_DAYS else OVERDUE_POINTS
        penalties.append(
            (
                points,
                ngettext(
                    "%(amount)s overdue for %(days)d day",
                    "%(amount)s overdue for %(days)d days",
                    days,
                )
                % {"amount": format_money(amount, currency), "days": days},
            )
        )

    errors, warnings = client.finding_errors or 0, client.finding_warnings or 0
    signals["finding_errors"], signals["finding_warnings"] = errors, warnings
    if errors or warnings:
        points = min(errors * FINDING_ERROR_POINTS + warnings * FINDING_WARNING_POINTS, FINDING_CAP)
        parts = []
        if errors:
            parts.append(
                ngettext("%(count)d open invoice error", "%(count)d open invoice errors", errors)
                % {"count": errors}
            )
        if warnings:
            parts.append(
                ngettext(
                    "%(count)d open invoice warning", "%(count)d open invoice warnings", warnings
                )
                % {"count": warnings}
            )
        penalties.append((points, ", ".join(parts)))

    breaches = client.sla_breaches or 0
    signals["sla_breaches"] = breaches
    if breaches:
        penalties.append(
            (
                min(breaches * SLA_BREACH_POINTS, SLA_BREACH_CAP),
                ngettext(
                    "%(count)d service case past SLA", "%(count)d service cases past SLA", breaches
                )
                % {"count": breaches},
            )
        )

    last = client.last_activity_at
    silent = None if last is None else (today - timezone.localtime(last).date()).days
    signals["days_since_activity"] = silent
    for more_than, points in SILENCE_STEPS:
        if silent is None or silent > more_than:
            reason = (
                _("No activity recorded")
                if silent is None
                else ngettext(
                    "No activity for %(days)d day", "No activity for %(days)d days", silent
                )
                % {"days": silent}
            )
            penalties.append((points, reason))
            break

    target = client.revenue_target
    ordered = client.ordered_this_year or Decimal("0")
    signals["ordered_this_year"], signals["revenue_target"] = ordered, target
    if target:
        days_in_year = 366 if calendar.isleap(today.year) else 365
        due_so_far = quantize(target * today.timetuple().tm_yday / days_in_year)
        share = ordered / due_so_far if due_so_far else Decimal("1")
        signals["target_pace_share"] = share
        for below, points in REVENUE_STEPS:
            if share < below:
                currency = client.target_currency or settings.DEFAULT_CURRENCY
                penalties.append(
                    (
                        points,
                        _(
                            "%(ordered)s ordered this year, %(percent)d%% of the %(due)s "
                            "due by now on a %(target)s target"
                        )
                        % {
                            "ordered": format_money(ordered, currency),
                            "percent": int(share * 100),
                            "due": format_money(due_so_far, currency),
                            "target": format_money(target, currency),
                        },
                    )
                )
                break

    score = max(0, 100 - sum(points for points, _reason in penalties))
    penalties.sort(key=lambda p: -p[0])  # stable: equal penalties keep the formula's order
    return Health(
        client_id=client.pk,
        score=score,
        band=band_of(score),
        reasons=[reason for _points, reason in penalties],
        signals=signals,
    )


def account_health(
    *,
    user: AnyUser,
    clients: QuerySet[Client] | list[int] | None = None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> dict[int, Health]:
    """Health of every client `user` may see (or of those among `clients`, a queryset or ids),
    keyed by client id. One query whatever the number of clients."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    visible = Client.objects.visible_to(user)
    if clients is not None:
        visible = visible.filter(
            pk__in=clients.values("pk") if isinstance(clients, QuerySet) else list(clients)
        )
    client_ids = list(visible.order_by("pk").values_list("pk", flat=True))
    signals = health_signals(client_ids, today=today, now=now)
    return {pk: _score(signals[pk], today=today) for pk in client_ids}


def health_ranking(
    *, user: AnyUser, clients: QuerySet[Client] | list[int] | None = None,
    today: datetime.date | None = None,
) -> list[Health]:  # fmt: skip
    """The same, worst first (ties by client id), for the team lead's ranking."""
    health = account_health(user=user, clients=clients, today=today)
    return sorted(health.values(), key=lambda h: (h.score, h.client_id))
