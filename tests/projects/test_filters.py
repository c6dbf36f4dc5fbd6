"""The FilterSets on the selectors' querysets: each filter narrows as its label says."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Client
from projects import selectors
from projects.filters import (
    MarketingInitiativeFilter,
    MilestoneFilter,
    ProjectFilter,
    ServiceCaseFilter,
    TaskFilter,
    TrainingSessionFilter,
)
from projects.models import Project
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    MarketingInitiativeFactory,
    MilestoneFactory,
    OrderFactory,
    ProjectFactory,
    ServiceCaseFactory,
    SiteFactory,
    TaskFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
)

pytestmark = pytest.mark.django_db


def day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


@pytest.fixture
def client_co(db: None) -> Client:
    return ClientFactory(name="Alfa S.p.A.")


@pytest.fixture
def nam(client_co: Client) -> User:
    return AccountTeamMemberFactory(client=client_co, role="nam").user


def names(filterset: object) -> list[str]:
    assert filterset.is_valid(), filterset.errors
    return [row.name if hasattr(row, "name") else row.subject for row in filterset.qs]


@pytest.fixture
def book(client_co: Client) -> dict[str, Project]:
    order = OrderFactory(client=client_co, number="ORD-2026-00042")
    late = ProjectFactory(client=client_co, name="Late roll-out", kind="implementation",
                          starts_on=day(-40), due_on=day(-1), order=order)  # fmt: skip
    risky = ProjectFactory(client=client_co, name="Risky fair", kind="marketing",
                           starts_on=day(-10), due_on=day(40))  # fmt: skip
    waiting = MilestoneFactory(project=risky, due_on=day(3))
    waiting.predecessors.add(MilestoneFactory(project=risky, due_on=day(1)))
    fine = ProjectFactory(client=client_co, name="Fine delivery", starts_on=day(-5),
                          due_on=day(90))  # fmt: skip
    done = ProjectFactory(client=client_co, name="Done training", kind="training",
                          status="completed", starts_on=day(-90), due_on=day(-30))  # fmt: skip
    return {"late": late, "risky": risky, "fine": fine, "done": done}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"health": "late"}, ["Late roll-out"]),
        ({"health": "at_risk"}, ["Risky fair"]),
        ({"health": "on_track"}, ["Fine delivery"]),
        ({"health": "none"}, ["Done training"]),
        ({"is_open": "false"}, ["Done training"]),
        ({"kind": "marketing"}, ["Risky fair"]),
        ({"q": "00042"}, ["Late roll-out"]),
        ({"q": "alfa", "ordering": "health"},
         ["Late roll-out", "Risky fair", "Fine delivery", "Done training"]),
        ({"due_after": day(0).isoformat(), "due_before": day(60).isoformat()}, ["Risky fair"]),
        ({"ordering": "-due_on", "is_open": "true"},
         ["Fine delivery", "Risky fair", "Late roll-out"]),
    ],
)  # fmt: skip
def test_project_filters(book: dict, nam: User, params: dict, expected: list[str]) -> None:
    assert names(ProjectFilter(params, queryset=selectors.project_list(user=nam))) == expected


def test_health_filters_a_plain_queryset_too(book: dict) -> None:
    filtered = ProjectFilter({"health": "late"}, queryset=Project.objects.all())
    assert names(filtered) == ["Late roll-out"]


def test_an_unknown_health_is_a_clear_error_not_a_crash(book: dict, nam: User) -> None:
    filtered = ProjectFilter({"health": "sunny"}, queryset=selectors.project_list(user=nam))
    assert not filtered.is_valid()
    assert "health" in filtered.errors


def test_milestone_filters(client_co: Client, nam: User) -> None:
    project = ProjectFactory(client=client_co)
    MilestoneFactory(project=project, name="Overdue", due_on=day(-1))
    MilestoneFactory(project=project, name="Soon", due_on=day(5))
    MilestoneFactory(project=project, name="Later", due_on=day(30))
    MilestoneFactory(project=project, name="Done", due_on=day(-3), completed_on=day(-3))
    rows = selectors.milestone_list(user=nam)
    assert names(MilestoneFilter({"due_within": "7"}, queryset=rows)) == ["Soon"]
    assert names(MilestoneFilter({"overdue": "true"}, queryset=rows)) == ["Overdue"]
    assert names(MilestoneFilter({"completed": "true"}, queryset=rows)) == ["Done"]
    assert names(MilestoneFilter({"completed": "false", "ordering": "-due_on"},
                                 queryset=rows)) == ["Later", "Soon", "Overdue"]  # fmt: skip
    assert not MilestoneFilter({"due_within": "-1"}, queryset=rows).is_valid()


def test_task_filters(client_co: Client, nam: User) -> None:
    project = ProjectFactory(client=client_co)
    TaskFactory(project=project, title="Open one")
    TaskFactory(project=project, title="Finished", done_at=timezone.now())
    rows = selectors.task_list(user=nam)
    filtered = TaskFilter({"done": "false"}, queryset=rows)
    assert filtered.is_valid()
    assert [t.title for t in filtered.qs] == ["Open one"]


def test_case_filters(client_co: Client, nam: User) -> None:
    now = timezone.now()
    past = ServiceCaseFactory(client=client_co, subject="Past", priority="low", assignee=nam,
                              opened_at=now - datetime.timedelta(days=2),
                              sla_due=now - datetime.timedelta(hours=1))  # fmt: skip
    ServiceCaseFactory(client=client_co, subject="Fresh", priority="urgent", opened_at=now,
                       sla_due=now + datetime.timedelta(hours=4))  # fmt: skip
    rows = selectors.case_list(user=nam)
    assert names(ServiceCaseFilter({"past_sla": "true"}, queryset=rows)) == ["Past"]
    assert names(ServiceCaseFilter({"unassigned": "true"}, queryset=rows)) == ["Fresh"]
    assert names(ServiceCaseFilter({"q": f"#{past.pk}"}, queryset=rows)) == ["Past"]
    assert names(ServiceCaseFilter({"q": "9" * 30}, queryset=rows)) == []
    assert names(ServiceCaseFilter({"ordering": "priority"}, queryset=rows)) == ["Fresh", "Past"]
    assert names(ServiceCaseFilter({"assignee": nam.pk}, queryset=rows)) == ["Past"]


def test_training_and_initiative_filters(client_co: Client, nam: User) -> None:
    at_site = TrainingSessionFactory(client=client_co, topic="On site", remote=False,
                                     site=SiteFactory(client=client_co))  # fmt: skip
    TrainingSessionFactory(client=client_co, topic="Online")
    attendance = TrainingAttendanceFactory(session=at_site)
    sessions = selectors.training_list(user=nam)
    for params in ({"remote": "false"}, {"contact": attendance.contact_id}):
        filtered = TrainingSessionFilter(params, queryset=sessions)
        assert filtered.is_valid()
        assert [s.topic for s in filtered.qs] == ["On site"]

    MarketingInitiativeFactory(client=client_co, name="March fair")
    MarketingInitiativeFactory(client=client_co, name="Summer webinar", channel="webinar",
                               starts_on=datetime.date(2026, 7, 1),
                               ends_on=datetime.date(2026, 7, 31),
                               result_value=Decimal("150"))  # fmt: skip
    rows = selectors.initiative_list(user=nam)
    assert names(MarketingInitiativeFilter({"active_on": "2026-03-15"}, queryset=rows)) == [
        "March fair"]  # fmt: skip
    assert names(MarketingInitiativeFilter({"channel": "webinar"}, queryset=rows)) == [
        "Summer webinar"]  # fmt: skip
    assert names(MarketingInitiativeFilter({"ordering": "-achievement"}, queryset=rows))[0] == (
        "Summer webinar")  # fmt: skip
