"""Reads of delivery work; every one starts from `visible_to(user)`.

Lists annotate what their rows show (health, counts, past SLA) in SQL so that a page of rows is
a fixed number of queries. The timeline functions return plain data for a Gantt view: dates,
percent positions on the time axis, dependencies and flags; templates only draw them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from accounts_crm.access import AnyUser, get_visible_or_404
from clients.models import Client, Contact
from projects.models import (
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    Task,
    TrainingAttendance,
    TrainingSession,
)

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _count(queryset: QuerySet, group: str) -> Coalesce:
    """Count of `queryset` rows per outer row, as a subquery (no GROUP BY on the outer list)."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# Projects --------------------------------------------------------------------------------------


def project_list(*, user: AnyUser, today: datetime.date | None = None) -> QuerySet[Project]:
    """Visible projects with client, manager, order, health and milestone counts: one query.

    Annotations: `health`, `health_rank` (see ProjectQuerySet.with_health), `milestone_count`,
    `milestones_done`, `next_due` (the earliest due date of an open milestone).
    """
    milestones = Milestone.objects.filter(project=OuterRef("pk"))
    return (
        Project.objects.visible_to(user)
        .select_related("client", "manager", "order")
        .with_health(today)
        .annotate(
            milestone_count=_count(milestones, "project"),
            milestones_done=_count(milestones.filter(completed_on__isnull=False), "project"),
            next_due=Subquery(
                milestones.filter(completed_on__isnull=True).order_by("due_on").values("due_on")[:1]
            ),
        )
        .order_by("due_on", "name", "pk")
    )


def project_detail(*, user: AnyUser, pk: int, today: datetime.date | None = None) -> Project:
    """One project with its milestones (owner, predecessors, tasks) and its loose tasks.

    `project.milestones.all()` and each milestone's `predecessors.all()` and `tasks.all()` are
    prefetched; tasks not under a milestone are in `project.loose_tasks`. Five queries.
    """
    # The client's team too: the page's policy checks (leads_team_of) read it.
    queryset = (
        project_list(user=user, today=today)
        .select_related("client__team")
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.select_related("owner").prefetch_related(
                    "predecessors",
                    Prefetch("tasks", queryset=Task.objects.select_related("assignee")),
                ),
            ),
            Prefetch(
                "tasks",
                queryset=Task.objects.filter(milestone__isnull=True).select_related("assignee"),
                to_attr="loose_tasks",
            ),
        )
    )
    return get_visible_or_404(queryset, user, pk=pk)


# Timelines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineRow:
    """One bar of the Gantt: a project (its whole span) or one of its milestones.

    `left`, `width` and `due_at` are percentages of the timeline's span, ready for CSS or SVG.
    """

    kind: str  # "project" or "milestone"
    id: int
    project_id: int
    name: str
    start: datetime.date
    due: datetime.date
    completed_on: datetime.date | None
    owner: str
    late: bool  # open and past its due date
    finished_late: bool  # completed after its due date
    waiting: bool  # open and a predecessor is not completed
    health: str | None  # project rows only
    predecessor_ids: tuple[int, ...]
    left: float
    width: float
    due_at: float


@dataclass(frozen=True)
class Timeline:
    start: datetime.date
    end: datetime.date
    today: datetime.date
    today_at: float | None  # percent position of today's line; None when outside the span
    rows: list[TimelineRow]
    dependencies: list[tuple[int, int]]  # (predecessor id, milestone id)
    months: list[tuple[datetime.date, float]] = field(default_factory=list)  # axis ticks

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _position(day: datetime.date, start: datetime.date, days: int) -> float:
    return round((day - start).days * 100 / days, 3)


def _milestone_start(milestone: Milestone, project: Project) -> datetime.date:
    """Where a milestone's bar starts: its planned start, else when its last predecessor is
    due, else the project start; never after its own due date."""
    predecessor_dues = [p.due_on for p in milestone.predecessors.all()]
    start = milestone.starts_on or max(predecessor_dues, default=project.starts_on)
    return min(start, milestone.due_on)


