"""Every write on delivery work: atomic, policy-checked, audited by triggers.

Forms and API serializers build an unsaved (or edited) instance; the service checks the
person's rights and the rules that span rows (same client, same project, predecessors, cycles),
runs the model's validation, saves, and turns a violated constraint into a clear
`ValidationError` instead of a server error.

Service-level agreements (SLA) are counted in CALENDAR hours from when a case is opened:
nights, weekends and holidays count, because that is the clock the client sees. The hours per
priority come from the client's applicable contract (`ServiceLevel` rows) where it says so, and
otherwise from `PROJECTS_SLA_HOURS` (a `PROJECTS_SLA_HOURS` setting, when present, replaces it).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts_crm.access import AnyUser
from accounts_crm.errors import ConcurrentEditError
from clients.errors import not_allowed
from clients.models import Client, Contact
from orders.models import Contract, Order
from orders.services import applicable_contract
from projects import policies
from projects.errors import (
    CaseTransitionError,
    DependencyCycleError,
    PredecessorsOpenError,
    ProjectError,
    ServiceCaseError,
)
from projects.models import (
    PROJECTS_SLA_HOURS,
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

# Per-project advisory lock (two-key form: this class id, then the project id) taken by every
# change to a project's dependency graph or to a milestone's completion: two concurrent edits
# (A after B, B after A) would each pass the cycle check alone and make a cycle together, and
# completing B while A (its predecessor) is reopened would each pass their check alone. One
# lock per project, always taken first, also means these writes cannot deadlock each other.
DEPENDENCY_LOCK = 0x7072_6F6A  # "proj"

# Walk up from a milestone through its predecessors, theirs, and so on. UNION (not UNION ALL)
# stops the walk even on a graph that somehow already holds a cycle.
UPSTREAM_SQL = """
WITH RECURSIVE upstream(id) AS (
    SELECT predecessor_id FROM projects_milestonedependency WHERE milestone_id = %s
    UNION
    SELECT d.predecessor_id FROM projects_milestonedependency d JOIN upstream u
        ON d.milestone_id = u.id
)
SELECT EXISTS (SELECT 1 FROM upstream WHERE id = %s)
"""

GROUP_HEAD_SQL = """
WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM clients_client WHERE id = %s
    UNION ALL
    SELECT c.id, c.parent_id FROM clients_client c JOIN up ON c.id = up.parent_id
)
SELECT id FROM up WHERE parent_id IS NULL
"""


# Saving ----------------------------------------------------------------------------------------


def _save[M: models.Model](instance: M, *, exclude: Iterable[str] = ()) -> M:
    """Validate and save, turning a violated constraint into its model's message."""
    instance.full_clean(exclude=list(exclude))
    with _constraint_messages():
        instance.save()
    return instance


