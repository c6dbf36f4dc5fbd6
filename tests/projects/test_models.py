"""Every constraint of projects/models.py, violated once in the database (no model validation)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import IntegrityError, models, transaction

from projects.models import (
    MarketingInitiative,
    Milestone,
    MilestoneDependency,
    Project,
    ServiceCase,
    ServiceLevel,
    Task,
    TrainingAttendance,
    TrainingSession,
)
from tests.factories import (
    MarketingInitiativeFactory,
    MilestoneDependencyFactory,
    MilestoneFactory,
    ProjectFactory,
    ServiceCaseFactory,
    ServiceLevelFactory,
    SiteFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


def update(factory: Callable[..., models.Model], **values: object) -> Callable[[], None]:
    """Make a valid row, then write `values` over it straight in SQL."""

    def violate() -> None:
        row = factory()
        type(row).objects.filter(pk=row.pk).update(**values)

    return violate


def own_predecessor() -> None:
    milestone = MilestoneFactory()
    MilestoneDependency.objects.create(milestone=milestone, predecessor=milestone)


def same_predecessor_twice() -> None:
    dependency = MilestoneDependencyFactory()
    MilestoneDependencyFactory(milestone=dependency.milestone, predecessor=dependency.predecessor)


def site_and_remote() -> None:
    TrainingSessionFactory(site=SiteFactory(), remote=True)


def neither_site_nor_remote() -> None:
    TrainingSessionFactory(site=None, remote=False)


def attending_twice() -> None:
    attendance = TrainingAttendanceFactory()
    TrainingAttendanceFactory(session=attendance.session, contact=attendance.contact)


def same_priority_twice() -> None:
    level = ServiceLevelFactory(priority="high")
    ServiceLevelFactory(contract=level.contract, priority="high")


def resolved_without_resolution() -> None:
    ServiceCaseFactory(status="resolved", resolution="", resolved_at=NOW)


VIOLATIONS: dict[str, Callable[[], None]] = {
    "project_kind_valid": update(ProjectFactory, kind="party"),
    "project_status_valid": update(ProjectFactory, status="abandoned"),
    "project_due_after_start": update(ProjectFactory, due_on=datetime.date(2025, 12, 31)),
    "project_budget_not_negative": update(ProjectFactory, budget=Decimal("-0.01")),
    "milestone_billable_not_negative": update(MilestoneFactory, billable_amount=Decimal("-1")),
    "milestone_due_after_start": update(MilestoneFactory, starts_on=datetime.date(2026, 7, 1)),
    "milestone_not_own_predecessor": own_predecessor,
    "milestone_dependency_unique": same_predecessor_twice,
    "training_site_xor_remote": site_and_remote,
    "training_duration_positive": update(TrainingSessionFactory, duration_minutes=0),
    "training_attendance_unique": attending_twice,
    "training_feedback_range": update(TrainingAttendanceFactory, feedback_score=6),
    "initiative_channel_valid": update(MarketingInitiativeFactory, channel="carrier_pigeon"),
    "initiative_status_valid": update(MarketingInitiativeFactory, status="paused"),
    "initiative_metric_valid": update(MarketingInitiativeFactory, target_metric="vibes"),
    "initiative_ends_after_start": update(
        MarketingInitiativeFactory, ends_on=datetime.date(2026, 2, 28)
    ),
    "initiative_contribution_within_budget": update(
        MarketingInitiativeFactory, our_contribution=Decimal("10000.01")
    ),
    "initiative_figures_not_negative": update(MarketingInitiativeFactory, result_value=-1),
    "service_level_unique": same_priority_twice,
    "service_level_priority_valid": update(ServiceLevelFactory, priority="whenever"),
    "service_level_hours_positive": update(ServiceLevelFactory, hours=0),
    "service_case_priority_valid": update(ServiceCaseFactory, priority="meh"),
    "service_case_status_valid": update(
        ServiceCaseFactory, status="lost", resolution="Gone.", resolved_at=NOW
    ),
    "service_case_resolved_has_resolution": resolved_without_resolution,
    "service_case_sla_after_opening": update(
        ServiceCaseFactory, sla_due=NOW - datetime.timedelta(minutes=1)
    ),
}


@pytest.mark.parametrize("name", VIOLATIONS)
def test_the_database_refuses_it(name: str) -> None:
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        VIOLATIONS[name]()


def test_every_constraint_is_violated_by_a_test() -> None:
    declared = {
        constraint.name
        for model in (Project, Milestone, MilestoneDependency, Task, TrainingSession,
                      TrainingAttendance, MarketingInitiative, ServiceLevel, ServiceCase)
        for constraint in model._meta.constraints
    }  # fmt: skip
    assert declared == set(VIOLATIONS)


def test_the_model_validation_gives_the_constraint_message() -> None:
    project = ProjectFactory.build(starts_on=datetime.date(2026, 2, 1),
                                   due_on=datetime.date(2026, 1, 1))  # fmt: skip
    with pytest.raises(Exception, match="cannot be due before it starts"):
        project.full_clean(exclude=["client", "manager"])


def test_a_closed_case_with_its_resolution_is_accepted_and_an_open_one_needs_none() -> None:
    closed = ServiceCaseFactory(status="closed", resolution="Replaced the unit.", resolved_at=NOW)
    assert not closed.is_open
    assert not closed.is_past_sla(NOW + datetime.timedelta(days=30))
    waiting = ServiceCaseFactory(status="waiting")
    assert waiting.is_past_sla(waiting.sla_due + datetime.timedelta(seconds=1))
    assert not waiting.is_past_sla(waiting.sla_due)


def test_a_session_at_a_client_site_is_not_remote() -> None:
    session = TrainingSessionFactory(site=SiteFactory(), remote=False)
    assert session.ends_at == session.starts_at + datetime.timedelta(hours=2)


def test_changes_to_projects_and_cases_are_audited() -> None:
    from accounts_crm.audit import audit_trail

    project = ProjectFactory()
    Project.objects.filter(pk=project.pk).update(name="Renamed in bulk")
    events = list(audit_trail(project))
    assert [e.pgh_label for e in events][:2] == ["update", "insert"]
    assert events[0].pgh_diff["name"] == [project.name, "Renamed in bulk"]
    case = ServiceCaseFactory()
    assert audit_trail(case).count() == 1
