"""Selectors of the team lead dashboard: they compose the other apps' querysets and write nothing.

The page answers, per account and per NAM (the account's active NAM), over the accounts the
viewer may see and the filters pick (team, NAM, region, industry; applied in SQL):

- revenue by month: net invoiced per calendar month over the period (3, 6 or 12 months up to
  today's): the net of invoices issued less the net of the credit notes issued, by issue date
  (billing.filters.in_revenue: a cancelled invoice is left out with its credit notes);
- pipeline by stage: open opportunities (qualification, proposal, negotiation), count and value;
- projects late and at risk (`Project.objects.with_health`), late milestones (open, past due);
- contracts expiring: active contracts ending from today to EXPIRY_DAYS ahead (an active contract
  whose end has already passed is a stale status, not an expiry to prepare);
- open invoice check findings: count and amount at stake;
- overdue receivables: open invoices past their due date (the invoice list's `overdue`) and
  what they still owe;
- an account-health ranking (dashboards/health.py), worst first.

Every figure is one grouped SQL query over the filtered visible accounts (a subquery, not a list
of ids), so the page costs the same queries whatever the size of the book, and a lead's totals
are the sums over their visible accounts: totals are added up from the per-account rows.

Each figure carries the URL of the list behind it, filtered so that it shows exactly the rows
the figure counts: per account by client, per NAM by `nam`, and the total row and the charts' bars
by the dashboard's own filters (team, NAM, region, industry: the same `clients.filters` rules
select the accounts here and the rows there).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Concat, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import AnyUser
from accounts_crm.pages import list_url
from billing.filters import in_revenue
from billing.models import OPEN_STATUSES, CheckFinding, Invoice
from billing.selectors import MONEY, with_receivables
from clients.filters import active_nam, client_scope
from clients.models import AccountTeamMember, Client, Region
from dashboards import health as health_board
from dashboards.finance import _month_end, invoice_list_url, review_queue_url
from orders.filters import OPEN_STAGES
from orders.models import Contract, Opportunity
from projects.models import Health, Milestone, Project

ZERO = Decimal("0.00")
EXPIRY_DAYS = 90
PERIODS = (3, 6, 12)
DEFAULT_PERIOD = 12
# The filters that pick accounts; the lists behind the figures take them under the same names.
SCOPE_FILTERS = ("team", "nam", "region", "industry")


class TeamDashboardForm(forms.Form):
    """The filters; choices come from the viewer's visible accounts (`filter_options`)."""

    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    nam = forms.TypedChoiceField(label=_("NAM"), coerce=int, required=False, empty_value=None)
    region = forms.ChoiceField(label=_("Region"), required=False)
    industry = forms.ChoiceField(label=_("Industry"), required=False)
    period = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        required=False,
        empty_value=DEFAULT_PERIOD,
        choices=[(n, _("Last %(months)d months") % {"months": n}) for n in PERIODS],
    )

    def __init__(self, *args: object, options: dict[str, list], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        everyone = [("", _("All"))]
        self.fields["team"].choices = everyone + options["teams"]
        self.fields["nam"].choices = everyone + options["nams"]
        self.fields["region"].choices = everyone + list(Region.choices)
        self.fields["industry"].choices = everyone + [(i, i) for i in options["industries"]]

    def filters(self) -> dict[str, object]:
        """The cleaned filters (an invalid form filters nothing: the page shows its errors)."""
        if not self.is_valid():
            return {"period": DEFAULT_PERIOD}
        data = dict(self.cleaned_data)
        data["period"] = data.get("period") or DEFAULT_PERIOD
        return {k: v for k, v in data.items() if v not in (None, "")}


def _with_nam(clients: QuerySet[Client]) -> QuerySet[Client]:
    return clients.annotate(
        nam_id=active_nam("user_id"),
        nam_name=active_nam("user__username"),  # shown when the NAM has no full name
        nam_full_name=Subquery(
            AccountTeamMember.objects.active()
            .filter(client=OuterRef("pk"), role=AccountTeamMember.Role.NAM)
            .order_by("pk")
            .annotate(
                full=Concat(
                    "user__first_name", Value(" "), "user__last_name", output_field=CharField()
                )
            )
            .values("full")[:1]
        ),
    )


def filter_options(*, user: AnyUser) -> dict[str, list]:
    """Teams, NAMs and industries of the visible accounts, for the filter form (one query)."""
    rows = _with_nam(Client.objects.visible_to(user)).values_list(
        "team_id", "team__name", "nam_id", "nam_name", "nam_full_name", "industry"
    )
    teams, nams, industries = {}, {}, set()
    for team_id, team_name, nam_id, nam_name, full_name, industry in rows:
        teams[team_id] = team_name
        if nam_id is not None:
            nams[nam_id] = (full_name or "").strip() or nam_name
        if industry:
            industries.add(industry)
    return {
        "teams": sorted(teams.items(), key=lambda t: (t[1], t[0])),
        "nams": sorted(nams.items(), key=lambda n: (n[1], n[0])),
        "industries": sorted(industries),
    }


def visible_accounts(*, user: AnyUser, filters: dict[str, object]) -> QuerySet[Client]:
    """The visible accounts the filters pick, with their active NAM (`nam_id`, `nam_name`).
    The region is the billing address's or a site's, the industry is case-insensitive: the
    client list's rules (clients.filters.client_scope), which the linked lists apply too."""
    return client_scope(_with_nam(Client.objects.visible_to(user)), **scope_of(filters))


def scope_of(filters: dict[str, object]) -> dict[str, object]:
    """The account-picking filters of the dashboard, as the linked lists take them."""
    return {name: filters[name] for name in SCOPE_FILTERS if filters.get(name)}


def months_up_to(today: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the `count` calendar months up to today's, oldest first."""
    months, year, month = [], today.year, today.month
    for _i in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


@dataclass
class Row:
    """The figures of one account, or of one NAM's accounts, or of all the visible accounts."""

    key: object
    name: str
    client_id: int | None = None
    nam_id: int | None = None
    nam_name: str = ""
    team_name: str = ""
    accounts: int = 0
    revenue: dict[datetime.date, Decimal] = field(default_factory=dict)
    pipeline: dict[str, dict[str, object]] = field(default_factory=dict)
    projects_late: int = 0
    projects_at_risk: int = 0
    milestones_late: int = 0
    contracts_expiring: int = 0
    findings: int = 0
    amount_at_stake: Decimal = ZERO
    overdue_invoices: int = 0
    overdue_amount: Decimal = ZERO
    health: object = None
    monthly: list[dict[str, object]] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def revenue_total(self) -> Decimal:
        return sum(self.revenue.values(), ZERO)

    @property
    def pipeline_value(self) -> Decimal:
        return sum((s["value"] for s in self.pipeline.values()), ZERO)

    @property
    def pipeline_count(self) -> int:
        return sum(s["count"] for s in self.pipeline.values())

    def add(self, other: Row) -> None:
        self.accounts += other.accounts
        for month, amount in other.revenue.items():
            self.revenue[month] = self.revenue.get(month, ZERO) + amount
        for stage, figures in other.pipeline.items():
            mine = self.pipeline.setdefault(stage, {"count": 0, "value": ZERO})
            mine["count"] += figures["count"]
            mine["value"] += figures["value"]
        for name in ("projects_late", "projects_at_risk", "milestones_late",
                     "contracts_expiring", "findings", "amount_at_stake", "overdue_invoices",
                     "overdue_amount"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _grouped(queryset: QuerySet, *group: str, **aggregates: object) -> list[dict]:
    return list(queryset.order_by().values(*group).annotate(**aggregates))


def _urls(months: list[datetime.date], today: datetime.date, **scope: object) -> dict[str, str]:
    """The lists behind a row's figures, each showing exactly the rows the figure counts.
    `scope` is `client=<id>` (an account), or the dashboard's filters (`scope_of`) with the
    row's `nam=<id>` for a NAM's row, or the dashboard's filters alone for the total row."""
    scope = {k: v for k, v in scope.items() if v}
    expiry = today + datetime.timedelta(days=EXPIRY_DAYS)
    return {
        "revenue": invoice_list_url(
            **scope, in_revenue="true", issued_after=months[0].isoformat(),
            issued_before=today.isoformat(),
        ),
        "findings": review_queue_url(**scope),
        "overdue": invoice_list_url(**scope, overdue="true"),
        "pipeline": list_url("orders:opportunity_list", **scope, is_open="true"),
        "projects_late": list_url("projects:project_list", **scope, health=Health.LATE),
        "projects_at_risk": list_url("projects:project_list", **scope, health=Health.AT_RISK),
        "milestones_late": list_url("projects:milestone_list", **scope, overdue="true"),
        "contracts_expiring": list_url(
            "orders:contract_list", **scope, status=Contract.Status.ACTIVE,
            ends_after=today.isoformat(), ends_before=expiry.isoformat(),
        ),
    }  # fmt: skip


def revenue_by_month(
    *, user: AnyUser, accounts: QuerySet, months: list[datetime.date], today: datetime.date
) -> list[dict]:
    """Net revenue per account and month (issued invoices less credit notes, by issue date) from
    the first of `months` to `today`: the dashboard's core aggregate query (one query)."""
    signed_net = Case(
        When(kind=Invoice.Kind.CREDIT_NOTE, then=-F("net_total")),
        default=F("net_total"),
        output_field=MONEY,
    )
    return _grouped(
        Invoice.objects.visible_to(user).filter(
            in_revenue(), client__in=accounts,
            issue_date__gte=months[0], issue_date__lte=today,
        ).annotate(month=TruncMonth("issue_date")),
        "client_id", "month", net=Sum(signed_net),
    )  # fmt: skip


def _month_urls(
    months: list[datetime.date], today: datetime.date, scope: dict[str, object]
) -> list[str]:
    """The invoices and credit notes behind each month's net invoiced. The scope is encoded
    once per row; the months' ISO dates need no quoting (a lead's page has thousands)."""
    base = invoice_list_url(**scope, in_revenue="true")
    return [
        f"{base}&issued_after={month.isoformat()}"
        f"&issued_before={min(_month_end(month), today).isoformat()}"
        for month in months
    ]


def team_dashboard(
    *, user: AnyUser, filters: dict[str, object] | None = None, today: datetime.date | None = None
) -> dict[str, object]:
    """Every figure of the team lead dashboard: per account, per NAM and in total.
    Nine queries plus the health ranking's (dashboards/health.py)."""
    today = today or timezone.localdate()
    filters = filters or {}
    months = months_up_to(today, int(filters.get("period") or DEFAULT_PERIOD))
    accounts = visible_accounts(user=user, filters=filters)
    ids = accounts.values("pk")

    rows: dict[int, Row] = {}
    for client in accounts.order_by("name", "pk").values(
        "pk", "name", "team__name", "nam_id", "nam_name", "nam_full_name"
    ):
        rows[client["pk"]] = Row(
            key=client["pk"], name=client["name"], client_id=client["pk"],
            nam_id=client["nam_id"],
            nam_name=(client["nam_full_name"] or "").strip() or client["nam_name"] or "",
            team_name=client["team__name"], accounts=1,
            urls=_urls(months, today, client=client["pk"]),
        )  # fmt: skip

    for r in revenue_by_month(user=user, accounts=ids, months=months, today=today):
        rows[r["client_id"]].revenue[r["month"]] = r["net"]

    for r in _grouped(
        Opportunity.objects.visible_to(user).filter(client__in=ids, stage__in=OPEN_STAGES),
        "client_id", "stage", count=Count("pk"), value=Sum("value"),
    ):  # fmt: skip
        rows[r["client_id"]].pipeline[r["stage"]] = {"count": r["count"], "value": r["value"]}

    for r in _grouped(
        Project.objects.visible_to(user).with_health(today).filter(
            client__in=ids, health__in=(Health.LATE, Health.AT_RISK)
        ),
        "client_id", "health", count=Count("pk"),
    ):  # fmt: skip
        name = "projects_late" if r["health"] == Health.LATE else "projects_at_risk"
        setattr(rows[r["client_id"]], name, r["count"])

    for r in _grouped(
        Milestone.objects.visible_to(user).overdue(today).filter(project__client__in=ids),
        "project__client_id", count=Count("pk"),
    ):  # fmt: skip
        rows[r["project__client_id"]].milestones_late = r["count"]

    for r in _grouped(
        Contract.objects.visible_to(user).filter(
            client__in=ids, status=Contract.Status.ACTIVE,
            ends_on__gte=today, ends_on__lte=today + datetime.timedelta(days=EXPIRY_DAYS),
        ),
        "client_id", count=Count("pk"),
    ):  # fmt: skip
        rows[r["client_id"]].contracts_expiring = r["count"]

    for r in _grouped(
        CheckFinding.objects.visible_to(user).filter(
            invoice__client__in=ids, status=CheckFinding.Status.OPEN
        ),
        "invoice__client_id", count=Count("pk"), amount=Sum("amount_at_stake"),
    ):  # fmt: skip
        row = rows[r["invoice__client_id"]]
        row.findings, row.amount_at_stake = r["count"], r["amount"]

    overdue = with_receivables(
        Invoice.objects.visible_to(user).filter(
            client__in=ids, kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES,
            due_date__lt=today,
        ),
        today,
    )  # fmt: skip
    for r in _grouped(overdue, "client_id", count=Count("pk"), amount=Sum("outstanding")):
        row = rows[r["client_id"]]
        row.overdue_invoices, row.overdue_amount = r["count"], r["amount"]

    ranking = health_board.health_ranking(user=user, clients=accounts, today=today)
    for health in ranking:
        rows[health.client_id].health = health

    account_rows = list(rows.values())
    per_nam: dict[object, Row] = {}
    scope = scope_of(filters)
    total = Row(
        key="total", name=str(_("All visible accounts")), urls=_urls(months, today, **scope)
    )
    for row in account_rows:
        nam_key = row.nam_id or 0
        if nam_key not in per_nam:
            per_nam[nam_key] = Row(
                key=nam_key, nam_id=row.nam_id,
                name=row.nam_name or str(_("No NAM")),
                urls=_urls(months, today, **{**scope, "nam": row.nam_id}) if row.nam_id else {},
            )  # fmt: skip
        per_nam[nam_key].add(row)
        total.add(row)

    for row in [*account_rows, *per_nam.values()]:
        if row.client_id:
            row_scope = {"client": row.client_id}
        elif row.nam_id:
            row_scope = {**scope, "nam": row.nam_id}
        else:  # the accounts without a NAM: no list filters by "no NAM"
            row.monthly = [{"month": m, "net": row.revenue.get(m, ZERO), "url": ""}
                           for m in months]  # fmt: skip
            continue
        row.monthly = [
            {"month": m, "net": row.revenue.get(m, ZERO), "url": url}
            for m, url in zip(months, _month_urls(months, today, row_scope), strict=True)
        ]

    revenue_months = [
        {"month": m, "net": total.revenue.get(m, ZERO), "url": url}
        for m, url in zip(months, _month_urls(months, today, scope), strict=True)
    ]
    pipeline = [
        {
            "stage": stage.value,
            "label": str(stage.label),
            "count": total.pipeline.get(stage, {}).get("count", 0),
            "value": total.pipeline.get(stage, {}).get("value", ZERO),
            "url": list_url("orders:opportunity_list", **scope, stage=stage.value),
        }
        for stage in OPEN_STAGES
    ]
    return {
        "today": today,
        "currency": settings.DEFAULT_CURRENCY,
        "months": months,
        "expiry_days": EXPIRY_DAYS,
        "accounts": account_rows,
        "nams": sorted(per_nam.values(), key=lambda r: (r.nam_id is None, r.name)),
        "total": total,
        "revenue_months": revenue_months,
        "pipeline": pipeline,
        "ranking": [(h, rows[h.client_id]) for h in ranking],
    }


def chart_data(dashboard: dict[str, object]) -> dict[str, object]:
    """What static/js/dashboards.js draws: labels, values (strings, Decimal-exact), bar URLs."""
    revenue: list[dict] = dashboard["revenue_months"]  # type: ignore[assignment]
    pipeline: list[dict] = dashboard["pipeline"]  # type: ignore[assignment]
    return {
        "revenue": {
            "labels": [r["month"].strftime("%Y-%m") for r in revenue],
            "values": [str(r["net"]) for r in revenue],
            "urls": [r["url"] for r in revenue],
        },
        "pipeline": {
            "labels": [r["label"] for r in pipeline],
            "values": [str(r["value"]) for r in pipeline],
            "urls": [r["url"] for r in pipeline],
        },
    }