@contextmanager
def _constraint_messages() -> Iterator[None]:
    """Run a write in a savepoint; a violated constraint of this app becomes its message.

    `full_clean()` catches most violations first; this covers the race where another
    transaction commits the conflicting row between the check and the write.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        constraint = next(
            (c for model in apps.get_app_config("projects").get_models()
             for c in model._meta.constraints if c.name == name),
            None,
        )  # fmt: skip
        if constraint is None:
            raise
        raise ValidationError(
            {NON_FIELD_ERRORS: constraint.get_violation_error_message()}, code=name
        ) from error


def _update_versioned[M: models.Model](instance: M, *, version: int | None, message: str) -> M:
    """Save an edit made on `version` with one conditional UPDATE; refuse if someone saved since.

    The row lock the UPDATE takes makes a second concurrent writer wait, then re-check the
    version and find it changed: exactly one of two people saving the same version wins.
    """
    model = type(instance)
    instance.full_clean()
    with _constraint_messages():
        updated = model._default_manager.filter(pk=instance.pk, version=version).update(
            **{f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields
               if f.editable and not f.primary_key and f.name != "created_at"},
            updated_at=timezone.now(),
            version=F("version") + 1,
        )  # fmt: skip
    if not updated:
        raise ConcurrentEditError(message)
    return model._default_manager.get(pk=instance.pk)


def _group_head_id(client_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(GROUP_HEAD_SQL, [client_id])
        row = cursor.fetchone()
    return row[0] if row else client_id


def _same_group(a: Client | int, b: Client | int) -> bool:
    a_id = a if isinstance(a, int) else a.pk
    b_id = b if isinstance(b, int) else b.pk
    return a_id == b_id or _group_head_id(a_id) == _group_head_id(b_id)


def _check_order(order: Order | None, client: Client) -> None:
    if order is not None and not _same_group(order.client_id, client):
        raise ValidationError(
            {"order": _("Order %(order)s belongs to %(owner)s, outside %(client)s's group.")
             % {"order": order, "owner": order.client, "client": client}}
        )  # fmt: skip


def _check_project(project: Project | None, client: Client, *, kind: str | None = None) -> None:
    if project is None:
        return
    if project.client_id != client.pk:
        raise ValidationError(
            {"project": _("Project %(project)s belongs to another client.") % {"project": project}}
        )
    if kind is not None and project.kind != kind:
        raise ValidationError(
            {"project": _("Project %(project)s is not a %(kind)s project.")
             % {"project": project, "kind": Project.Kind(kind).label.lower()}}
        )  # fmt: skip


def _check_person(person: AnyUser | None, client: Client, field: str) -> None:
    """The person a row is given to (manager, owner, assignee, trainer) works on the account."""
    if person is not None and not Client.objects.visible_to(person).filter(pk=client.pk).exists():
        raise ValidationError(
            {field: _("%(person)s does not work on this account.") % {"person": person}}
        )


def _delete(row: models.Model) -> None:
    """Delete a row; one that other records still point to (an invoice line) stays."""
    try:
        with transaction.atomic():
            row.delete()
    except ProtectedError as error:
        raise ProjectError(
            _("%(row)s cannot be deleted: other records refer to it.") % {"row": row},
            code="protected",
        ) from error


def _lock_plan(project_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DEPENDENCY_LOCK, project_id])


def _names(milestones: Iterable[Milestone]) -> str:
    return ", ".join(f"“{m.name}”" for m in milestones)


# Projects --------------------------------------------------------------------------------------


@transaction.atomic
def project_save(*, by: AnyUser, project: Project, version: int | None = None) -> Project:
    """Create a project, or save an edit made on `version` (required for an edit).

    The order, when given, must be the client's or another company's of its group. A project
    can be completed only when all its milestones are.
    """
    if not policies.can_run_projects(by, project.client):
        raise not_allowed()
    if (
        project.pk is not None
        and Project.objects.filter(pk=project.pk).exclude(client_id=project.client_id).exists()
    ):
        raise ValidationError({"client": _("A project cannot move to another client.")})
    _check_order(project.order, project.client)
    _check_person(project.manager if project.manager_id else None, project.client, "manager")
    if project.pk is None:
        project.version = 1
        return _save(project)
    if project.status == Project.Status.COMPLETED:
        still_open = list(Milestone.objects.filter(project=project, completed_on__isnull=True))
        if still_open:
            raise ProjectError(
                _("Complete these milestones first: %(names)s.") % {"names": _names(still_open)},
                code="milestones_open",
            )
    return _update_versioned(
        project,
        version=version,
        message=_(
            "Someone else changed this project after you opened it. Reload it to see their changes."
        ),
    )


# Milestones ------------------------------------------------------------------------------------


def _require_open_project(project: Project) -> None:
    if not project.is_open:
        raise ProjectError(
            _("Project %(project)s is %(status)s: reopen it before changing its plan.")
            % {"project": project, "status": project.get_status_display().lower()},
            code="project_closed",
        )


@transaction.atomic
def milestone_save(*, by: AnyUser, milestone: Milestone) -> Milestone:
    """Add or edit a milestone. Completion is not edited here: see milestone_complete/reopen."""
    project = milestone.project
    if not policies.can_run_projects(by, project.client):
        raise not_allowed()
    _require_open_project(project)
    _check_person(milestone.owner if milestone.owner_id else None, project.client, "owner")
    if milestone.pk is None:
        milestone.completed_on = None
    else:
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if current.project_id != milestone.project_id:
            raise ValidationError({"project": _("A milestone cannot move to another project.")})
        milestone.completed_on = current.completed_on
    return _save(milestone)


@transaction.atomic
def milestone_complete(
    *, by: AnyUser, milestone: Milestone, on: datetime.date | None = None
) -> Milestone:
    """Record that the milestone was completed on `on` (today by default).

    Refused while a predecessor is not completed, before a predecessor's completion date, and
    in the future.
    """
    if not policies.can_complete_milestone(by, milestone):
        raise not_allowed()
    today = timezone.localdate()
    on = on or today
    _lock_plan(milestone.project_id)
    current = Milestone.objects.select_for_update().get(pk=milestone.pk)
    if current.completed_on is not None:
        raise ProjectError(
            _("“%(name)s” was already completed on %(day)s.")
            % {"name": current.name, "day": date_format(current.completed_on)},
            code="already_completed",
        )
    if on > today:
        raise ProjectError(
            _("A milestone cannot be completed in the future (%(day)s).")
            % {"day": date_format(on)},
            code="completed_in_future",
        )
    predecessors = list(Milestone.objects.filter(dependents__milestone=current).order_by("pk"))
    still_open = [p for p in predecessors if p.completed_on is None]
    if still_open:
        raise PredecessorsOpenError(
            _("“%(name)s” cannot be completed before %(names)s.")
            % {"name": current.name, "names": _names(still_open)}
        )
    later = [p for p in predecessors if p.completed_on > on]
    if later:
        raise PredecessorsOpenError(
            _("“%(name)s” cannot be completed on %(day)s: %(names)s was completed later.")
            % {"name": current.name, "day": date_format(on), "names": _names(later)}
        )
    Milestone.objects.filter(pk=current.pk).update(completed_on=on, updated_at=timezone.now())
    current.completed_on = on
    return current


@transaction.atomic
def milestone_reopen(*, by: AnyUser, milestone: Milestone) -> Milestone:
    """Mark a completed milestone as not done; refused while a successor is still completed."""
    if not policies.can_complete_milestone(by, milestone):
        raise not_allowed()
    _lock_plan(milestone.project_id)
    current = Milestone.objects.select_for_update().get(pk=milestone.pk)
    completed_successors = list(
        Milestone.objects.filter(
            dependencies__predecessor=current, completed_on__isnull=False
        ).order_by("pk")
    )
    if completed_successors:
        raise ProjectError(
            _("Reopen %(names)s first: it waits for “%(name)s” and is completed.")
            % {"names": _names(completed_successors), "name": current.name},
            code="successors_completed",
        )
    Milestone.objects.filter(pk=current.pk).update(completed_on=None, updated_at=timezone.now())
    current.completed_on = None
    return current


def _is_upstream_of(milestone_id: int, candidate_id: int) -> bool:
    """Whether `candidate_id` is a predecessor of `milestone_id`, directly or further up."""
    with connection.cursor() as cursor:
        cursor.execute(UPSTREAM_SQL, [milestone_id, candidate_id])
        return bool(cursor.fetchone()[0])


@transaction.atomic
def milestone_set_predecessors(
    *, by: AnyUser, milestone: Milestone, predecessors: Iterable[Milestone]
) -> Milestone:
    """Replace the milestone's predecessors; all of its own project, and no cycle."""
    project = milestone.project
    if not policies.can_run_projects(by, project.client):
        raise not_allowed()
    _require_open_project(project)
    wanted = {p.pk: p for p in predecessors}
    if milestone.pk in wanted:
        raise DependencyCycleError(_("A milestone cannot be its own predecessor."))
    foreign = [p for p in wanted.values() if p.project_id != milestone.project_id]
    if foreign:
        raise ValidationError(
            {"predecessors": _("Predecessors must be milestones of the same project: %(names)s.")
             % {"names": _names(foreign)}}
        )  # fmt: skip
    _lock_plan(project.pk)
    current = Milestone.objects.select_for_update().get(pk=milestone.pk)
    fresh = {m.pk: m for m in Milestone.objects.filter(pk__in=wanted)}
    if current.completed_on is not None:
        still_open = [m for m in fresh.values() if m.completed_on is None]
        if still_open:
            raise PredecessorsOpenError(
                _("“%(name)s” is completed, so it cannot wait for %(names)s.")
                % {"name": current.name, "names": _names(still_open)}
            )
    MilestoneDependency.objects.filter(milestone=current).exclude(predecessor__in=wanted).delete()
    existing = set(
        MilestoneDependency.objects.filter(milestone=current).values_list(
            "predecessor_id", flat=True
        )
    )
    for pk in sorted(set(wanted) - existing):
        if _is_upstream_of(pk, current.pk):
            raise DependencyCycleError(
                _("“%(other)s” already waits for “%(name)s”: it cannot also come before it.")
                % {"other": fresh[pk].name, "name": current.name}
            )
        with _constraint_messages():
            MilestoneDependency.objects.create(milestone=current, predecessor_id=pk)
    Milestone.objects.filter(pk=current.pk).update(updated_at=timezone.now())
    return current


