"""Contract compliance where the NAM works: a section of the client page and a panel of the
contract page (issue 7). The figures are dashboards/compliance.py's, for what the viewer may see.

dashboards/apps.py registers both (clients.views.CLIENT_SECTIONS, accounts_crm.pages'
register_page_panel): the client and contract pages never import dashboards, the arrow points
this way. Each costs the compliance's seven queries whatever the number of contracts: the
client's contracts go to `contract_compliance` as a queryset, which it reads as a subquery.

Figures are shown for running contracts only (active, started, not ended: the ones compliance
gives a pace to); the contract page says why a contract that is not running has none.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.timezone import localdate

from accounts_crm.access import AnyUser
from accounts_crm.pages import list_url
from clients.models import Client
from dashboards.compliance import (
    ContractCompliance,
    TeamCompliance,
    contract_compliance,
    rollup,
)
from dashboards.team import scope_of, visible_accounts
from orders.models import Contract

PANEL_TEMPLATE = "dashboards/_compliance_panel.html"
TENTH = Decimal("0.1")
# A renewal notice this close (or passed) puts a contract on the team lead's attention list.
NOTICE_ATTENTION_DAYS = 30


@dataclass(frozen=True)
class ComplianceCard:
    """One contract's figures as the pages show them, with the lists that explain them."""

    row: ContractCompliance
    spend_percent: Decimal | None  # spend / annual commitment, in percent
    year_percent: Decimal  # elapsed share of the contract year (today included), in percent
    cap_percent: Decimal | None  # billed / billing cap, in percent
    over_cap_by: Decimal | None
    notice_days_ago: int  # days since the renewal notice date (when it has passed)
    urls: dict[str, str]

    @property
    def spend_bar(self) -> int | None:
        return _bar(self.spend_percent)

    @property
    def cap_bar(self) -> int | None:
        return _bar(self.cap_percent)


def is_running(contract: Contract, *, today: datetime.date) -> bool:
    """Running as compliance counts it (dashboards/compliance.py `_figures`): active, started,
    not ended. Only these have a contract year that is going on, hence a pace."""
    return contract.status == Contract.Status.ACTIVE and (
        contract.starts_on <= today <= contract.ends_on
    )


def _bar(percent: Decimal | None) -> int | None:
    """A progress bar's width: the percent, whole, within 0-100 (the words say the rest)."""
    return None if percent is None else max(0, min(100, int(percent)))


def _percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    return (part * 100 / whole).quantize(TENTH) if whole else None


def _card(row: ContractCompliance, *, today: datetime.date) -> ComplianceCard:
    contract_url = reverse("orders:contract_detail", args=[row.contract_id])
    elapsed = (today - row.year_starts_on).days + 1
    year_days = (row.year_ends_on - row.year_starts_on).days + 1
    urls = {
        # The orders that make the spend: this contract's, dated in the contract year so far
        # (the list also shows drafts and cancelled ones, which the spend leaves out).
        "spend": list_url(
            "orders:order_list", contract=row.contract_id,
            ordered_after=row.year_starts_on.isoformat(), ordered_before=today.isoformat(),
        ),
        # The contract's invoices and credit notes that count as billed: `on_contract` and
        # `in_revenue` of billing/filters.py, the figure's own rules, so the list is its rows.
        "billed": list_url(
            "billing:invoice_list", contract=row.contract_id, in_revenue="true"
        ),
        "prices": f"{contract_url}#prices",
        # The client's own cases; those of subsidiaries a contract covers are on theirs.
        "cases": list_url("projects:case_list", client=row.client_id, past_sla="true"),
        "contract": contract_url,
    }  # fmt: skip
    return ComplianceCard(
        row=row,
        spend_percent=_percent(row.spend, row.annual_commitment),
        year_percent=_percent(Decimal(elapsed), Decimal(year_days)) or Decimal("0.0"),
        cap_percent=None if row.cap_used is None else (row.cap_used * 100).quantize(TENTH),
        over_cap_by=row.billed - row.billing_cap if row.over_cap else None,
        notice_days_ago=-row.days_to_renewal_notice,
        urls=urls,
    )


