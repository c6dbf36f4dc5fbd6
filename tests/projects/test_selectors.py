"""Project selectors: the health rule on hand-built timelines (SQL and Python agree), timeline
data, due soon, the case queue, training and initiative figures, visibility and query counts."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.http import Http404

from accounts_crm.access import Role
from clients.models import Client
from projects import selectors
from projects.models import Milestone, Project, health_label
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContactFactory,
    MarketingInitiativeFactory,
    MilestoneFactory,
    ProjectFactory,
    ServiceCaseFactory,
    TaskFactory,
    TrainingAttendanceFactory,
    TrainingSessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 10)
NOW = datetime.datetime(2026, 6, 10, 12, 0, tzinfo=datetime.UTC)


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


@pytest.fixture
def client_co(db: None) -> Client:
    return ClientFactory(name="Alfa S.p.A.")


@pytest.fixture
def nam(client_co: Client) -> User:
    return AccountTeamMemberFactory(client=client_co, role="nam").user


# Health: one rule, in SQL and in Python ----------------------------------------------------------


def waits(milestone_due: int, predecessor_done: bool, predecessor_due: int = 0) -> Callable:
    """An open milestone due in `milestone_due` days waiting for one predecessor."""

    def build(project: Project) -> None:
        predecessor = MilestoneFactory(
            project=project, due_on=day(predecessor_due),
            completed_on=day(-1) if predecessor_done else None,
        )  # fmt: skip
        MilestoneFactory(project=project, due_on=day(milestone_due)).predecessors.add(predecessor)

    return build


def milestone(due: int, done: bool = False) -> Callable:
    def build(project: Project) -> None:
        MilestoneFactory(project=project, due_on=day(due), completed_on=day(-2) if done else None)

    return build


def nothing(project: Project) -> None:
    pass


# (name, project fields, timeline builder, expected health)
TIMELINES = [
    ("no milestones, due later", {}, nothing, "on_track"),
    ("the project's due date has passed", {"due_on": day(-1)}, nothing, "late"),
    ("the project is due today", {"due_on": day(0)}, nothing, "on_track"),
    ("an open milestone is past due", {}, milestone(-1), "late"),
    ("a completed milestone was due yesterday", {}, milestone(-1, done=True), "on_track"),
    ("an open milestone is due today", {}, milestone(0), "on_track"),
    ("due in 3 days, waiting for an open predecessor", {}, waits(3, False), "at_risk"),
    ("due today, waiting for an open predecessor", {}, waits(0, False, 0), "at_risk"),
    ("due in 7 days, waiting", {}, waits(7, False), "at_risk"),
    ("due in 8 days, waiting", {}, waits(8, False), "on_track"),
    ("due in 3 days, predecessor completed", {}, waits(3, True), "on_track"),
    ("waiting for a predecessor past due: late wins", {}, waits(3, False, -1), "late"),
    ("on hold with an open milestone past due", {"status": "on_hold"}, milestone(-5), "late"),
    ("planned and waiting", {"status": "planned"}, waits(2, False), "at_risk"),
    ("completed: no health", {"status": "completed", "due_on": day(-9)}, milestone(-5), None),
    ("cancelled: no health", {"status": "cancelled"}, milestone(-5), None),
]


@pytest.mark.parametrize(
    ("fields", "build", "expected"), [t[1:] for t in TIMELINES], ids=[t[0] for t in TIMELINES]
)
def test_health_follows_the_rule_in_sql_and_in_python(
    client_co: Client, nam: User, fields: dict, build: Callable, expected: str | None
) -> None:
    fields = {"starts_on": day(-60), "due_on": day(60), **fields}
    project = ProjectFactory(client=client_co, **fields)
    build(project)
    ProjectFactory(client=client_co, due_on=day(-1))  # a late neighbour must not leak in

    listed = selectors.project_list(user=nam, today=TODAY).get(pk=project.pk)
    detail = selectors.project_detail(user=nam, pk=project.pk, today=TODAY)
    assert listed.health == expected
    assert detail.health_on(TODAY) == expected
    assert listed.health_rank == {"late": 0, "at_risk": 1, "on_track": 2, None: 3}[expected]


def test_a_closed_project_shows_a_dash_for_health() -> None:
    assert health_label(None) == "—"
    assert health_label("at_risk") == "At risk"


def test_the_list_filters_and_sorts_by_health_and_counts_milestones(
    client_co: Client, nam: User
) -> None:
    late = ProjectFactory(client=client_co, name="Late", starts_on=day(-30), due_on=day(30))
    MilestoneFactory(project=late, due_on=day(-1))
    MilestoneFactory(project=late, due_on=day(-3), completed_on=day(-3))
    fine = ProjectFactory(client=client_co, name="Fine", starts_on=day(-30), due_on=day(30))
    MilestoneFactory(project=fine, due_on=day(20))
    rows = selectors.project_list(user=nam, today=TODAY)
    assert list(rows.filter(health="late")) == [late]
    assert [p.name for p in rows.order_by("health_rank")] == ["Late", "Fine"]
    counted = rows.get(pk=late.pk)
    assert (counted.milestone_count, counted.milestones_done, counted.next_due) == (2, 1, day(-1))


# Lists: queries and visibility -----------------------------------------------------------------


def test_the_project_list_is_one_query_however_many_rows(
    client_co: Client, nam: User, django_assert_num_queries
) -> None:
    for _ in range(4):
        MilestoneFactory(project=ProjectFactory(client=client_co))
    list(selectors.project_list(user=nam))  # the user's roles are read once per request
    with django_assert_num_queries(1):
        rows = list(selectors.project_list(user=nam))
        assert [r.client.name for r in rows] == ["Alfa S.p.A."] * 4
        assert {r.manager.username for r in rows}


def test_the_project_page_and_its_timeline_take_five_queries(
    client_co: Client, nam: User, django_assert_num_queries
) -> None:
    project = ProjectFactory(client=client_co)
    first = MilestoneFactory(project=project)
    for _ in range(5):
        m = MilestoneFactory(project=project)
        m.predecessors.add(first)
        TaskFactory(project=project, milestone=m)
    TaskFactory(project=project)
    selectors.project_list(user=nam).exists()
    with django_assert_num_queries(5):
        detail = selectors.project_detail(user=nam, pk=project.pk)
        data = selectors.timeline(project=detail)
        assert len(data.rows) == 7
        assert len(detail.loose_tasks) == 1
        assert sum(len(m.tasks.all()) for m in detail.milestones.all()) == 5


def test_no_one_sees_another_clients_projects(
    client_co: Client, nam: User, make_user: Callable[..., User]
) -> None:
    project = ProjectFactory(client=client_co)
    outsider = AccountTeamMemberFactory(role="project_manager").user
    assert not selectors.project_list(user=outsider).exists()
    with pytest.raises(Http404):
        selectors.project_detail(user=outsider, pk=project.pk)
    assert list(selectors.project_list(user=make_user(Role.FINANCE))) == [project]
    assert list(selectors.project_list(user=client_co.team.lead)) == [project]


# Timeline data ---------------------------------------------------------------------------------


def test_the_timeline_places_bars_today_and_dependencies(client_co: Client, nam: User) -> None:
    project = ProjectFactory(client=client_co, name="Roll-out", starts_on=datetime.date(2026, 6, 1),
                             due_on=datetime.date(2026, 6, 30))  # fmt: skip
    design = MilestoneFactory(project=project, name="Design", position=1,
                              due_on=datetime.date(2026, 6, 5),
                              completed_on=datetime.date(2026, 6, 7))  # fmt: skip
    build = MilestoneFactory(project=project, name="Build", position=2,
                             due_on=datetime.date(2026, 6, 9))  # fmt: skip
    build.predecessors.add(design)
    accept = MilestoneFactory(project=project, name="Accept", position=3,
                              due_on=datetime.date(2026, 6, 20))  # fmt: skip
    accept.predecessors.add(build)

    data = selectors.timeline(project=selectors.project_detail(user=nam, pk=project.pk),
                              today=TODAY)  # fmt: skip

    assert (data.start, data.end, data.days) == (datetime.date(2026, 6, 1),
                                                 datetime.date(2026, 6, 30), 30)  # fmt: skip
    assert data.today_at == 30.0  # 9 days of 30 in
    assert data.dependencies == [(design.pk, build.pk), (build.pk, accept.pk)]
    assert data.months == [(datetime.date(2026, 6, 1), 0.0)]
    head, *rows = data.rows
    assert (head.kind, head.name, head.health, head.left, head.width) == (
        "project", "Roll-out", "late", 0.0, 100.0)  # fmt: skip
    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows] == ["Design", "Build", "Accept"]
    d, b, a = by_name["Design"], by_name["Build"], by_name["Accept"]
    assert (d.late, d.finished_late, d.waiting, d.start) == (False, True, False, project.starts_on)
    assert d.width == 23.333  # 1..7 June: the bar runs to the later completion
    assert (b.late, b.waiting, b.predecessor_ids, b.start) == (True, False, (design.pk,), d.due)
    # Accept's bar starts when its predecessor is due; it waits for Build, which is open.
    assert (a.late, a.waiting, a.start, a.left, a.due_at) == (
        False, True, datetime.date(2026, 6, 9), 26.667, 63.333)  # fmt: skip


def test_the_span_stretches_to_today_and_the_month_ticks(client_co: Client, nam: User) -> None:
    project = ProjectFactory(client=client_co, starts_on=datetime.date(2026, 3, 15),
                             due_on=datetime.date(2026, 4, 30))  # fmt: skip
    MilestoneFactory(project=project, due_on=datetime.date(2026, 4, 10),
                     starts_on=datetime.date(2026, 4, 1))  # fmt: skip
    data = selectors.timeline(project=selectors.project_detail(user=nam, pk=project.pk),
                              today=TODAY)  # fmt: skip
    assert (data.start, data.end) == (datetime.date(2026, 3, 15), TODAY)
    assert data.today_at == round((TODAY - data.start).days * 100 / data.days, 3)
    assert [m for m, _ in data.months] == [datetime.date(2026, m, 1) for m in (4, 5, 6)]
    assert data.rows[1].start == datetime.date(2026, 4, 1)


def test_the_client_timeline_shows_open_projects_with_their_milestones(
    client_co: Client, nam: User, django_assert_num_queries
) -> None:
    first = ProjectFactory(client=client_co, name="First", starts_on=day(-10))
    MilestoneFactory.create_batch(3, project=first)
    second = ProjectFactory(client=client_co, name="Second", starts_on=day(-5))
    MilestoneFactory(project=second)
    ProjectFactory(client=client_co, name="Done", status="completed")
    ProjectFactory(name="Elsewhere")
    selectors.project_list(user=nam).exists()
    with django_assert_num_queries(3):
        data = selectors.client_timeline(user=nam, client=client_co, today=TODAY)
    assert [(r.kind, r.project_id) for r in data.rows] == [
        ("project", first.pk), *[("milestone", first.pk)] * 3, ("project", second.pk),
        ("milestone", second.pk),
    ]  # fmt: skip
    closed = selectors.client_timeline(user=nam, client=client_co, today=TODAY,
                                       include_closed=True)  # fmt: skip
    assert "Done" in [r.name for r in closed.rows]


# Due soon --------------------------------------------------------------------------------------


def test_due_soon_finds_open_milestones_due_within_the_days_or_overdue(
    client_co: Client, nam: User
) -> None:
    project = ProjectFactory(client=client_co)
    overdue = MilestoneFactory(project=project, name="Overdue", due_on=day(-2))
    soon = MilestoneFactory(project=project, name="Soon", due_on=day(7))
    MilestoneFactory(project=project, name="Later", due_on=day(8))
    MilestoneFactory(project=project, name="Done", due_on=day(1), completed_on=day(0))
    MilestoneFactory(project=ProjectFactory(client=client_co, status="cancelled"), due_on=day(1))
    MilestoneFactory(name="Someone else's", due_on=day(1))

    rows = list(selectors.milestones_due_soon(user=nam, days=7, today=TODAY))
    assert rows == [overdue, soon]
    assert [r.is_late for r in rows] == [True, False]
    assert [m.name for m in selectors.milestones_due_soon(user=nam, days=30, today=TODAY)] == [
        "Overdue", "Soon", "Later"]  # fmt: skip


# Service cases ---------------------------------------------------------------------------------


def test_the_case_queue_puts_past_sla_first_and_hides_closed_and_foreign_cases(
    client_co: Client, nam: User, django_assert_num_queries
) -> None:
    def case(subject: str, due_hours: int, **fields: object):
        opened = NOW - datetime.timedelta(hours=48)
        return ServiceCaseFactory(client=client_co, subject=subject, opened_at=opened,
                                  sla_due=NOW + datetime.timedelta(hours=due_hours),
                                  **fields)  # fmt: skip

    case("Later", 5, priority="low")
    case("Tie, urgent", 5, priority="urgent")
    case("Way past", -20)
    case("Just past", -1, status="waiting")
    case("Resolved", -30, status="resolved", resolution="Fixed.", resolved_at=NOW)
    ServiceCaseFactory(subject="Foreign", sla_due=NOW - datetime.timedelta(hours=1))
    selectors.project_list(user=nam).exists()
    with django_assert_num_queries(1):
        queue = [(c.subject, c.is_past_sla) for c in selectors.case_queue(user=nam, now=NOW)]
    assert queue == [("Way past", True), ("Just past", True), ("Tie, urgent", False),
                     ("Later", False)]  # fmt: skip
    assert selectors.case_list(user=nam, now=NOW).filter(is_past_sla=True).count() == 2


def test_an_outsider_sees_no_case() -> None:
    case = ServiceCaseFactory()
    outsider = UserFactory(roles=[Role.ACCOUNT_STAFF])
    assert not selectors.case_queue(user=outsider).exists()
    with pytest.raises(Http404):
        selectors.case_detail(user=outsider, pk=case.pk)


# Training and initiatives ----------------------------------------------------------------------


def test_who_has_been_trained_on_what(client_co: Client, nam: User) -> None:
    anna = ContactFactory(client=client_co, first_name="Anna", last_name="Bianchi")
    carlo = ContactFactory(client=client_co, first_name="Carlo", last_name="Rossi")
    basics = TrainingSessionFactory(client=client_co, topic="Basics",
                                    starts_at=NOW - datetime.timedelta(days=30))  # fmt: skip
    reports = TrainingSessionFactory(client=client_co, topic="Reports", starts_at=NOW)
    TrainingAttendanceFactory(session=basics, contact=anna, feedback_score=5)
    TrainingAttendanceFactory(session=reports, contact=anna, feedback_score=3)
    TrainingAttendanceFactory(session=reports, contact=carlo, attended=False)
    TrainingAttendanceFactory(session=TrainingSessionFactory(topic="Elsewhere"))

    record = selectors.attendance_by_client(user=nam, client=client_co)
    assert [(r.contact, r.topics) for r in record] == [(anna, ["Basics", "Reports"])]
    assert [s.feedback_score for s in record[0].sessions] == [5, 3]

    listed = selectors.training_list(user=nam).get(pk=reports.pk)
    assert (listed.attendee_count, listed.attended_count, listed.average_feedback) == (
        2, 1, Decimal("3"))  # fmt: skip


def test_an_initiative_shows_its_result_against_the_target(client_co: Client, nam: User) -> None:
    hit = MarketingInitiativeFactory(client=client_co, target_value=Decimal("80"),
                                     result_value=Decimal("100"))  # fmt: skip
    untargeted = MarketingInitiativeFactory(client=client_co, target_value=Decimal("0"),
                                            result_value=Decimal("5"))  # fmt: skip
    rows = selectors.initiative_list(user=nam)
    assert rows.get(pk=hit.pk).achievement == Decimal("125")
    assert rows.get(pk=untargeted.pk).achievement is None


def test_the_client_summary_counts_what_the_tabs_show(client_co: Client, nam: User) -> None:
    MilestoneFactory(project=ProjectFactory(client=client_co), due_on=datetime.date(2000, 1, 1))
    ProjectFactory(client=client_co)
    ProjectFactory(client=client_co, status="completed")
    ServiceCaseFactory(client=client_co)
    MarketingInitiativeFactory(client=client_co, status="running")
    TrainingSessionFactory(client=client_co)
    assert selectors.client_delivery_summary(user=nam, client=client_co) == {
        "open_projects": 2, "late_projects": 1, "training_sessions": 1,
        "running_initiatives": 1, "open_cases": 1, "cases_past_sla": 1,
    }  # fmt: skip


def test_milestone_and_task_lists_follow_visibility(client_co: Client, nam: User) -> None:
    mine = MilestoneFactory(project=ProjectFactory(client=client_co), due_on=day(-1))
    MilestoneFactory()
    TaskFactory(project=mine.project)
    TaskFactory()
    assert [(m, m.is_late) for m in selectors.milestone_list(user=nam, today=TODAY)] == [
        (mine, True)]  # fmt: skip
    assert [t.project for t in selectors.task_list(user=nam)] == [mine.project]
    assert Milestone.objects.count() == 2
