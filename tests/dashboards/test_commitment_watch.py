"""The commitment watch: the NAMs of a contract behind its commitment's pace hear it once per
threshold and contract year; contracts on pace or without a commitment are never reported."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts_crm.celery import app as celery_app
from accounts_crm.models import Notification, UserPreferences
from dashboards import tasks
from dashboards.commitment_watch import commitment_watch
from orders.models import Contract
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    OrderFactory,
    OrderLineFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
# Contract year 15 March 2026 - 14 March 2027: on 1 October, 201 of its 365 days have passed.
TODAY = datetime.date(2026, 10, 1)


def contract_spending(amount: str, commitment: str = "100000.00") -> Contract:
    client = ClientFactory()
    contract = ContractFactory(
        client=client, starts_on=datetime.date(2025, 3, 15), ends_on=datetime.date(2027, 3, 14),
        annual_commitment=D(commitment),
    )  # fmt: skip
    order = OrderFactory(client=client, contract=contract, status="confirmed",
                         order_date=datetime.date(2026, 6, 1))  # fmt: skip
    OrderLineFactory(order=order, quantity=D("1"), unit_price=D(amount))
    return contract


def nam_of(contract: Contract) -> object:
    return AccountTeamMemberFactory(
        client=contract.client, role="nam", starts_on=datetime.date(2025, 1, 1)
    ).user


def keys_of(user: object) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("key", flat=True))


def test_a_contract_behind_pace_tells_its_nam_once_at_the_threshold_it_reached() -> None:
    # 33,000 in 201 days projects 59,925.37 for the year: under 75% of 100,000, not under 50%.
    contract = contract_spending("33000.00")
    nam = nam_of(contract)
    UserPreferences.objects.create(user=nam, language="en")
    other = AccountTeamMemberFactory(role="nam", starts_on=datetime.date(2025, 1, 1)).user

    assert commitment_watch(today=TODAY) == 1
    assert commitment_watch(today=TODAY) == 0  # run twice: nothing new

    [notification] = Notification.objects.filter(user=nam)
    assert notification.key == f"commitment:{contract.pk}:2026-03-15:under-75"
    assert notification.kind == "commitment_pace"
    assert notification.url == f"/orders/contracts/{contract.pk}/"
    assert "59,925.37 EUR projected" in notification.message
    assert "under 75%" in notification.message
    assert keys_of(other) == []


def test_falling_further_behind_tells_again_at_the_next_threshold() -> None:
    contract = contract_spending("33000.00")
    nam = nam_of(contract)
    commitment_watch(today=TODAY)

    # Two months later with nothing more ordered: 33,000 in 262 days projects 45,972.52 (< 50%).
    commitment_watch(today=datetime.date(2026, 12, 1))

    assert sorted(keys_of(nam)) == [
        f"commitment:{contract.pk}:2026-03-15:under-50",
        f"commitment:{contract.pk}:2026-03-15:under-75",
    ]


def test_contracts_on_pace_or_without_a_commitment_are_not_reported() -> None:
    on_pace = contract_spending("60000.00")  # projects 108,955.22: on pace
    no_commitment = contract_spending("10.00")
    Contract.objects.filter(pk=no_commitment.pk).update(annual_commitment=None)
    nams = [nam_of(on_pace), nam_of(no_commitment)]

    assert commitment_watch(today=TODAY) == 0
    assert not Notification.objects.filter(user__in=nams).exists()


def test_the_message_is_in_the_nams_language() -> None:
    contract = contract_spending("33000.00")
    nam = nam_of(contract)
    UserPreferences.objects.create(user=nam, language="it")

    commitment_watch(today=TODAY)

    message = Notification.objects.get(user=nam).message
    assert "59.925,37 EUR" in message
    assert "in ritardo" in message  # the Italian catalogue's sentence


def test_the_task_runs_the_watch_and_is_scheduled_daily() -> None:
    contract = contract_spending("33000.00")
    nam_of(contract)

    result = tasks.commitment_watch.apply()

    assert result.successful()
    entry = celery_app.conf.beat_schedule["commitment-watch"]
    assert entry["task"] == "dashboards.tasks.commitment_watch"
    assert tasks.commitment_watch.acks_late
    assert tasks.commitment_watch.reject_on_worker_lost
