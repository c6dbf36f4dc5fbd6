"""The demo book's delivery side: every status, real deadlines for the scan, safe to seed twice."""

import time

import pytest
from django.db.models import Count

from accounts_crm import demo
from accounts_crm.models import Notification
from orders.models import Contract
from projects.deadlines import deadline_scan
from projects.models import (
    Health,
    MarketingInitiative,
    Milestone,
    MilestoneDependency,
    Project,
    ServiceCase,
    Task,
    TrainingAttendance,
    TrainingSession,
)

pytestmark = pytest.mark.django_db

MODELS = (
    Project, Milestone, MilestoneDependency, Task, TrainingSession, TrainingAttendance,
    MarketingInitiative, ServiceCase,
)  # fmt: skip


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seeded once for the module (the book takes seconds); rolled back at its end."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            started = time.monotonic()
            demo.seed()
            elapsed = time.monotonic() - started
            yield elapsed
            transaction.set_rollback(True)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_it_seeds_delivery_in_reasonable_time_and_only_once(seeded) -> None:
    # A ceiling against a pathological slowdown, not a speed test (about 19 s on a 2-core
    # machine; timings belong to the benchmark command): `./dev run` seeds this book.
    assert seeded < 90
    before = counts()
    assert all(before.values()), before

    demo.seed()

    assert counts() == before


def test_every_project_status_and_health_is_on_the_demo_book(seeded) -> None:
    assert set(Project.objects.values_list("status", flat=True)) == set(Project.Status.values)
    health = set(Project.objects.with_health().values_list("health", flat=True))
    assert set(Health.values) <= health
    assert set(Project.objects.values_list("kind", flat=True)) == set(Project.Kind.values)
    assert Project.objects.filter(order__isnull=False).count() == Project.objects.count()


def test_milestones_are_realistic(seeded) -> None:
    assert Milestone.objects.overdue().exists()
    assert Milestone.objects.filter(completed_on__isnull=False).exists()
    assert MilestoneDependency.objects.count() >= 10
    # Nothing was completed before its predecessor.
    early = MilestoneDependency.objects.filter(
        milestone__completed_on__isnull=False, predecessor__completed_on__isnull=True
    )
    assert not early.exists()
    assert Task.objects.filter(done_at__isnull=False).exists()
    assert Task.objects.filter(done_at__isnull=True).exists()


def test_training_initiatives_and_cases_cover_their_states(seeded) -> None:
    assert TrainingAttendance.objects.filter(feedback_score__isnull=False).count() >= 8
    assert TrainingAttendance.objects.filter(attended=False).exists()
    assert TrainingSession.objects.filter(remote=True).exists()
    assert TrainingSession.objects.filter(remote=False).exists()
    statuses = set(MarketingInitiative.objects.values_list("status", flat=True))
    assert statuses == set(MarketingInitiative.Status.values)
    assert set(ServiceCase.objects.values_list("status", flat=True)) == set(
        ServiceCase.Status.values
    )
    assert ServiceCase.objects.past_sla().exists()
    assert ServiceCase.objects.open().exclude(pk__in=ServiceCase.objects.past_sla()).exists()


def test_the_deadline_scan_finds_real_work_on_the_demo_book(seeded) -> None:
    result = deadline_scan()

    assert all(result.created.values()), result.created
    # The demo's invoice checks notify too (invoice-finding:<id>); the scan's keys have 3 parts.
    keys = set(Notification.objects.exclude(kind="invoice_finding").values_list("key", flat=True))
    thresholds = {key.split(":")[2] for key in keys}
    assert {"due-7d", "due-1d", "overdue", "escalated", "renewal-notice", "past-sla"} <= thresholds
    by_user = dict(
        Notification.objects.values_list("user__username").annotate(n=Count("id")).order_by()
    )
    assert {"giulia.nam", "marco.nam", "luca.pm", "paolo.lead"} <= set(by_user)
    assert Contract.objects.filter(number="CQ-LVS-2025").exists()
    assert deadline_scan().total == 0
