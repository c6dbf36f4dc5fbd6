"""Selectors of the NAM home ("my book"): the clients on whose account team the user is now, with
what needs doing on them. They compose the other apps' selectors and write nothing.

Everything starts from `clients.selectors.my_accounts(user=...)` (itself `visible_to(user)` and the
user's active account-team rows), so another NAM's accounts never appear and totals never count
them. Each block is one grouped query over all the accounts, never a query per account, so the page
costs the same few queries for 2 accounts or 200.

Revenue this year, per account, from 1 January to `today`:

- ordered: net of the order lines of orders confirmed, in progress or fulfilled dated this year
  (the same definition as account health's revenue signal);
- invoiced: net of the invoices issued this year less the net of the credit notes issued this
  year (billing.filters.in_revenue: a cancelled invoice is left out with its credit notes);
- collected: payments received this year;
- target: the account plan's revenue target for today's year (None without a plan).

Amounts are summed as stored: the book is kept in one currency (DEFAULT_CURRENCY).

Whitespace: the whitespace matrix (orders.suggestions.whitespace) is computed per client group
(several queries per client), so the home shows the open whitespace opportunities per account and
links to the client page, where the matrix is.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from accounts_crm.access import AnyUser
from accounts_crm.pages import list_url
from billing.filters import in_revenue
from billing.models import ZERO, CheckFinding, Invoice, Payment
from clients import selectors as client_selectors
from clients.models import AccountPlan, Activity, Client
from dashboards.health import ORDERED_STATUSES, Health, account_health
from orders import suggestions
from orders.filters import OPEN_ORDER_STATUSES, OPEN_STAGES
from orders.models import Opportunity, Order, OrderLine
from orders.selectors import line_net_expression
from orders.selectors import order_list as order_rows
from projects import selectors as project_selectors
from projects.models import Milestone

DEADLINE_DAYS = 14
LIST_LIMIT = 10
# The lists behind the figures, filtered to exactly the rows each figure counts.
ORDERED = {"is_confirmed": "true"}  # ORDERED_STATUSES = the order list's confirmed orders
OPEN = {"is_open": "true"}
REVENUE = {"in_revenue": "true"}  # billing.filters.in_revenue, the invoice list's revenue


@dataclass
class AccountRow:
    """One of the user's accounts with its figures and the list behind each figure (each list
    shows exactly the rows its figure counts)."""

    client: Client
    health: Health | None
    ordered: Decimal = ZERO
    invoiced: Decimal = ZERO
    collected: Decimal = ZERO
    target: Decimal | None = None
    open_orders: int = 0
    open_findings: int = 0
    whitespace_open: int = 0
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def target_share(self) -> int | None:
        """Ordered as a whole percentage of the year's target (None without a target)."""
        if not self.target:
            return None
        return int(self.ordered * 100 / self.target)


def _grouped(queryset: QuerySet, group: str, **aggregates: object) -> dict[int, dict]:
    rows = queryset.order_by().values(group).annotate(**aggregates)
    return {row.pop(group): row for row in rows}


def revenue_this_year(
    client_ids: list[int], *, user: AnyUser, today: datetime.date
) -> dict[int, dict[str, Decimal | None]]:
    """Ordered, invoiced, collected and target per client of `client_ids` (four queries)."""
    year_start = datetime.date(today.year, 1, 1)
    ordered = _grouped(
        OrderLine.objects.visible_to(user).filter(
            order__client__in=client_ids,
            order__status__in=ORDERED_STATUSES,
            order__order_date__gte=year_start,
            order__order_date__lte=today,
        ),
        "order__client",
        ordered=Sum(line_net_expression()),
    )
    issued = in_revenue() & Q(issue_date__gte=year_start, issue_date__lte=today)
    invoiced = _grouped(
        Invoice.objects.visible_to(user).filter(issued, client__in=client_ids),
        "client",
        invoices=Sum("net_total", filter=Q(kind=Invoice.Kind.INVOICE)),
        credit_notes=Sum("net_total", filter=Q(kind=Invoice.Kind.CREDIT_NOTE)),
    )
    collected = _grouped(
        Payment.objects.visible_to(user).filter(
            invoice__client__in=client_ids, paid_on__gte=year_start, paid_on__lte=today
        ),
        "invoice__client",
        collected=Sum("amount"),
    )
    targets = dict(
        AccountPlan.objects.visible_to(user)
        .filter(client__in=client_ids, year=today.year)
        .values_list("client", "revenue_target")
    )
    result = {}
    for pk in client_ids:
        billed = invoiced.get(pk, {})
        result[pk] = {
            "ordered": ordered.get(pk, {}).get("ordered") or ZERO,
            "invoiced": (billed.get("invoices") or ZERO) - (billed.get("credit_notes") or ZERO),
            "collected": collected.get(pk, {}).get("collected") or ZERO,
            "target": targets.get(pk),
        }
    return result