def _build_timeline(projects: list[Project], today: datetime.date) -> Timeline:
    spans: list[tuple[Project, list[tuple[Milestone, datetime.date]]]] = [
        (p, [(m, _milestone_start(m, p)) for m in p.milestones.all()]) for p in projects
    ]
    firsts = [today]
    lasts = [today]
    for project, milestones in spans:
        firsts += [project.starts_on, *(start for _, start in milestones)]
        lasts += [project.due_on, *(m.due_on for m, _ in milestones)]
        lasts += [m.completed_on for m, _ in milestones if m.completed_on]
    start, end = min(firsts), max(lasts)
    days = (end - start).days + 1

    def bar(first: datetime.date, due: datetime.date, done: datetime.date | None) -> dict:
        last = max(due, done) if done else due
        return {
            "left": _position(first, start, days),
            "width": round(((last - first).days + 1) * 100 / days, 3),
            "due_at": _position(due, start, days),
        }

    rows: list[TimelineRow] = []
    dependencies: list[tuple[int, int]] = []
    for project, milestones in spans:
        rows.append(
            TimelineRow(
                kind="project", id=project.pk, project_id=project.pk, name=project.name,
                start=project.starts_on, due=project.due_on, completed_on=None,
                owner=project.manager.get_full_name() or project.manager.username,
                late=project.is_open and project.due_on < today, finished_late=False,
                waiting=False, health=project.health_on(today), predecessor_ids=(),
                **bar(project.starts_on, project.due_on, None),
            )
        )  # fmt: skip
        for milestone, first in milestones:
            predecessor_ids = tuple(sorted(p.pk for p in milestone.predecessors.all()))
            dependencies += [(pk, milestone.pk) for pk in predecessor_ids]
            done = milestone.completed_on
            rows.append(
                TimelineRow(
                    kind="milestone", id=milestone.pk, project_id=project.pk,
                    name=milestone.name, start=first, due=milestone.due_on, completed_on=done,
                    owner=milestone.owner.get_full_name() or milestone.owner.username,
                    late=milestone.is_overdue(today),
                    finished_late=bool(done and done > milestone.due_on),
                    waiting=done is None and milestone.waits_for_predecessors(), health=None,
                    predecessor_ids=predecessor_ids, **bar(first, milestone.due_on, done),
                )
            )  # fmt: skip
    month = start.replace(day=1)
    months = []
    while month <= end:
        if month >= start:
            months.append((month, _position(month, start, days)))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return Timeline(
        start=start, end=end, today=today, today_at=_position(today, start, days), rows=rows,
        dependencies=dependencies, months=months,
    )  # fmt: skip


def timeline(*, project: Project, today: datetime.date | None = None) -> Timeline:
    """The Gantt data of one project from `project_detail` (no further queries).

    The span runs from the earliest start to the latest due or completion date, stretched to
    include today so today's line is always drawn.
    """
    return _build_timeline([project], today or timezone.localdate())


def client_timeline(
    *,
    user: AnyUser,
    client: Client,
    today: datetime.date | None = None,
    include_closed: bool = False,
) -> Timeline:
    """The Gantt data of a client's visible projects (open ones unless `include_closed`):
    each project's row followed by its milestones' rows. Four queries."""
    queryset = (
        Project.objects.visible_to(user)
        .filter(client=client)
        .select_related("manager")
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.select_related("owner").prefetch_related("predecessors"),
            )
        )
        .order_by("starts_on", "due_on", "pk")
    )
    if not include_closed:
        queryset = queryset.open()
    return _build_timeline(list(queryset), today or timezone.localdate())


# Milestones and tasks --------------------------------------------------------------------------


def _milestone_rows(user: AnyUser, today: datetime.date | None) -> QuerySet[Milestone]:
    today = today or timezone.localdate()
    return (
        Milestone.objects.visible_to(user)
        .select_related("project__client", "owner")
        .annotate(
            is_late=Case(
                When(completed_on__isnull=True, due_on__lt=today, then=Value(True)),
                default=Value(False),
            )
        )
    )


def milestone_list(*, user: AnyUser, today: datetime.date | None = None) -> QuerySet[Milestone]:
    """Visible milestones with project, client and owner; `is_late` annotated."""
    return _milestone_rows(user, today).order_by("due_on", "pk")


def milestones_due_soon(
    *, user: AnyUser, days: int = 7, today: datetime.date | None = None
) -> QuerySet[Milestone]:
    """Open milestones of open projects across the user's accounts that are due within `days`
    days or already overdue (`is_late`), earliest first."""
    today = today or timezone.localdate()
    return (
        _milestone_rows(user, today)
        .filter(
            completed_on__isnull=True,
            project__status__in=Project.OPEN_STATUSES,
            due_on__lte=today + datetime.timedelta(days=days),
        )
        .order_by("due_on", "pk")
    )


def task_list(*, user: AnyUser) -> QuerySet[Task]:
    return (
        Task.objects.visible_to(user)
        .select_related("project__client", "milestone", "assignee")
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )


# Training --------------------------------------------------------------------------------------


def training_list(*, user: AnyUser) -> QuerySet[TrainingSession]:
    """Visible sessions with client, project, site, trainer and their attendance figures:
    `attendee_count`, `attended_count`, `average_feedback` (None without scores)."""
    attendance = TrainingAttendance.objects.filter(session=OuterRef("pk"))
    average = (
        attendance.order_by().values("session").annotate(avg=Avg("feedback_score")).values("avg")
    )
    return (
        TrainingSession.objects.visible_to(user)
        .select_related("client", "project", "site", "trainer")
        .annotate(
            attendee_count=_count(attendance, "session"),
            attended_count=_count(attendance.filter(attended=True), "session"),
            average_feedback=Subquery(
                average, output_field=DecimalField(max_digits=4, decimal_places=2)
            ),
        )
        .order_by("-starts_at", "pk")
    )


def training_detail(*, user: AnyUser, pk: int) -> TrainingSession:
    queryset = training_list(user=user).prefetch_related(
        Prefetch("attendance", queryset=TrainingAttendance.objects.select_related("contact"))
    )
    return get_visible_or_404(queryset, user, pk=pk)