@transaction.atomic
def milestone_delete(*, by: AnyUser, milestone: Milestone) -> None:
    """Remove a milestone of an open project, with its tasks and dependency links."""
    if not policies.can_run_projects(by, milestone.project.client):
        raise not_allowed()
    _require_open_project(milestone.project)
    _delete(milestone)


# Tasks -----------------------------------------------------------------------------------------


@transaction.atomic
def task_save(*, by: AnyUser, task: Task) -> Task:
    """Add or edit a task; its milestone, when given, must be of the same project."""
    if not policies.can_run_projects(by, task.project.client):
        raise not_allowed()
    if task.milestone_id and task.milestone.project_id != task.project_id:
        raise ValidationError({"milestone": _("The milestone belongs to another project.")})
    _check_person(task.assignee, task.project.client, "assignee")
    if task.pk is not None:
        task.done_at = Task.objects.select_for_update().get(pk=task.pk).done_at
    return _save(task)


@transaction.atomic
def task_done(*, by: AnyUser, task: Task, done: bool = True) -> Task:
    """Mark a task done now (or, with `done=False`, not done). Doing it twice changes nothing."""
    if not policies.can_mark_task_done(by, task):
        raise not_allowed()
    current = Task.objects.select_for_update().get(pk=task.pk)
    if done and current.done_at is None:
        current.done_at = timezone.now()
    elif not done:
        current.done_at = None
    Task.objects.filter(pk=current.pk).update(done_at=current.done_at, updated_at=timezone.now())
    return current