def _account_rows(
    accounts: list[Client], *, user: AnyUser, today: datetime.date, now: datetime.datetime
) -> list[AccountRow]:
    ids = [client.pk for client in accounts]
    health = account_health(user=user, clients=ids, today=today, now=now)
    revenue = revenue_this_year(ids, user=user, today=today)
    open_orders = _grouped(
        Order.objects.visible_to(user).filter(client__in=ids, status__in=OPEN_ORDER_STATUSES),
        "client",
        count=Count("pk"),
    )
    findings = _grouped(
        CheckFinding.objects.visible_to(user).open().filter(invoice__client__in=ids),
        "invoice__client",
        count=Count("pk"),
    )
    whitespace = _grouped(
        Opportunity.objects.visible_to(user).filter(
            client__in=ids, source=Opportunity.Source.WHITESPACE, stage__in=OPEN_STAGES
        ),
        "client",
        count=Count("pk"),
    )
    rows = []
    for client in accounts:
        pk = client.pk
        client_url = reverse("clients:client_detail", args=[pk])
        rows.append(
            AccountRow(
                client=client,
                health=health.get(pk),
                open_orders=open_orders.get(pk, {}).get("count", 0),
                open_findings=findings.get(pk, {}).get("count", 0),
                whitespace_open=whitespace.get(pk, {}).get("count", 0),
                urls={
                    "client": client_url,
                    **figure_urls(today, client=pk),
                    "target": f"{client_url}#plans",
                    "whitespace_matrix": f"{client_url}#whitespace",
                },
                **revenue[pk],
            )
        )
    return rows


def figure_urls(today: datetime.date, **scope: object) -> dict[str, str]:
    """The lists behind an account's figures (`client=<id>`) or the book's totals (`mine=true`:
    the clients on whose account team the person is now, the home's accounts)."""
    year = {"after": datetime.date(today.year, 1, 1).isoformat(), "before": today.isoformat()}
    return {
        "ordered": list_url(
            "orders:order_list", **scope, **ORDERED, ordered_after=year["after"],
            ordered_before=year["before"],
        ),
        "invoiced": list_url(
            "billing:invoice_list", **scope, **REVENUE, issued_after=year["after"],
            issued_before=year["before"],
        ),
        "collected": list_url(
            "billing:invoice_list", **scope, paid_after=year["after"],
            paid_before=year["before"],
        ),
        "open_orders": list_url("orders:order_list", **scope, **OPEN),
        "open_findings": list_url("billing:review_queue", **scope),
        "whitespace": list_url(
            "orders:opportunity_list", **scope, source=Opportunity.Source.WHITESPACE, **OPEN
        ),
    }  # fmt: skip


def _totals(rows: list[AccountRow]) -> dict[str, object]:
    """The book's totals: sums of the per-account figures already computed in SQL."""
    targets = [row.target for row in rows if row.target is not None]
    return {
        "ordered": sum((row.ordered for row in rows), ZERO),
        "invoiced": sum((row.invoiced for row in rows), ZERO),
        "collected": sum((row.collected for row in rows), ZERO),
        "target": sum(targets, ZERO) if targets else None,
        "open_orders": sum(row.open_orders for row in rows),
        "open_findings": sum(row.open_findings for row in rows),
        "whitespace_open": sum(row.whitespace_open for row in rows),
    }


def nam_home(
    *, user: AnyUser, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> dict[str, object]:
    """Everything on the NAM home, for the user's own accounts; a fixed number of queries."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    accounts = list(client_selectors.my_accounts(user=user))
    ids = [client.pk for client in accounts]
    rows = _account_rows(accounts, user=user, today=today, now=now)
    open_orders = list(
        order_rows(user=user)
        .filter(client__in=ids, status__in=OPEN_ORDER_STATUSES)
        .order_by("order_date", "number")[:LIST_LIMIT]
    )
    deadlines = list(
        project_selectors.milestones_due_soon(user=user, days=DEADLINE_DAYS, today=today).filter(
            project__client__in=ids
        )[: LIST_LIMIT * 2]
    )
    cases_past_sla = list(
        project_selectors.case_queue(user=user, now=now).filter(client__in=ids, is_past_sla=True)[
            :LIST_LIMIT
        ]
    )
    reorders = suggestions.reorders_due(user=user, clients=ids, on=today)
    activities = list(
        Activity.objects.visible_to(user)
        .filter(client__in=ids)
        .select_related("client", "author")
        .order_by("-occurred_at", "-pk")[:LIST_LIMIT]
    )
    return {
        "today": today,
        "currency": settings.DEFAULT_CURRENCY,
        "deadline_days": DEADLINE_DAYS,
        "accounts": rows,
        "totals": _totals(rows),
        "open_orders": open_orders,
        "deadlines": deadlines,
        # All of them, not only those among the deadlines shown: the count of the linked list.
        "overdue_count": Milestone.objects.visible_to(user)
        .overdue(today)
        .filter(project__client__in=ids)
        .count(),
        "cases_past_sla": cases_past_sla,
        "reorders_due": reorders[:LIST_LIMIT],
        "reorders_due_count": len(reorders),
        "activities": activities,
        "urls": {
            "accounts": reverse("clients:my_accounts"),
            **figure_urls(today, mine="true"),
            "deadlines": list_url("projects:milestone_due_soon", days=DEADLINE_DAYS, mine="true"),
            "overdue": list_url("projects:milestone_list", overdue="true", mine="true"),
            "cases_past_sla": list_url("projects:case_queue", past_sla="true"),
            "findings": list_url("billing:review_queue", mine="true"),
        },
    }