@dataclass(frozen=True)
class TrainedOn:
    session_id: int
    topic: str
    starts_at: datetime.datetime
    feedback_score: int | None


@dataclass(frozen=True)
class ContactTraining:
    contact: Contact
    sessions: list[TrainedOn]

    @property
    def topics(self) -> list[str]:
        return sorted({s.topic for s in self.sessions})


def attendance_by_client(*, user: AnyUser, client: Client) -> list[ContactTraining]:
    """Who has been trained on what: the client's contacts that attended a session, each with
    the sessions they attended, oldest first. One query."""
    rows = (
        TrainingAttendance.objects.visible_to(user)
        .filter(session__client=client, attended=True)
        .select_related("contact", "session")
        .order_by("contact__last_name", "contact__first_name", "contact_id", "session__starts_at")
    )
    grouped: dict[int, ContactTraining] = {}
    for row in rows:
        entry = grouped.setdefault(row.contact_id, ContactTraining(row.contact, []))
        entry.sessions.append(
            TrainedOn(row.session_id, row.session.topic, row.session.starts_at, row.feedback_score)
        )
    return list(grouped.values())


# Marketing initiatives -------------------------------------------------------------------------


def initiative_list(*, user: AnyUser) -> QuerySet[MarketingInitiative]:
    """Visible initiatives with client and project; `achievement` is result / target in
    percent (None without a target or a result)."""
    return (
        MarketingInitiative.objects.visible_to(user)
        .select_related("client", "project")
        .annotate(
            achievement=ExpressionWrapper(
                F("result_value") * Value(Decimal(100)) / NullIf(F("target_value"), Value(0)),
                output_field=DecimalField(max_digits=20, decimal_places=2),
            )
        )
        .order_by("-starts_on", "name", "pk")
    )


def initiative_detail(*, user: AnyUser, pk: int) -> MarketingInitiative:
    return get_visible_or_404(initiative_list(user=user), user, pk=pk)


# Service cases ---------------------------------------------------------------------------------


def case_list(*, user: AnyUser, now: datetime.datetime | None = None) -> QuerySet[ServiceCase]:
    """Visible cases with client, contact, assignee, order and project; `is_past_sla` and
    `priority_rank` (0 urgent .. 3 low) annotated. Earliest SLA first."""
    return (
        ServiceCase.objects.visible_to(user)
        .select_related("client", "contact", "assignee", "order", "project")
        .with_past_sla(now)
        .annotate(
            priority_rank=Case(
                *(When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()),
                output_field=IntegerField(),
            )
        )
        .order_by("sla_due", "pk")
    )


def case_queue(*, user: AnyUser, now: datetime.datetime | None = None) -> QuerySet[ServiceCase]:
    """Customer service's queue: open cases, those past their SLA first, then by SLA due time
    (most urgent priority first on a tie)."""
    return (
        case_list(user=user, now=now)
        .filter(status__in=ServiceCase.OPEN_STATUSES)
        .order_by("-is_past_sla", "sla_due", "priority_rank", "pk")
    )


def case_detail(*, user: AnyUser, pk: int) -> ServiceCase:
    return get_visible_or_404(case_list(user=user), user, pk=pk)


def client_delivery_summary(*, user: AnyUser, client: Client) -> dict[str, int]:
    """Counts for the client page's tabs: open projects (and late ones), training sessions,
    running initiatives, open cases (and past SLA). One query per kind."""
    projects = project_list(user=user).filter(client=client).open()
    cases = ServiceCase.objects.visible_to(user).filter(client=client).open()
    return {
        **projects.aggregate(
            open_projects=Count("pk"), late_projects=Count("pk", filter=Q(health="late"))
        ),
        "training_sessions": TrainingSession.objects.visible_to(user).filter(client=client).count(),
        "running_initiatives": MarketingInitiative.objects.visible_to(user)
        .filter(client=client, status=MarketingInitiative.Status.RUNNING)
        .count(),
        "open_cases": cases.count(),
        "cases_past_sla": cases.past_sla().count(),
    }


# Filter dropdowns of the HTML lists ------------------------------------------------------------


def list_filter_choices(
    *, user: AnyUser, rows: QuerySet, client_path: str, people: dict[str, str]
) -> dict[str, list[tuple[int, str]]]:
    """The id filters of an HTML list as choices: the clients of the rows the person sees
    (`client_path` is the rows' client id field) and, for each filter name in `people`, the
    people its field (`people[name]`) points at on those rows. One query per filter, whatever
    the size of the book; the API keeps taking plain ids."""
    from django.contrib.auth.models import User

    clients = Client.objects.visible_to(user).filter(pk__in=rows.values(client_path))
    choices = {"client": list(clients.order_by("name", "pk").values_list("pk", "name"))}
    for name, path in people.items():
        found = User.objects.filter(pk__in=rows.values(path)).order_by(
            "last_name", "first_name", "username"
        )
        choices[name] = [
            (pk, f"{first} {last}".strip() or username)
            for pk, first, last, username in found.values_list(
                "pk", "first_name", "last_name", "username"
            )
        ]
    return choices
