"""Contract compliance: per contract, and rolled up per owning team.

Per contract (the active ones by default), on `today`:

- contract year: the anniversary year of the start that holds today (a contract starting on
  15 March 2025 is in its 15 March 2026 - 14 March 2027 year on 1 October 2026);
- spend this contract year: the net of the contract's orders that are confirmed, in progress
  or fulfilled, dated from the start of the contract year to today;
- pace: the projected spend for the whole contract year, spend / elapsed share of the year
  (days from the start of the contract year to today, both included, over the days in the
  contract year). On pace when the projection reaches the annual commitment. No commitment,
  or a contract not running today (not started, ended, not active): no pace (None);
- billed: the net of the contract's issued invoices (issued, partially paid or paid) less the
  net of the issued credit notes of invoices that are not cancelled (an invoice belongs to the
  contract through its own contract or, without one, through its order's), against the
  billing cap: share used and whether it is over;
- contract prices expiring: agreed prices whose `valid to` falls from today to 60 days ahead;
- service cases past SLA: open cases past their SLA of the contract's client, and of its
  subsidiaries when the contract applies to them;
- days to the renewal notice: end - renewal notice days - today (negative: the notice date
  has passed).

One query for all the contracts (a subquery per figure), whatever their number; the team
rollup sums the same rows. Only contracts of clients the viewer may see are read, so a team
lead's totals are the sum over their visible accounts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import (
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts_crm.access import AnyUser
from accounts_crm.money import quantize
from billing.models import ISSUED_STATUSES, Invoice
from billing.selectors import MONEY
from orders.models import Contract, ContractPrice, OrderLine
from orders.selectors import line_net_expression
from projects.models import ServiceCase

PRICE_EXPIRY_DAYS = 60
# Orders that count as spend under a contract (the client committed to them).
SPENT_STATUSES = ("confirmed", "in_progress", "fulfilled")
# Invoices that count as billed: issued and not cancelled.
BILLED_STATUSES = ("issued", "partially_paid", "paid")
ZERO = Decimal("0.00")


class _ContractYearStart(Func):
    """The anniversary of `starts_on` that opens the contract year holding `today`
    (`starts_on` itself before the first anniversary, or before the start)."""

    output_field = DateField()

    def as_sql(self, compiler: object, connection: object, **extra: object) -> tuple:
        start_sql, start_params = compiler.compile(self.source_expressions[0])
        today_sql, today_params = compiler.compile(self.source_expressions[1])
        sql = (
            f"({start_sql} + make_interval(years => GREATEST(0, "
            f"date_part('year', age({today_sql}::date, {start_sql}))::int)))::date"
        )
        return sql, (*start_params, *today_params, *start_params)


@dataclass(frozen=True)
class ContractCompliance:
    """The figures of one contract (money in the contract's currency)."""

    contract_id: int
    number: str
    client_id: int
    client_name: str
    team_id: int
    team_name: str
    currency: str
    year_starts_on: datetime.date
    year_ends_on: datetime.date  # last day of the contract year
    annual_commitment: Decimal | None
    spend: Decimal
    projected_spend: Decimal | None
    on_pace: bool | None
    billing_cap: Decimal | None
    billed: Decimal
    cap_used: Decimal | None  # billed / cap, 0.4 is 40%
    over_cap: bool
    prices_expiring: int
    next_price_expiry: datetime.date | None
    cases_past_sla: int
    renewal_notice_on: datetime.date
    days_to_renewal_notice: int


@dataclass
class TeamCompliance:
    """A team's contracts summed (per currency: money of different currencies never adds)."""

    team_id: int
    team_name: str
    currency: str
    contracts: int = 0
    with_commitment: int = 0
    behind_pace: int = 0
    annual_commitment: Decimal = ZERO
    spend: Decimal = ZERO
    billed: Decimal = ZERO
    over_cap: int = 0
    prices_expiring: int = 0
    cases_past_sla: int = 0
    renewal_notice_within_30_days: int = 0
    contract_ids: list[int] = field(default_factory=list)


def compliance_queryset(
    contracts: QuerySet[Contract], *, today: datetime.date, now: datetime.datetime
) -> QuerySet[Contract]:
    """Annotate the raw figures on `contracts` (one query)."""
    year_start = _ContractYearStart(F("starts_on"), today)
    spend = (
        OrderLine.objects.filter(
            order__contract=OuterRef("pk"),
            order__status__in=SPENT_STATUSES,
            order__order_date__gte=OuterRef("year_starts_on"),
            order__order_date__lte=today,
        )
        .order_by()
        .values("order__contract")
        .annotate(total=Sum(line_net_expression()))
        .values("total")
    )
    on_contract = Q(contract=OuterRef("pk")) | Q(
        contract__isnull=True, order__contract=OuterRef("pk")
    )
    invoiced = (
        Invoice.objects.filter(on_contract, kind=Invoice.Kind.INVOICE, status__in=BILLED_STATUSES)
        .order_by()
        .annotate(c=Coalesce("contract_id", "order__contract_id"))
        .values("c")
        .annotate(total=Sum("net_total"))
        .values("total")
    )
    credited = (
        Invoice.objects.filter(
            on_contract, kind=Invoice.Kind.CREDIT_NOTE, status__in=ISSUED_STATUSES
        )
        .exclude(credits__status=Invoice.Status.CANCELLED)
        .order_by()
        .annotate(c=Coalesce("contract_id", "order__contract_id"))
        .values("c")
        .annotate(total=Sum("net_total"))
        .values("total")
    )
    expiring = ContractPrice.objects.filter(
        contract=OuterRef("pk"),
        valid_to__gte=today,
        valid_to__lte=today + datetime.timedelta(days=PRICE_EXPIRY_DAYS),
    ).order_by()
    own_cases = (
        ServiceCase.objects.past_sla(now)
        .filter(client=OuterRef("client_id"))
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    subsidiary_cases = (
        ServiceCase.objects.past_sla(now)
        .filter(client__parent=OuterRef("client_id"))
        .order_by()
        .values("client__parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        contracts.select_related("client__team")
        .annotate(year_starts_on=year_start)
        .annotate(
            spend=Coalesce(Subquery(spend, MONEY), ZERO, output_field=MONEY),
            invoiced=Coalesce(Subquery(invoiced, MONEY), ZERO, output_field=MONEY),
            credited=Coalesce(Subquery(credited, MONEY), ZERO, output_field=MONEY),
            prices_expiring=Coalesce(
                Subquery(
                    expiring.values("contract").annotate(n=Count("pk")).values("n"),
                    IntegerField(),
                ),
                0,
            ),
            next_price_expiry=Subquery(expiring.order_by("valid_to").values("valid_to")[:1]),
            own_cases=Coalesce(Subquery(own_cases, IntegerField()), 0),
            subsidiary_cases=Coalesce(Subquery(subsidiary_cases, IntegerField()), 0),
        )
    )


def _figures(contract: Contract, *, today: datetime.date) -> ContractCompliance:
    year_start = contract.year_starts_on
    next_start = year_start + relativedelta(years=1)
    running = contract.status == Contract.Status.ACTIVE and (
        contract.starts_on <= today <= contract.ends_on
    )
    commitment = contract.annual_commitment
    projected = on_pace = None
    if running and commitment is not None:
        elapsed = Decimal((today - year_start).days + 1)
        projected = quantize(contract.spend * Decimal((next_start - year_start).days) / elapsed)
        on_pace = projected >= commitment
    billed = contract.invoiced - contract.credited
    cap = contract.billing_cap
    notice_on = contract.ends_on - datetime.timedelta(days=contract.renewal_notice_days)
    cases = contract.own_cases + (
        contract.subsidiary_cases if contract.applies_to_subsidiaries else 0
    )
    return ContractCompliance(
        contract_id=contract.pk,
        number=contract.number,
        client_id=contract.client_id,
        client_name=contract.client.name,
        team_id=contract.client.team_id,
        team_name=contract.client.team.name,
        currency=contract.currency,
        year_starts_on=year_start,
        year_ends_on=next_start - datetime.timedelta(days=1),
        annual_commitment=commitment,
        spend=contract.spend,
        projected_spend=projected,
        on_pace=on_pace,
        billing_cap=cap,
        billed=billed,
        cap_used=(billed / cap).quantize(Decimal("0.0001")) if cap else None,
        over_cap=cap is not None and billed > cap,
        prices_expiring=contract.prices_expiring,
        next_price_expiry=contract.next_price_expiry,
        cases_past_sla=cases,
        renewal_notice_on=notice_on,
        days_to_renewal_notice=(notice_on - today).days,
    )


def contract_compliance(
    *,
    user: AnyUser,
    contracts: QuerySet[Contract] | list[int] | None = None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> list[ContractCompliance]:
    """Compliance of the contracts `user` may see: the active ones, or those among `contracts`
    (a queryset or ids, whatever their status), by contract number. One query."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    visible = Contract.objects.visible_to(user)
    if contracts is None:
        visible = visible.filter(status=Contract.Status.ACTIVE)
    else:
        visible = visible.filter(
            pk__in=contracts.values("pk") if isinstance(contracts, QuerySet) else list(contracts)
        )
    rows = compliance_queryset(visible, today=today, now=now).order_by("number")
    return [_figures(contract, today=today) for contract in rows]


def team_compliance(
    *, user: AnyUser, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> list[TeamCompliance]:
    """The visible active contracts summed per owning team and currency, by team name."""
    today = today or timezone.localdate()
    teams: dict[tuple[int, str], TeamCompliance] = {}
    for row in contract_compliance(user=user, today=today, now=now):
        team = teams.setdefault(
            (row.team_id, row.currency),
            TeamCompliance(team_id=row.team_id, team_name=row.team_name, currency=row.currency),
        )
        team.contracts += 1
        team.contract_ids.append(row.contract_id)
        if row.annual_commitment is not None:
            team.with_commitment += 1
            team.annual_commitment += row.annual_commitment
        team.behind_pace += row.on_pace is False
        team.spend += row.spend
        team.billed += row.billed
        team.over_cap += row.over_cap
        team.prices_expiring += row.prices_expiring
        team.cases_past_sla += row.cases_past_sla
        team.renewal_notice_within_30_days += 0 <= row.days_to_renewal_notice <= 30
    return sorted(teams.values(), key=lambda t: (t.team_name, t.currency))
