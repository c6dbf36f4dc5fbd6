"""Commitment watch: tell the NAM when a contract falls behind the pace of its annual commitment.

Daily (beat, accounts_crm/celery.py). The figures are the contract compliance's
(dashboards/compliance.py): the spend of this contract year projected over the whole year,
against the annual commitment. A contract whose projection falls under a threshold share of the
commitment (COMMITMENT_THRESHOLDS: 90%, 75%, 50%) notifies the client's NAMs, once per
threshold and contract year: the notification key names the contract, the contract year and
the threshold, and the notification machinery inserts it once per person
(accounts_crm/notifications.py). A run reports only the lowest threshold reached, so a contract
first seen at 60% is announced at "under 75%", not at 90% as well; a later, lower one follows.

Contracts without a commitment, or not running today, have no pace and are never reported.
This module writes notifications only; the dashboards themselves write nothing.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import whole_book_reader
from accounts_crm.models import NotificationKind
from accounts_crm.notifications import Notice, notify_many
from clients.selectors import active_nams
from dashboards.compliance import ContractCompliance, contract_compliance

logger = logging.getLogger(__name__)

# Shares of the annual commitment the projected spend may fall under, highest first.
COMMITMENT_THRESHOLDS = (Decimal("0.90"), Decimal("0.75"), Decimal("0.50"))

MESSAGE = _(
    "Contract %(number)s of %(client)s is behind its annual commitment: %(projected)s "
    "%(currency)s projected for the contract year against %(commitment)s %(currency)s "
    "(under %(threshold)s%%)."
)


def threshold_for(row: ContractCompliance) -> Decimal | None:
    """The lowest threshold the contract's projection is under, or None (on pace, no pace)."""
    if row.on_pace is not False or not row.annual_commitment or row.projected_spend is None:
        return None
    share = row.projected_spend / row.annual_commitment
    under = [limit for limit in COMMITMENT_THRESHOLDS if share < limit]
    return under[-1] if under else None


def commitment_watch(*, today: datetime.date | None = None) -> int:
    """Notify the NAMs of the contracts behind pace; returns the notifications created."""
    today = today or timezone.localdate()
    rows = contract_compliance(user=whole_book_reader("commitment-watch"), today=today)
    behind = [(row, limit) for row in rows if (limit := threshold_for(row)) is not None]
    if not behind:
        return 0
    nams = active_nams((row.client_id for row, _limit in behind), today)
    notices = [
        Notice(
            user=user,
            kind=NotificationKind.COMMITMENT_PACE,
            key=(
                f"commitment:{row.contract_id}:{row.year_starts_on.isoformat()}"
                f":under-{int(limit * 100)}"
            ),
            message=MESSAGE,
            params={
                "number": row.number,
                "client": row.client_name,
                "projected": row.projected_spend,
                "commitment": row.annual_commitment,
                "currency": row.currency,
                "threshold": int(limit * 100),
            },
            url=reverse("orders:contract_detail", args=[row.contract_id]),
        )
        for row, limit in behind
        for user in sorted(nams.get(row.client_id, ()))
    ]
    with transaction.atomic():
        created = len(notify_many(notices=notices))
    logger.info("commitment watch on %s: %d behind pace, %d told", today, len(behind), created)
    return created