@transaction.atomic
def task_delete(*, by: AnyUser, task: Task) -> None:
    if not policies.can_run_projects(by, task.project.client):
        raise not_allowed()
    _delete(task)


# Training --------------------------------------------------------------------------------------


@transaction.atomic
def training_session_save(*, by: AnyUser, session: TrainingSession) -> TrainingSession:
    """Add or edit a session; its project and site must be the client's."""
    if not policies.can_run_projects(by, session.client):
        raise not_allowed()
    _check_project(session.project, session.client)
    if session.site_id and session.site.client_id != session.client_id:
        raise ValidationError({"site": _("The site belongs to another client.")})
    _check_person(session.trainer if session.trainer_id else None, session.client, "trainer")
    return _save(session)


@transaction.atomic
def attendance_record(
    *,
    by: AnyUser,
    session: TrainingSession,
    contact: Contact,
    attended: bool = True,
    feedback_score: int | None = None,
) -> TrainingAttendance:
    """Put a contact on a session, or update whether they came and how they rated it."""
    if not policies.can_run_projects(by, session.client):
        raise not_allowed()
    if contact.client_id != session.client_id:
        raise ValidationError(
            {"contact": _("%(contact)s works for another client.") % {"contact": contact}}
        )
    row = (
        TrainingAttendance.objects.select_for_update()
        .filter(session=session, contact=contact)
        .first()
    ) or TrainingAttendance(session=session, contact=contact)
    row.attended = attended
    row.feedback_score = feedback_score
    return _save(row)


@transaction.atomic
def training_session_delete(*, by: AnyUser, session: TrainingSession) -> None:
    """Remove a session with its attendance records."""
    if not policies.can_run_projects(by, session.client):
        raise not_allowed()
    _delete(session)


@transaction.atomic
def attendance_remove(*, by: AnyUser, attendance: TrainingAttendance) -> None:
    if not policies.can_run_projects(by, attendance.session.client):
        raise not_allowed()
    attendance.delete()


# Marketing initiatives -------------------------------------------------------------------------


@transaction.atomic
def initiative_save(*, by: AnyUser, initiative: MarketingInitiative) -> MarketingInitiative:
    """Add or edit an initiative; its project, when given, is one of the client's marketing ones."""
    if not policies.can_run_projects(by, initiative.client):
        raise not_allowed()
    _check_project(initiative.project, initiative.client, kind=Project.Kind.MARKETING)
    return _save(initiative)


@transaction.atomic
def initiative_delete(*, by: AnyUser, initiative: MarketingInitiative) -> None:
    if not policies.can_run_projects(by, initiative.client):
        raise not_allowed()
    _delete(initiative)


# Service cases ---------------------------------------------------------------------------------

CS = ServiceCase.Status

# Which status may follow which. Resolving, closing and reopening have their own services
# because they carry a resolution or restart the SLA clock.
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CS.NEW: frozenset({CS.OPEN, CS.WAITING, CS.RESOLVED, CS.CLOSED}),
    CS.OPEN: frozenset({CS.WAITING, CS.RESOLVED, CS.CLOSED}),
    CS.WAITING: frozenset({CS.OPEN, CS.RESOLVED, CS.CLOSED}),
    CS.RESOLVED: frozenset({CS.CLOSED, CS.OPEN}),
    CS.CLOSED: frozenset({CS.OPEN}),
}