def client_compliance_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    """The client page's section: the client's running contracts the viewer sees, with their
    figures (seven queries for one contract or many; one when the client has none running)."""
    today = localdate()
    running = Contract.objects.filter(
        client=client,
        status=Contract.Status.ACTIVE,
        starts_on__lte=today,
        ends_on__gte=today,
    )
    rows = contract_compliance(user=request.user, contracts=running, today=today)
    return {
        "compliance_cards": [_card(row, today=today) for row in rows],
        "compliance_today": today,
    }


def contract_compliance_panel(request: HttpRequest, contract: Contract) -> str:
    """The contract page's panel: the figures of a running contract (seven queries), else why
    there are none (no query)."""
    today = localdate()
    context: dict[str, Any] = {"contract": contract, "card": None, "compliance_today": today}
    if is_running(contract, today=today):
        rows = contract_compliance(user=request.user, contracts=[contract.pk], today=today)
        context["card"] = _card(rows[0], today=today) if rows else None
    return render_to_string(PANEL_TEMPLATE, context, request=request)


@dataclass(frozen=True)
class TeamRollup:
    """One team's compliance rollup (per currency) with the list of its contracts."""

    team: TeamCompliance
    committed_spend_percent: Decimal | None  # spend of committed contracts / commitment
    contracts_url: str


@dataclass(frozen=True)
class AttentionRow:
    """A contract that needs attention: its figures (`card`) and the reasons, as codes
    (behind_pace, over_cap, notice_soon, notice_passed, prices_expiring, cases_past_sla)."""

    card: ComplianceCard
    reasons: tuple[str, ...]


def attention_reasons(row: ContractCompliance) -> tuple[str, ...]:
    """Why a contract needs the team lead's attention; empty when it does not."""
    reasons = []
    if row.on_pace is False:
        reasons.append("behind_pace")
    if row.over_cap:
        reasons.append("over_cap")
    if row.days_to_renewal_notice < 0:
        reasons.append("notice_passed")
    elif row.days_to_renewal_notice <= NOTICE_ATTENTION_DAYS:
        reasons.append("notice_soon")
    if row.prices_expiring:
        reasons.append("prices_expiring")
    if row.cases_past_sla:
        reasons.append("cases_past_sla")
    return tuple(reasons)


def team_compliance_context(
    *, user: AnyUser, filters: dict[str, object], today: datetime.date
) -> dict[str, Any]:
    """The team lead dashboard's compliance block: the active contracts of the accounts the
    dashboard's filters pick (team, NAM, region, industry: `visible_accounts`, a subquery),
    rolled up per team and currency, and those that need attention with their figures.
    Seven queries whatever the number of accounts and contracts."""
    accounts = visible_accounts(user=user, filters=filters)
    contracts = Contract.objects.filter(
        client__in=accounts.values("pk"), status=Contract.Status.ACTIVE
    )
    rows = contract_compliance(user=user, contracts=contracts, today=today)
    scope = scope_of(filters)
    teams = [
        TeamRollup(
            team=team,
            committed_spend_percent=_percent(team.committed_spend, team.annual_commitment),
            # The contract list has no currency filter: it shows the team's contracts in
            # every currency (the link's title says so).
            contracts_url=list_url(
                "orders:contract_list",
                **{**scope, "team": team.team_id},
                status=Contract.Status.ACTIVE,
            ),
        )
        for team in rollup(rows)
    ]
    attention = [
        AttentionRow(card=_card(row, today=today), reasons=reasons)
        for row in rows
        if (reasons := attention_reasons(row))
    ]
    attention.sort(key=lambda a: (a.card.row.team_name, a.card.row.client_name, a.card.row.number))
    return {
        "compliance_teams": teams,
        "compliance_attention": attention,
        "compliance_contracts": len(rows),
        "compliance_notice_days": NOTICE_ATTENTION_DAYS,
    }
