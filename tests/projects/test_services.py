"""Project services: predecessors, cycles, concurrent edits, SLA, links across clients and who
may do what, through the services against PostgreSQL."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts_crm.access import Role
from accounts_crm.errors import ConcurrentEditError, NotAllowedError
from clients.models import Client
from projects import services
from projects.errors import (
    CaseTransitionError,
    DependencyCycleError,
    PredecessorsOpenError,
    ProjectError,
    ServiceCaseError,
)
from projects.models import (
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    Task,
    TrainingSession,
)
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    MarketingInitiativeFactory,
    MilestoneFactory,
    OrderFactory,
    ProjectFactory,
    ServiceLevelFactory,
    SiteFactory,
    TaskFactory,
    TrainingSessionFactory,
    UserFactory,
)

TODAY = datetime.date(2026, 6, 10)
OPENED = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def client_co(db: None) -> Client:
    return ClientFactory(name="Alfa S.p.A.")


def member(client: Client, role: str) -> User:
    return AccountTeamMemberFactory(client=client, role=role).user


@pytest.fixture
def pm(client_co: Client) -> User:
    return member(client_co, "project_manager")


@pytest.fixture
def cs(client_co: Client) -> User:
    return member(client_co, "customer_service")


@pytest.fixture
def project(client_co: Client, pm: User) -> Project:
    return ProjectFactory(client=client_co, manager=pm)


def chain(project: Project, *names: str) -> list[Milestone]:
    """Milestones each waiting for the one before it."""
    made: list[Milestone] = []
    for name in names:
        milestone = MilestoneFactory(project=project, name=name, due_on=TODAY)
        if made:
            milestone.predecessors.add(made[-1])
        made.append(milestone)
    return made


# Predecessors ----------------------------------------------------------------------------------


def test_a_milestone_waits_for_its_predecessors_and_the_refusal_names_them(
    project: Project, pm: User
) -> None:
    design, build = chain(project, "Design", "Build")
    review = MilestoneFactory(project=project, name="Review")
    build.predecessors.add(review)

    with pytest.raises(
        PredecessorsOpenError, match="“Build” cannot be completed before “Design”, “Review”"
    ):
        services.milestone_complete(by=pm, milestone=build)
    assert Milestone.objects.get(pk=build.pk).completed_on is None

    services.milestone_complete(by=pm, milestone=design, on=TODAY - datetime.timedelta(days=2))
    services.milestone_complete(by=pm, milestone=review, on=TODAY - datetime.timedelta(days=1))
    done = services.milestone_complete(by=pm, milestone=build, on=TODAY)
    assert done.completed_on == TODAY == Milestone.objects.get(pk=build.pk).completed_on


def test_a_milestone_cannot_be_completed_before_its_predecessor_was(
    project: Project, pm: User
) -> None:
    design, build = chain(project, "Design", "Build")
    services.milestone_complete(by=pm, milestone=design, on=TODAY)
    with pytest.raises(PredecessorsOpenError, match="“Design” was completed later"):
        services.milestone_complete(by=pm, milestone=build, on=TODAY - datetime.timedelta(days=1))


def test_a_milestone_cannot_be_completed_in_the_future_or_twice(project: Project, pm: User) -> None:
    milestone = MilestoneFactory(project=project)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ProjectError, match="in the future"):
        services.milestone_complete(by=pm, milestone=milestone, on=tomorrow)
    services.milestone_complete(by=pm, milestone=milestone)
    with pytest.raises(ProjectError, match="already completed") as error:
        services.milestone_complete(by=pm, milestone=milestone)
    assert error.value.code == "already_completed"


def test_a_milestone_reopens_only_after_its_completed_successors(
    project: Project, pm: User
) -> None:
    design, build = chain(project, "Design", "Build")
    services.milestone_complete(by=pm, milestone=design)
    services.milestone_complete(by=pm, milestone=build)
    with pytest.raises(ProjectError, match="Reopen “Build” first"):
        services.milestone_reopen(by=pm, milestone=design)
    services.milestone_reopen(by=pm, milestone=build)
    services.milestone_reopen(by=pm, milestone=design)
    assert not Milestone.objects.filter(project=project, completed_on__isnull=False).exists()


# Cycles ----------------------------------------------------------------------------------------


def test_predecessors_that_would_close_a_loop_are_refused(project: Project, pm: User) -> None:
    a, _b, c = chain(project, "A", "B", "C")  # C waits for B waits for A
    with pytest.raises(DependencyCycleError, match="“C” already waits for “A”"):
        services.milestone_set_predecessors(by=pm, milestone=a, predecessors=[c])
    with pytest.raises(DependencyCycleError, match="its own predecessor"):
        services.milestone_set_predecessors(by=pm, milestone=a, predecessors=[a])
    assert list(a.predecessors.all()) == []

    d = MilestoneFactory(project=project, name="D")
    services.milestone_set_predecessors(by=pm, milestone=c, predecessors=[a, d])
    assert set(c.predecessors.all()) == {a, d}  # B dropped, A and D added


def test_predecessors_come_from_the_same_project(project: Project, pm: User) -> None:
    mine = MilestoneFactory(project=project)
    elsewhere = MilestoneFactory(name="Elsewhere")
    with pytest.raises(ValidationError, match="same project: “Elsewhere”"):
        services.milestone_set_predecessors(by=pm, milestone=mine, predecessors=[elsewhere])


def test_a_completed_milestone_cannot_start_waiting_for_an_open_one(
    project: Project, pm: User
) -> None:
    done = MilestoneFactory(project=project, name="Done", completed_on=TODAY)
    still_open = MilestoneFactory(project=project, name="Open")
    with pytest.raises(PredecessorsOpenError, match="cannot wait for “Open”"):
        services.milestone_set_predecessors(by=pm, milestone=done, predecessors=[still_open])


@pytest.mark.django_db(transaction=True)
def test_two_people_linking_two_milestones_both_ways_at_once_leave_no_cycle() -> None:
    project = ProjectFactory()
    pm = member(project.client, "project_manager")
    a = MilestoneFactory(project=project, name="A")
    b = MilestoneFactory(project=project, name="B")
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def link(milestone: Milestone, predecessor: Milestone) -> None:
        try:
            start.wait()
            services.milestone_set_predecessors(by=pm, milestone=milestone,
                                                predecessors=[predecessor])  # fmt: skip
            outcomes.append("linked")
        except DependencyCycleError as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=link, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ for o in outcomes) == ["DependencyCycleError", "str"]
    assert Milestone.predecessors.through.objects.filter(milestone__project=project).count() == 1


# Projects --------------------------------------------------------------------------------------


def test_a_project_may_follow_an_order_of_the_clients_group_only(
    pm: User, client_co: Client
) -> None:
    subsidiary = ClientFactory(parent=client_co, team=client_co.team)
    sibling_order = OrderFactory(client=subsidiary)
    project = services.project_save(
        by=pm, project=ProjectFactory.build(client=client_co, manager=pm, order=sibling_order)
    )
    assert project.pk
    assert project.version == 1

    outsider_order = OrderFactory(number="ORD-OUT-1")
    with pytest.raises(ValidationError, match="ORD-OUT-1 belongs to"):
        services.project_save(
            by=pm, project=ProjectFactory.build(client=client_co, manager=pm, order=outsider_order)
        )


def test_a_project_edit_on_an_old_version_is_refused(project: Project, pm: User) -> None:
    first = Project.objects.get(pk=project.pk)
    first.name = "Roll-out, phase 1"
    saved = services.project_save(by=pm, project=first, version=1)
    assert (saved.name, saved.version) == ("Roll-out, phase 1", 2)

    stale = Project.objects.get(pk=project.pk)
    stale.name = "Something else"
    with pytest.raises(ConcurrentEditError):
        services.project_save(by=pm, project=stale, version=1)
    assert Project.objects.get(pk=project.pk).name == "Roll-out, phase 1"


def test_bad_dates_give_the_constraint_message_and_change_nothing(
    project: Project, pm: User
) -> None:
    edited = Project.objects.get(pk=project.pk)
    edited.due_on = edited.starts_on - datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="cannot be due before it starts"):
        services.project_save(by=pm, project=edited, version=1)
    assert Project.objects.get(pk=project.pk).version == 1


def test_a_project_is_completed_only_when_its_milestones_are(project: Project, pm: User) -> None:
    MilestoneFactory(project=project, name="Go-live")
    edited = Project.objects.get(pk=project.pk)
    edited.status = Project.Status.COMPLETED
    with pytest.raises(ProjectError, match="Complete these milestones first: “Go-live”"):
        services.project_save(by=pm, project=edited, version=1)


def test_milestones_of_a_closed_project_stay_as_they_are(pm: User, client_co: Client) -> None:
    project = ProjectFactory(client=client_co, status="cancelled")
    with pytest.raises(ProjectError, match="reopen it"):
        services.milestone_save(by=pm, milestone=MilestoneFactory.build(project=project, owner=pm))


def test_milestone_save_does_not_complete_or_move_a_milestone(project: Project, pm: User) -> None:
    milestone = services.milestone_save(
        by=pm, milestone=MilestoneFactory.build(project=project, owner=pm, completed_on=TODAY)
    )
    assert milestone.completed_on is None
    milestone.project = ProjectFactory(client=project.client)
    with pytest.raises(ValidationError, match="cannot move to another project"):
        services.milestone_save(by=pm, milestone=milestone)


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_one_version_of_a_project_get_one_success_and_one_refusal() -> None:
    project = ProjectFactory()
    pm = member(project.client, "project_manager")
    nam = member(project.client, "nam")
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(person: User) -> None:
        try:
            edited = Project.objects.get(pk=project.pk)  # both opened version 1
            edited.description = f"Edited by {person.username}"
            start.wait()
            services.project_save(by=person, project=edited, version=1)
            outcomes[person.username] = "saved"
        except ConcurrentEditError as error:
            outcomes[person.username] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(person,)) for person in (pm, nam)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ for o in outcomes.values()) == ["ConcurrentEditError", "str"]
    winner = next(name for name, o in outcomes.items() if o == "saved")
    project.refresh_from_db()
    assert (project.description, project.version) == (f"Edited by {winner}", 2)


# Tasks, training, initiatives ------------------------------------------------------------------


def test_a_task_under_another_projects_milestone_is_refused(project: Project, pm: User) -> None:
    other = MilestoneFactory()
    with pytest.raises(ValidationError, match="another project"):
        services.task_save(by=pm, task=Task(project=project, milestone=other, title="Wire"))


def test_the_assignee_marks_a_task_done_once_and_can_undo_it(project: Project) -> None:
    sales = member(project.client, "sales")
    task = TaskFactory(project=project, assignee=sales)
    first = services.task_done(by=sales, task=task).done_at
    assert first is not None
    assert services.task_done(by=sales, task=task).done_at == first
    assert services.task_done(by=sales, task=task, done=False).done_at is None
    other_sales = member(project.client, "sales")
    with pytest.raises(NotAllowedError):
        services.task_done(by=other_sales, task=task)


def test_training_stays_within_the_client(client_co: Client, pm: User) -> None:
    foreign_site = SiteFactory()
    session = TrainingSession(client=client_co, topic="Reporting", starts_at=OPENED,
                              site=foreign_site, trainer=pm)  # fmt: skip
    with pytest.raises(ValidationError, match="site belongs to another client"):
        services.training_session_save(by=pm, session=session)
    session.site = None
    with pytest.raises(ValidationError, match="either at a site or remotely"):
        services.training_session_save(by=pm, session=session)
    session.remote = True
    session = services.training_session_save(by=pm, session=session)

    with pytest.raises(ValidationError, match="works for another client"):
        services.attendance_record(by=pm, session=session, contact=ContactFactory())


def test_attendance_is_recorded_once_per_contact_and_updated(client_co: Client, pm: User) -> None:
    session = TrainingSessionFactory(client=client_co)
    contact = ContactFactory(client=client_co)
    services.attendance_record(by=pm, session=session, contact=contact, attended=False)
    row = services.attendance_record(by=pm, session=session, contact=contact, feedback_score=4)
    assert session.attendance.get() == row
    assert (row.attended, row.feedback_score) == (True, 4)
    with pytest.raises(ValidationError, match="feedback_score"):
        services.attendance_record(by=pm, session=session, contact=contact, feedback_score=9)


def test_an_initiative_links_only_a_marketing_project_and_keeps_within_budget(
    client_co: Client, pm: User
) -> None:
    initiative = MarketingInitiative(
        client=client_co, name="Spring fair", channel="trade_show", starts_on=TODAY,
        ends_on=TODAY, budget=Decimal("1000.00"), our_contribution=Decimal("400.00"),
        project=ProjectFactory(client=client_co, kind="delivery"),
    )  # fmt: skip
    with pytest.raises(ValidationError, match="not a marketing project"):
        services.initiative_save(by=pm, initiative=initiative)
    initiative.project = ProjectFactory(client=client_co, kind="marketing")
    initiative.our_contribution = Decimal("1000.01")
    with pytest.raises(ValidationError, match="between zero and the total budget"):
        services.initiative_save(by=pm, initiative=initiative)
    initiative.our_contribution = Decimal("1000.00")
    assert services.initiative_save(by=pm, initiative=initiative).pk


# Service cases and SLA -------------------------------------------------------------------------


def open_case(by: User, client: Client, priority: str = "normal", **fields: object) -> ServiceCase:
    fields.setdefault("opened_at", OPENED)
    return services.case_open(
        by=by, case=ServiceCase(client=client, subject="Printer jam", priority=priority, **fields)
    )


@pytest.mark.parametrize(
    ("priority", "hours"), [("low", 72), ("normal", 24), ("high", 8), ("urgent", 4)]
)
def test_without_a_contract_the_default_hours_apply(
    client_co: Client, cs: User, priority: str, hours: int
) -> None:
    case = open_case(cs, client_co, priority)
    assert case.sla_due == OPENED + datetime.timedelta(hours=hours)  # calendar hours
    assert case.status == "new"


def test_the_contract_in_force_overrides_the_hours_where_it_says_so(
    client_co: Client, cs: User
) -> None:
    contract = ContractFactory(client=client_co)
    ServiceLevelFactory(contract=contract, priority="urgent", hours=2)
    assert open_case(cs, client_co, "urgent").sla_due == OPENED + datetime.timedelta(hours=2)
    # The contract says nothing about "high": the default stands.
    assert open_case(cs, client_co, "high").sla_due == OPENED + datetime.timedelta(hours=8)
    # After the contract ends its service levels no longer apply.
    later = datetime.datetime(2028, 1, 10, 9, 0, tzinfo=datetime.UTC)
    assert open_case(
        cs, client_co, "urgent", opened_at=later
    ).sla_due == later + datetime.timedelta(hours=4)


def test_a_parents_contract_for_subsidiaries_sets_their_sla(client_co: Client) -> None:
    parent = ClientFactory()
    client_co.parent = parent
    client_co.save()
    contract = ContractFactory(client=parent, applies_to_subsidiaries=True)
    ServiceLevelFactory(contract=contract, priority="normal", hours=12)
    terms = services.sla_terms(client=client_co, priority="normal", at=OPENED)
    assert (terms.hours, terms.contract, terms.source) == (12, contract, "contract")


def test_a_setting_replaces_the_default_hours(client_co: Client, cs: User, settings) -> None:
    settings.PROJECTS_SLA_HOURS = {"normal": 48}
    assert open_case(cs, client_co).sla_due == OPENED + datetime.timedelta(hours=48)
    assert open_case(cs, client_co, "urgent").sla_due == OPENED + datetime.timedelta(hours=4)


def test_raising_the_priority_recomputes_the_sla_from_the_opening(
    client_co: Client, cs: User
) -> None:
    ServiceLevelFactory(contract=ContractFactory(client=client_co), priority="urgent", hours=1)
    case = open_case(cs, client_co, "low")
    case.priority = "urgent"
    updated = services.case_update(by=cs, case=case, version=1)
    assert updated.sla_due == OPENED + datetime.timedelta(hours=1)
    assert updated.is_past_sla()
    assert updated.version == 2
    with pytest.raises(ConcurrentEditError):
        services.case_update(by=cs, case=updated, version=1)


def test_a_case_links_only_the_clients_contact_order_and_project(
    client_co: Client, cs: User
) -> None:
    with pytest.raises(ValidationError, match="works for another client"):
        open_case(cs, client_co, contact=ContactFactory())
    with pytest.raises(ValidationError, match="belongs to another client"):
        open_case(cs, client_co, project=ProjectFactory())
    with pytest.raises(ValidationError, match="outside"):
        open_case(cs, client_co, order=OrderFactory())
    assert not ServiceCase.objects.exists()


def test_a_case_is_assigned_resolved_closed_and_reopened(client_co: Client, cs: User) -> None:
    case = open_case(cs, client_co)
    with pytest.raises(ValidationError, match="does not work on this account"):
        services.case_assign(by=cs, case=case, assignee=UserFactory(roles=[Role.ACCOUNT_STAFF]))
    case = services.case_assign(by=cs, case=case, assignee=cs)
    assert (case.status, case.assignee) == ("open", cs)
    case = services.case_set_status(by=cs, case=case, to="waiting")
    with pytest.raises(ValidationError, match="Say how"):
        services.case_resolve(by=cs, case=case, resolution="  ")
    case = services.case_resolve(by=cs, case=case, resolution="Replaced the fuser.")
    assert case.resolved_at is not None
    with pytest.raises(CaseTransitionError, match="A case that is resolved cannot become waiting"):
        services.case_set_status(by=cs, case=case, to="waiting")
    case = services.case_close(by=cs, case=case)
    assert (case.status, case.resolution) == ("closed", "Replaced the fuser.")
    with pytest.raises(ServiceCaseError, match="reopen it"):
        services.case_update(by=cs, case=case, version=case.version)

    before = timezone.now()
    case = services.case_reopen(by=cs, case=case)
    assert (case.status, case.resolution, case.resolved_at) == ("open", "", None)
    assert case.sla_due >= before + datetime.timedelta(hours=24)  # the clock restarted


def test_closing_an_unresolved_case_needs_a_resolution(client_co: Client, cs: User) -> None:
    case = open_case(cs, client_co)
    with pytest.raises(ValidationError, match="before closing"):
        services.case_close(by=cs, case=case)
    assert services.case_close(by=cs, case=case, resolution="Duplicate of #1.").status == "closed"


# Who may ---------------------------------------------------------------------------------------

PROJECT_WORK: dict[str, Callable[[User, Project], object]] = {
    "create project": lambda by, p: services.project_save(
        by=by, project=ProjectFactory.build(client=p.client, manager=p.manager)
    ),
    "add milestone": lambda by, p: services.milestone_save(
        by=by, milestone=MilestoneFactory.build(project=p, owner=p.manager)
    ),
    "add task": lambda by, p: services.task_save(by=by, task=Task(project=p, title="Cable")),
    "plan training": lambda by, p: services.training_session_save(
        by=by, session=TrainingSessionFactory.build(client=p.client, trainer=p.manager)
    ),
    "plan initiative": lambda by, p: services.initiative_save(
        by=by,
        initiative=MarketingInitiative(
            client=p.client, name="Fair", channel="event", starts_on=TODAY, ends_on=TODAY
        ),
    ),
    "complete milestone": lambda by, p: services.milestone_complete(
        by=by, milestone=MilestoneFactory(project=p)
    ),
    "open case": lambda by, p: open_case(by, p.client),
}

CASE_WORK = {"open case"}


@pytest.mark.parametrize("action", PROJECT_WORK)
@pytest.mark.parametrize(
    ("who", "runs_projects", "runs_cases"),
    [
        ("project_manager", True, False),
        ("nam", True, True),
        ("customer_service", False, True),
        ("sales", False, False),
        ("executive_sponsor", False, False),
        ("team_lead", True, True),
        ("admin", True, True),
        ("finance", False, False),
        ("outsider", False, False),
    ],
)
def test_who_may_run_what(
    project: Project, action: str, who: str, runs_projects: bool, runs_cases: bool
) -> None:
    if who == "team_lead":
        person = project.client.team.lead
    elif who in ("admin", "finance", "outsider"):
        roles = {"admin": [Role.ADMIN], "finance": [Role.FINANCE], "outsider": [Role.ACCOUNT_STAFF]}
        person = UserFactory(roles=roles[who])
    else:
        person = member(project.client, who)
    allowed = runs_cases if action in CASE_WORK else runs_projects
    if allowed:
        assert PROJECT_WORK[action](person, project)
    else:
        with pytest.raises(NotAllowedError):
            PROJECT_WORK[action](person, project)


def test_a_milestones_owner_completes_it_without_running_the_project(project: Project) -> None:
    owner = member(project.client, "sales")
    milestone = MilestoneFactory(project=project, owner=owner)
    assert services.milestone_complete(by=owner, milestone=milestone).completed_on
    assert services.milestone_reopen(by=owner, milestone=milestone).completed_on is None
    with pytest.raises(NotAllowedError):
        services.milestone_save(by=owner, milestone=milestone)


# People on the account, moves and deletions ----------------------------------------------------


def test_work_is_given_only_to_people_on_the_account(project: Project, pm: User) -> None:
    stranger = UserFactory(roles=[Role.ACCOUNT_STAFF], username="stranger")
    with pytest.raises(ValidationError, match="stranger does not work on this account"):
        services.project_save(
            by=pm, project=ProjectFactory.build(client=project.client, manager=stranger)
        )
    with pytest.raises(ValidationError, match="stranger does not work"):
        services.milestone_save(
            by=pm, milestone=MilestoneFactory.build(project=project, owner=stranger)
        )
    with pytest.raises(ValidationError, match="stranger does not work"):
        services.task_save(by=pm, task=Task(project=project, title="Cable", assignee=stranger))
    with pytest.raises(ValidationError, match="stranger does not work"):
        services.training_session_save(
            by=pm, session=TrainingSessionFactory.build(client=project.client, trainer=stranger)
        )
    # The team lead of the owning team works on the account without being on its team.
    lead = project.client.team.lead
    assert services.task_save(by=pm, task=Task(project=project, title="Check", assignee=lead)).pk


def test_a_project_stays_with_its_client(project: Project, pm: User) -> None:
    moved = Project.objects.get(pk=project.pk)
    moved.client = ClientFactory(team=project.client.team)
    with pytest.raises(ValidationError, match="cannot move to another client"):
        services.project_save(by=project.client.team.lead, project=moved, version=1)


def test_deleting_a_milestone_takes_its_tasks_and_links(project: Project, pm: User) -> None:
    design, build = chain(project, "Design", "Build")
    TaskFactory(project=project, milestone=design)
    with pytest.raises(NotAllowedError):
        services.milestone_delete(by=member(project.client, "sales"), milestone=design)
    services.milestone_delete(by=pm, milestone=design)
    assert list(build.predecessors.all()) == []
    assert not Task.objects.filter(project=project).exists()
    Project.objects.filter(pk=project.pk).update(status="completed")
    build.refresh_from_db()
    with pytest.raises(ProjectError, match="reopen it"):
        services.milestone_delete(by=pm, milestone=build)


def test_sessions_initiatives_and_tasks_are_deleted_by_those_who_run_projects(
    project: Project, pm: User
) -> None:
    session = TrainingSessionFactory(client=project.client)
    attendance = services.attendance_record(
        by=pm, session=session, contact=ContactFactory(client=project.client)
    )
    services.attendance_remove(by=pm, attendance=attendance)
    services.training_session_delete(by=pm, session=session)
    initiative = MarketingInitiativeFactory(client=project.client)
    cs = member(project.client, "customer_service")
    with pytest.raises(NotAllowedError):
        services.initiative_delete(by=cs, initiative=initiative)
    services.initiative_delete(by=pm, initiative=initiative)
    services.task_delete(by=pm, task=TaskFactory(project=project))
    assert not TrainingSession.objects.exists()
    assert not MarketingInitiative.objects.exists()
    assert not Task.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_completing_a_milestone_while_its_predecessor_is_reopened_leaves_the_rule_intact() -> None:
    project = ProjectFactory()
    pm = project.manager
    design = MilestoneFactory(project=project, name="Design", completed_on=TODAY)
    build = MilestoneFactory(project=project, name="Build")
    build.predecessors.add(design)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            action()
            outcomes.append("done")
        except ProjectError as error:
            outcomes.append(error)
        finally:
            connection.close()

    actions = [
        lambda: services.milestone_complete(by=pm, milestone=build, on=TODAY),
        lambda: services.milestone_reopen(by=pm, milestone=design),
    ]
    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(o).__name__ for o in outcomes) in (
        ["PredecessorsOpenError", "str"],
        ["ProjectError", "str"],
    )
    design.refresh_from_db()
    build.refresh_from_db()
    # Either Build was completed and Design stayed completed, or Design was reopened first and
    # Build stayed open: never a completed milestone waiting for an open one.
    assert (design.completed_on, build.completed_on) in ((TODAY, TODAY), (None, None))


def test_service_levels_are_set_by_whoever_manages_the_contract(
    client_co: Client, pm: User
) -> None:
    from projects.models import ServiceLevel

    nam = member(client_co, "nam")
    contract = ContractFactory(client=client_co)
    level = ServiceLevel(contract=contract, priority="high", hours=6)
    with pytest.raises(NotAllowedError):
        services.service_level_save(by=pm, level=level)
    level = services.service_level_save(by=nam, level=level)
    assert services.sla_terms(client=client_co, priority="high", at=OPENED).hours == 6
    level.contract = ContractFactory(client=client_co)
    with pytest.raises(ValidationError, match="cannot move to another contract"):
        services.service_level_save(by=nam, level=level)
    services.service_level_delete(by=nam, level=ServiceLevel.objects.get(pk=level.pk))
    assert services.sla_terms(client=client_co, priority="high", at=OPENED).hours == 8