@dataclass(frozen=True)
class SlaTerms:
    hours: int
    contract: Contract | None  # the contract whose ServiceLevel set the hours, if any

    @property
    def source(self) -> str:
        return "contract" if self.contract is not None else "default"


def default_sla_hours() -> dict[str, int]:
    return {**PROJECTS_SLA_HOURS, **getattr(settings, "PROJECTS_SLA_HOURS", {})}


def sla_terms(*, client: Client, priority: str, at: datetime.datetime) -> SlaTerms:
    """The SLA hours for a case of `priority` opened at `at` for `client`.

    The contract in force for the client on that day (its own, else a parent's that applies to
    subsidiaries: orders.services.applicable_contract) decides when it has a ServiceLevel for
    the priority; otherwise the product default.
    """
    contract = applicable_contract(client=client, on=timezone.localtime(at).date())
    if contract is not None:
        level = ServiceLevel.objects.filter(contract=contract, priority=priority).first()
        if level is not None:
            return SlaTerms(level.hours, contract)
    return SlaTerms(default_sla_hours()[priority], None)


def sla_due(*, client: Client, priority: str, at: datetime.datetime) -> datetime.datetime:
    """When a case opened at `at` falls due: `at` plus the SLA hours, in calendar hours."""
    return at + datetime.timedelta(hours=sla_terms(client=client, priority=priority, at=at).hours)


def _check_case_links(case: ServiceCase) -> None:
    if case.contact_id and case.contact.client_id != case.client_id:
        raise ValidationError(
            {"contact": _("%(contact)s works for another client.") % {"contact": case.contact}}
        )
    _check_order(case.order, case.client)
    _check_project(case.project, case.client)


@transaction.atomic
def case_open(*, by: AnyUser, case: ServiceCase) -> ServiceCase:
    """Open a new case (status new) with its SLA due time from its priority and the contract."""
    if not policies.can_run_service_cases(by, case.client):
        raise not_allowed()
    _check_case_links(case)
    _check_person(case.assignee, case.client, "assignee")
    case.opened_at = case.opened_at or timezone.now()
    case.status = CS.OPEN if case.assignee_id else CS.NEW
    case.resolution, case.resolved_at, case.version = "", None, 1
    case.sla_due = sla_due(client=case.client, priority=case.priority, at=case.opened_at)
    return _save(case)


def _lock_case(case: ServiceCase, *, version: int | None = None) -> ServiceCase:
    current = ServiceCase.objects.select_for_update().get(pk=case.pk)
    if version is not None and current.version != version:
        raise ConcurrentEditError(
            _("Someone else changed this case after you opened it. Reload it to see their changes.")
        )  # fmt: skip
    return current


def _require_case_open(case: ServiceCase) -> None:
    if not case.is_open:
        raise ServiceCaseError(
            _("This case is %(status)s: reopen it to change it.")
            % {"status": case.get_status_display().lower()},
            code="case_closed",
        )


def _write_case(case: ServiceCase, **values: object) -> ServiceCase:
    for name, value in values.items():
        setattr(case, name, value)
    case.full_clean()
    with _constraint_messages():
        ServiceCase.objects.filter(pk=case.pk).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
    return ServiceCase.objects.get(pk=case.pk)


@transaction.atomic
def case_update(*, by: AnyUser, case: ServiceCase, version: int) -> ServiceCase:
    """Save an edit of an open case made on `version`.

    A change of priority recomputes the SLA due time from when the case was opened, with the
    new priority's hours (so raising it to urgent may put it past its SLA at once).
    """
    if not policies.can_run_service_cases(by, case.client):
        raise not_allowed()
    current = _lock_case(case, version=version)
    _require_case_open(current)
    if case.client_id != current.client_id:
        raise ValidationError({"client": _("A case cannot move to another client.")})
    _check_case_links(case)
    _check_person(case.assignee, case.client, "assignee")
    due = current.sla_due
    if case.priority != current.priority:
        due = sla_due(client=current.client, priority=case.priority, at=current.opened_at)
    return _write_case(
        current,
        subject=case.subject,
        description=case.description,
        priority=case.priority,
        contact_id=case.contact_id,
        order_id=case.order_id,
        project_id=case.project_id,
        assignee_id=case.assignee_id,
        sla_due=due,
    )


