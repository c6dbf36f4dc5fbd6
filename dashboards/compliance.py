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

Seven queries for all the contracts (the contracts, then one grouped query per figure),
whatever their number; the team rollup sums the same rows. Only what the viewer may see is
read: the contracts of clients they see, and under them only the orders, invoices and cases
of clients they see (a contract that applies to subsidiaries gathers their orders, invoices
and cases too; a NAM who sees the parent but not a subsidiary gets none of the subsidiary's
counted). So a team lead's totals are the sum over their visible accounts.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import (
    Count,
    DateField,
    F,
    Func,
    Min,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts_crm.access import AnyUser
from accounts_crm.money import quantize
from billing.filters import on_contract as invoices_on_contract
from billing.models import ISSUED_STATUSES, Invoice
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
    committed_spend: Decimal = ZERO  # the spend of the contracts with a commitment
    billed: Decimal = ZERO
    over_cap: int = 0
    prices_expiring: int = 0
    cases_past_sla: int = 0
    renewal_notice_within_30_days: int = 0
    renewal_notice_passed: int = 0
    contract_ids: list[int] = field(default_factory=list)


def _grouped(queryset: QuerySet, group: object, **aggregates: object) -> dict[int, dict]:
    rows = queryset.order_by().annotate(group_key=group).values("group_key").annotate(**aggregates)
    return {row.pop("group_key"): row for row in rows}


def compliance_rows(
    contracts: QuerySet[Contract],
    *,
    user: AnyUser,
    today: datetime.date,
    now: datetime.datetime,
) -> list[Contract]:
    """The contracts with their raw figures set as attributes: the contracts, then one grouped
    query per figure (seven queries), whatever their number. The figures count only the orders,
    invoices and cases `user` may see (`visible_to`: a subquery of the same query, no more).

    Grouped queries, not a correlated subquery per contract: on the large book the one-query
    shape is estimated so costly that PostgreSQL JIT-compiles it, which alone takes seconds."""
    rows = list(
        contracts.select_related("client__team").annotate(
            year_starts_on=_ContractYearStart(F("starts_on"), today)
        )
    )
    ids = [row.pk for row in rows]
    client_ids = {row.client_id for row in rows}
    spend = _grouped(
        OrderLine.objects.visible_to(user).filter(
            order__contract__in=ids,
            order__status__in=SPENT_STATUSES,
            order__order_date__gte=_ContractYearStart(F("order__contract__starts_on"), today),
            order__order_date__lte=today,
        ),
        F("order__contract"),
        spend=Sum(line_net_expression()),
    )
    on_contract = invoices_on_contract(ids)  # the invoice list's `contract` filter, too
    invoiced = _grouped(
        Invoice.objects.visible_to(user).filter(
            on_contract, kind=Invoice.Kind.INVOICE, status__in=BILLED_STATUSES
        ),
        Coalesce("contract_id", "order__contract_id"),
        invoiced=Sum("net_total"),
    )
    credited = _grouped(
        Invoice.objects.visible_to(user)
        .filter(on_contract, kind=Invoice.Kind.CREDIT_NOTE, status__in=ISSUED_STATUSES)
        .exclude(credits__status=Invoice.Status.CANCELLED),
        Coalesce("contract_id", "order__contract_id"),
        credited=Sum("net_total"),
    )
    expiring = _grouped(
        ContractPrice.objects.filter(
            contract__in=ids,
            valid_to__gte=today,
            valid_to__lte=today + datetime.timedelta(days=PRICE_EXPIRY_DAYS),
        ),
        F("contract"),
        prices_expiring=Count("pk"),
        next_price_expiry=Min("valid_to"),
    )
    past_sla = ServiceCase.objects.visible_to(user).past_sla(now)
    own_cases = _grouped(past_sla.filter(client__in=client_ids), F("client"), own_cases=Count("pk"))
    subsidiary_cases = _grouped(
        past_sla.filter(client__parent__in=client_ids),
        F("client__parent"),
        subsidiary_cases=Count("pk"),
    )
    for row in rows:
        row.spend = spend.get(row.pk, {}).get("spend") or ZERO
        row.invoiced = invoiced.get(row.pk, {}).get("invoiced") or ZERO
        row.credited = credited.get(row.pk, {}).get("credited") or ZERO
        row.prices_expiring = expiring.get(row.pk, {}).get("prices_expiring", 0)
        row.next_price_expiry = expiring.get(row.pk, {}).get("next_price_expiry")
        row.own_cases = own_cases.get(row.client_id, {}).get("own_cases", 0)
        row.subsidiary_cases = subsidiary_cases.get(row.client_id, {}).get("subsidiary_cases", 0)
    return rows


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
    (a queryset or ids, whatever their status), by contract number. Seven queries."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    visible = Contract.objects.visible_to(user)
    if contracts is None:
        visible = visible.filter(status=Contract.Status.ACTIVE)
    else:
        visible = visible.filter(
            pk__in=contracts.values("pk") if isinstance(contracts, QuerySet) else list(contracts)
        )
    rows = compliance_rows(visible.order_by("number"), user=user, today=today, now=now)
    return [_figures(contract, today=today) for contract in rows]


def rollup(rows: Iterable[ContractCompliance]) -> list[TeamCompliance]:
    """Contracts' figures summed per owning team and currency, by team name (no query)."""
    teams: dict[tuple[int, str], TeamCompliance] = {}
    for row in rows:
        team = teams.setdefault(
            (row.team_id, row.currency),
            TeamCompliance(team_id=row.team_id, team_name=row.team_name, currency=row.currency),
        )
        team.contracts += 1
        team.contract_ids.append(row.contract_id)
        if row.annual_commitment is not None:
            team.with_commitment += 1
            team.annual_commitment += row.annual_commitment
            team.committed_spend += row.spend
        team.behind_pace += row.on_pace is False
        team.spend += row.spend
        team.billed += row.billed
        team.over_cap += row.over_cap
        team.prices_expiring += row.prices_expiring
        team.cases_past_sla += row.cases_past_sla
        team.renewal_notice_within_30_days += 0 <= row.days_to_renewal_notice <= 30
        team.renewal_notice_passed += row.days_to_renewal_notice < 0
    return sorted(teams.values(), key=lambda t: (t.team_name, t.currency))


def team_compliance(
    *,
    user: AnyUser,
    contracts: QuerySet[Contract] | list[int] | None = None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> list[TeamCompliance]:
    """The visible active contracts (or those among `contracts`, as `contract_compliance`)
    summed per owning team and currency, by team name. Seven queries."""
    return rollup(contract_compliance(user=user, contracts=contracts, today=today, now=now))