@transaction.atomic
def case_assign(*, by: AnyUser, case: ServiceCase, assignee: AnyUser | None) -> ServiceCase:
    """Give the case to someone on the account (a new case becomes open), or unassign it."""
    if not policies.can_run_service_cases(by, case.client):
        raise not_allowed()
    current = _lock_case(case)
    _require_case_open(current)
    _check_person(assignee, current.client, "assignee")
    status = CS.OPEN if assignee is not None and current.status == CS.NEW else current.status
    return _write_case(current, assignee_id=assignee.pk if assignee else None, status=status)


def _move(case: ServiceCase, to: str) -> None:
    if to not in CASE_TRANSITIONS[case.status]:
        raise CaseTransitionError(
            _("A case that is %(from)s cannot become %(to)s.")
            % {"from": case.get_status_display().lower(), "to": CS(to).label.lower()}
        )


@transaction.atomic
def case_set_status(*, by: AnyUser, case: ServiceCase, to: str) -> ServiceCase:
    """Move an open case between new, open and waiting on client."""
    if not policies.can_run_service_cases(by, case.client):
        raise not_allowed()
    if to not in ServiceCase.OPEN_STATUSES:
        raise CaseTransitionError(
            _("Use resolve, close or reopen for that."), code="transition_not_allowed"
        )
    current = _lock_case(case)
    _move(current, to)
    return _write_case(current, status=to)


@transaction.atomic
def case_resolve(*, by: AnyUser, case: ServiceCase, resolution: str) -> ServiceCase:
    """Record how the case was solved; the clock stops now."""
    if not policies.can_run_service_cases(by, case.client):
        raise not_allowed()
    if not resolution.strip():
        raise ValidationError({"resolution": _("Say how the case was resolved.")})
    current = _lock_case(case)
    _move(current, CS.RESOLVED)
    return _write_case(
        current, status=CS.RESOLVED, resolution=resolution.strip(), resolved_at=timezone.now()
    )


@transaction.atomic
def case_close(*, by: AnyUser, case: ServiceCase, resolution: str = "") -> ServiceCase:
    """Close a case; a resolved one keeps its resolution, any other needs one now."""
    if not policies.can_run_service_cases(by, case.client):
        raise not_allowed()
    current = _lock_case(case)
    _move(current, CS.CLOSED)
    resolution = resolution.strip() or current.resolution
    if not resolution:
        raise ValidationError({"resolution": _("Say how the case was resolved before closing it.")})
    return _write_case(
        current,
        status=CS.CLOSED,
        resolution=resolution,
        resolved_at=current.resolved_at or timezone.now(),
    )


@transaction.atomic
def case_reopen(*, by: AnyUser, case: ServiceCase) -> ServiceCase:
    """Reopen a resolved or closed case. The SLA clock restarts now with the case's priority
    (the client is waiting again from this moment); the old resolution is kept in the audit."""
    if not policies.can_run_service_cases(by, case.client):
        raise not_allowed()
    current = _lock_case(case)
    _move(current, CS.OPEN)
    now = timezone.now()
    return _write_case(
        current,
        status=CS.OPEN,
        resolution="",
        resolved_at=None,
        sla_due=max(current.sla_due, sla_due(client=current.client, priority=current.priority,
                                              at=now)),
    )  # fmt: skip


# Service levels --------------------------------------------------------------------------------


@transaction.atomic
def service_level_save(*, by: AnyUser, level: ServiceLevel) -> ServiceLevel:
    """Set a contract's SLA hours for one priority; whoever manages the contract decides.

    Cases already open keep the SLA due time they were given: the new hours apply to cases
    opened (or reopened, or re-prioritised) from now on.
    """
    from orders.policies import can_manage_contracts  # the contract's rule, not a project's

    if not can_manage_contracts(by, level.contract.client):
        raise not_allowed()
    moved = ServiceLevel.objects.filter(pk=level.pk).exclude(contract_id=level.contract_id)
    if level.pk is not None and moved.exists():
        raise ValidationError({"contract": _("A service level cannot move to another contract.")})
    return _save(level)


@transaction.atomic
def service_level_delete(*, by: AnyUser, level: ServiceLevel) -> None:
    """Drop a contract's SLA for one priority: the product default applies again."""
    from orders.policies import can_manage_contracts

    if not can_manage_contracts(by, level.contract.client):
        raise not_allowed()
    level.delete()
