"""Delivery: projects and their milestones (timelines), tasks, training, marketing, service cases.

Who sees a row follows its client (accounts_crm/access.py); writes go through projects/services.py.

Project health is ONE rule, written once in the docstring of `ProjectQuerySet.with_health()`
and implemented twice on purpose: `with_health()` computes it in SQL (lists filter and sort by it
without N+1), `Project.health_on()` mirrors it in Python for one project already in memory. The
tests (tests/projects/test_selectors.py) run both on the same hand-built timelines.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import AccessQuerySet
from accounts_crm.audit import audited
from accounts_crm.models import TimeStampedModel
from accounts_crm.money import CurrencyField, MoneyField
from clients.models import Client, Contact, Site
from orders.models import Contract, Order

# An open milestone due within this many days that still waits for a predecessor puts its
# project at risk (see Project health below).
PROJECT_AT_RISK_DAYS = 7

# Default SLA per service-case priority, in CALENDAR hours (nights and weekends count: the
# clock the client sees). A contract overrides any of them with a ServiceLevel row.
PROJECTS_SLA_HOURS: dict[str, int] = {
    "urgent": 4,
    "high": 8,
    "normal": 24,
    "low": 72,
}


class Health(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    LATE = "late", _("Late")


# Sorting by health puts the worst first: late, at risk, on track, then closed projects.
HEALTH_RANK = {Health.LATE.value: 0, Health.AT_RISK.value: 1, Health.ON_TRACK.value: 2}
NO_HEALTH = "—"


def health_label(value: str | None) -> str:
    """What a page shows for a health value: its label, or a dash for a closed project."""
    return str(Health(value).label) if value else NO_HEALTH


class ProjectQuerySet(AccessQuerySet):
    client_path = "client"

    def open(self) -> ProjectQuerySet:
        return self.filter(status__in=Project.OPEN_STATUSES)

    def with_health(self, today: datetime.date | None = None) -> ProjectQuerySet:
        """Annotate `health` (on_track / at_risk / late, NULL when closed) by the one rule,
        and `health_rank` (0 late, 1 at risk, 2 on track, 3 closed) to sort the worst first.

        - no health: the project is completed or cancelled;
        - late: the project's due date has passed, or one of its open (not completed)
          milestones' due date has passed;
        - at risk: not late, and an open milestone due within the next PROJECT_AT_RISK_DAYS
          days (today included) still has a predecessor that is not completed: it cannot be
          finished until someone else's work is, and there is under a week left;
        - on track: everything else.

        Mirrored by `Project.health_on()`; both take `today` so tests can pin the day.
        """
        today = today or timezone.localdate()
        horizon = today + datetime.timedelta(days=PROJECT_AT_RISK_DAYS)
        open_milestones = Milestone.objects.filter(
            project=OuterRef("pk"), completed_on__isnull=True
        )
        blocked = MilestoneDependency.objects.filter(
            milestone=OuterRef("pk"), predecessor__completed_on__isnull=True
        )
        annotated = self.annotate(
            health=Case(
                When(~Q(status__in=Project.OPEN_STATUSES), then=Value(None)),
                When(
                    Q(due_on__lt=today) | Exists(open_milestones.filter(due_on__lt=today)),
                    then=Value(Health.LATE.value),
                ),
                When(
                    Exists(
                        open_milestones.filter(due_on__gte=today, due_on__lte=horizon).filter(
                            Exists(blocked)
                        )
                    ),
                    then=Value(Health.AT_RISK.value),
                ),
                default=Value(Health.ON_TRACK.value),
                output_field=models.CharField(max_length=20, null=True),
            )
        )
        return annotated.annotate(
            health_rank=Case(
                *(When(health=value, then=Value(rank)) for value, rank in HEALTH_RANK.items()),
                default=Value(len(HEALTH_RANK)),
                output_field=models.IntegerField(),
            )
        )


@audited()
class Project(TimeStampedModel):
    class Kind(models.TextChoices):
        DELIVERY = "delivery", _("Delivery")
        IMPLEMENTATION = "implementation", _("Implementation")
        TRAINING = "training", _("Training")
        MARKETING = "marketing", _("Marketing")
        SERVICE = "service", _("Service")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        ON_HOLD = "on_hold", _("On hold")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = ("planned", "active", "on_hold")

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="projects", verbose_name=_("client")
    )
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="projects",
        verbose_name=_("order"),
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.DELIVERY)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_projects",
        verbose_name=_("project manager"),
    )  # fmt: skip
    starts_on = models.DateField(_("start"))
    due_on = models.DateField(_("due"))
    budget = MoneyField(_("budget"), default=Decimal("0"))
    currency = CurrencyField()
    description = models.TextField(_("description"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["delivery", "implementation", "training", "marketing", "service"]
                ),
                name="project_kind_valid",
                violation_error_message=_("Unknown project kind."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "active", "on_hold", "completed", "cancelled"]),
                name="project_status_valid",
                violation_error_message=_("Unknown project status."),
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("starts_on")),
                name="project_due_after_start",
                violation_error_message=_("A project cannot be due before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0),
                name="project_budget_not_negative",
                violation_error_message=_("The budget cannot be negative."),
            ),
        ]
        indexes = [
            # Serves the client page: a client's projects by status.
            models.Index(fields=["client", "status"], name="project_client_status_idx"),
            # Serves "my projects" and the manager filter.
            models.Index(fields=["manager", "status"], name="project_manager_status_idx"),
            # Serves the list's default order and the due-range filter on open projects.
            models.Index(
                fields=["due_on"],
                condition=Q(status__in=["planned", "active", "on_hold"]),
                name="project_open_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def health_on(self, today: datetime.date | None = None) -> str | None:
        """The health rule of `ProjectQuerySet.with_health()`, for this one project.

        Reads `self.milestones.all()` and each milestone's `predecessors.all()`, so prefetch
        them (selectors.project_detail does) to keep it to no extra queries.
        """
        if not self.is_open:
            return None
        today = today or timezone.localdate()
        horizon = today + datetime.timedelta(days=PROJECT_AT_RISK_DAYS)
        open_milestones = [m for m in self.milestones.all() if m.completed_on is None]
        if self.due_on < today or any(m.due_on < today for m in open_milestones):
            return Health.LATE.value
        if any(
            today <= m.due_on <= horizon and m.waits_for_predecessors() for m in open_milestones
        ):
            return Health.AT_RISK.value
        return Health.ON_TRACK.value


class ProjectChildQuerySet(AccessQuerySet):
    client_path = "project__client"


class MilestoneQuerySet(ProjectChildQuerySet):
    def open(self) -> MilestoneQuerySet:
        return self.filter(completed_on__isnull=True)

    def overdue(self, today: datetime.date | None = None) -> MilestoneQuerySet:
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def due_within(self, days: int, today: datetime.date | None = None) -> MilestoneQuerySet:
        """Open milestones due from today to `days` days ahead (overdue ones excluded)."""
        today = today or timezone.localdate()
        return self.open().filter(
            due_on__gte=today, due_on__lte=today + datetime.timedelta(days=days)
        )


@audited()
class Milestone(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("project")
    )
    name = models.CharField(_("name"), max_length=200)
    # Optional planned start: the Gantt bar runs from here (or the project start) to the due date.
    starts_on = models.DateField(_("planned start"), null=True, blank=True)
    due_on = models.DateField(_("due"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_milestones",
        verbose_name=_("owner"),
    )  # fmt: skip
    billable_amount = MoneyField(_("billable amount"), default=Decimal("0"))
    predecessors = models.ManyToManyField(
        "self", through="MilestoneDependency", through_fields=("milestone", "predecessor"),
        symmetrical=False, blank=True, related_name="successors",
        verbose_name=_("predecessors"),
    )  # fmt: skip
    position = models.PositiveIntegerField(_("position"), default=0)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["position", "due_on", "pk"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.CheckConstraint(
                condition=Q(billable_amount__gte=0),
                name="milestone_billable_not_negative",
                violation_error_message=_("The billable amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(due_on__gte=F("starts_on")),
                name="milestone_due_after_start",
                violation_error_message=_("A milestone cannot be due before it starts."),
            ),
        ]
        indexes = [
            # Serves the project page and the health rule: a project's milestones by due date.
            models.Index(fields=["project", "due_on"], name="milestone_project_due_idx"),
            # Serves "due soon" and the deadline scan: open milestones by due date.
            models.Index(
                fields=["due_on"],
                condition=Q(completed_on__isnull=True),
                name="milestone_open_due_idx",
            ),
            # Serves "my milestones".
            models.Index(fields=["owner", "due_on"], name="milestone_owner_due_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_completed(self) -> bool:
        return self.completed_on is not None

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return self.completed_on is None and self.due_on < (today or timezone.localdate())

    def waits_for_predecessors(self) -> bool:
        """Whether a predecessor is not completed (uses the prefetch when there is one)."""
        return any(p.completed_on is None for p in self.predecessors.all())


class MilestoneDependencyQuerySet(AccessQuerySet):
    client_path = "milestone__project__client"


@audited()
class MilestoneDependency(models.Model):
    """`milestone` cannot be completed before `predecessor` is (finish-to-finish)."""

    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, related_name="dependencies",
        verbose_name=_("milestone"),
    )  # fmt: skip
    predecessor = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, related_name="dependents",
        verbose_name=_("predecessor"),
    )  # fmt: skip

    objects = MilestoneDependencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("milestone dependency")
        verbose_name_plural = _("milestone dependencies")
        constraints = [
            models.CheckConstraint(
                condition=~Q(milestone=F("predecessor")),
                name="milestone_not_own_predecessor",
                violation_error_message=_("A milestone cannot be its own predecessor."),
            ),
            models.UniqueConstraint(
                fields=["milestone", "predecessor"],
                name="milestone_dependency_unique",
                violation_error_message=_("This predecessor is already set."),
            ),
        ]
        indexes = [
            # Serves the cycle check walking from predecessors to their successors.
            models.Index(fields=["predecessor"], name="milestone_dep_predecessor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} -> {self.milestone}"


class TaskQuerySet(ProjectChildQuerySet):
    def open(self) -> TaskQuerySet:
        return self.filter(done_at__isnull=True)


@audited()
class Task(TimeStampedModel):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("project")
    )
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks",
        verbose_name=_("milestone"),
    )  # fmt: skip
    title = models.CharField(_("title"), max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="project_tasks", verbose_name=_("assignee"),
    )  # fmt: skip
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # Serves "my open tasks" and the deadline scan.
            models.Index(
                fields=["assignee", "due_on"],
                condition=Q(done_at__isnull=True),
                name="task_open_assignee_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class ClientOwnedQuerySet(AccessQuerySet):
    client_path = "client"


@audited()
class TrainingSession(TimeStampedModel):
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="training_sessions",
        verbose_name=_("client"),
    )  # fmt: skip
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="training_sessions", verbose_name=_("project"),
    )  # fmt: skip
    topic = models.CharField(_("topic"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=120)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="training_sessions",
        verbose_name=_("site"),
    )  # fmt: skip
    remote = models.BooleanField(_("remote"), default=False)
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_sessions",
        verbose_name=_("trainer"),
    )  # fmt: skip
    notes = models.TextField(_("notes"), blank=True)
    attendees = models.ManyToManyField(
        Contact, through="TrainingAttendance", related_name="training_sessions",
        verbose_name=_("attendees"),
    )  # fmt: skip

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "pk"]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(site__isnull=False, remote=False) | Q(site__isnull=True, remote=True),
                name="training_site_xor_remote",
                violation_error_message=_("A session takes place either at a site or remotely."),
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0),
                name="training_duration_positive",
                violation_error_message=_("A session lasts at least one minute."),
            ),
        ]
        indexes = [
            # Serves the client page's training list, newest first.
            models.Index(fields=["client", "-starts_at"], name="training_client_starts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.starts_at:%Y-%m-%d})"

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)


class AttendanceQuerySet(AccessQuerySet):
    client_path = "session__client"


@audited()
class TrainingAttendance(TimeStampedModel):
    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendance",
        verbose_name=_("session"),
    )  # fmt: skip
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="training_attendance",
        verbose_name=_("contact"),
    )  # fmt: skip
    attended = models.BooleanField(_("attended"), default=True)
    feedback_score = models.PositiveSmallIntegerField(
        _("feedback (1-5)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )  # fmt: skip

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        ordering = ["session", "contact__last_name", "pk"]
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "contact"],
                name="training_attendance_unique",
                violation_error_message=_("This contact is already on the session."),
            ),
            models.CheckConstraint(
                condition=Q(feedback_score__isnull=True)
                | Q(feedback_score__gte=1, feedback_score__lte=5),
                name="training_feedback_range",
                violation_error_message=_("Feedback is a score from 1 to 5."),
            ),
        ]
        indexes = [
            # Serves "who has been trained on what": a contact's sessions.
            models.Index(fields=["contact"], name="training_att_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.session}"


@audited()
class MarketingInitiative(TimeStampedModel):
    class Channel(models.TextChoices):
        EVENT = "event", _("Event")
        TRADE_SHOW = "trade_show", _("Trade show")
        DIGITAL = "digital", _("Digital advertising")
        EMAIL = "email", _("E-mail campaign")
        SOCIAL = "social", _("Social media")
        PRINT = "print", _("Print")
        POINT_OF_SALE = "point_of_sale", _("Point of sale")
        WEBINAR = "webinar", _("Webinar")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Metric(models.TextChoices):
        LEADS = "leads", _("Leads")
        OPPORTUNITIES = "opportunities", _("Opportunities")
        REVENUE = "revenue", _("Revenue")
        UNITS = "units", _("Units sold")
        ATTENDEES = "attendees", _("Attendees")
        IMPRESSIONS = "impressions", _("Impressions")

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="marketing_initiatives",
        verbose_name=_("client"),
    )  # fmt: skip
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="marketing_initiatives", verbose_name=_("project"),
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    budget = MoneyField(_("total budget"), default=Decimal("0"))
    our_contribution = MoneyField(_("our contribution"), default=Decimal("0"))
    currency = CurrencyField()
    target_metric = models.CharField(
        _("target metric"), max_length=20, choices=Metric.choices, default=Metric.LEADS
    )
    target_value = models.DecimalField(
        _("target"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    result_value = models.DecimalField(
        _("result"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("marketing initiative")
        verbose_name_plural = _("marketing initiatives")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    channel__in=[
                        "event",
                        "trade_show",
                        "digital",
                        "email",
                        "social",
                        "print",
                        "point_of_sale",
                        "webinar",
                        "other",
                    ]
                ),
                name="initiative_channel_valid",
                violation_error_message=_("Unknown channel."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "running", "completed", "cancelled"]),
                name="initiative_status_valid",
                violation_error_message=_("Unknown initiative status."),
            ),
            models.CheckConstraint(
                condition=Q(
                    target_metric__in=[
                        "leads",
                        "opportunities",
                        "revenue",
                        "units",
                        "attendees",
                        "impressions",
                    ]
                ),
                name="initiative_metric_valid",
                violation_error_message=_("Unknown target metric."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="initiative_ends_after_start",
                violation_error_message=_("An initiative cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(our_contribution__gte=0) & Q(our_contribution__lte=F("budget")),
                name="initiative_contribution_within_budget",
                violation_error_message=_(
                    "Our contribution must be between zero and the total budget."
                ),
            ),
            models.CheckConstraint(
                condition=(Q(target_value__isnull=True) | Q(target_value__gte=0))
                & (Q(result_value__isnull=True) | Q(result_value__gte=0)),
                name="initiative_figures_not_negative",
                violation_error_message=_("Target and result cannot be negative."),
            ),
        ]
        indexes = [
            # Serves the client page's initiatives, newest first.
            models.Index(fields=["client", "-starts_on"], name="initiative_client_starts_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_VALUES = ["low", "normal", "high", "urgent"]


class ServiceLevelQuerySet(AccessQuerySet):
    client_path = "contract__client"


@audited()
class ServiceLevel(TimeStampedModel):
    """A contract's promised response time for one priority, overriding PROJECTS_SLA_HOURS."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="service_levels",
        verbose_name=_("contract"),
    )  # fmt: skip
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    hours = models.PositiveIntegerField(_("hours (calendar)"))

    objects = ServiceLevelQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "hours"]
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "priority"],
                name="service_level_unique",
                violation_error_message=_("This contract already sets this priority's SLA."),
            ),
            models.CheckConstraint(
                condition=Q(priority__in=PRIORITY_VALUES),
                name="service_level_priority_valid",
                violation_error_message=_("Unknown priority."),
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0),
                name="service_level_hours_positive",
                violation_error_message=_("An SLA is at least one hour."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.priority}: {self.hours} h"


class ServiceCaseQuerySet(AccessQuerySet):
    client_path = "client"

    def open(self) -> ServiceCaseQuerySet:
        return self.filter(status__in=ServiceCase.OPEN_STATUSES)

    def past_sla(self, now: datetime.datetime | None = None) -> ServiceCaseQuerySet:
        """Cases still open after their SLA due time."""
        return self.open().filter(sla_due__lt=now or timezone.now())

    def with_past_sla(self, now: datetime.datetime | None = None) -> ServiceCaseQuerySet:
        """Annotate `is_past_sla` (bool) for lists that sort or flag by it."""
        return self.annotate(
            is_past_sla=Case(
                When(
                    Q(status__in=ServiceCase.OPEN_STATUSES, sla_due__lt=now or timezone.now()),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=models.BooleanField(),
            )
        )


@audited()
class ServiceCase(TimeStampedModel):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting on client")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    Priority = Priority
    OPEN_STATUSES = ("new", "open", "waiting")

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="service_cases", verbose_name=_("client")
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="service_cases",
        verbose_name=_("contact"),
    )  # fmt: skip
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="service_cases",
        verbose_name=_("order"),
    )  # fmt: skip
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="service_cases",
        verbose_name=_("project"),
    )  # fmt: skip
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="new")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    sla_due = models.DateTimeField(_("SLA due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_cases", verbose_name=_("assignee"),
    )  # fmt: skip
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ServiceCaseQuerySet.as_manager()

    class Meta:
        ordering = ["sla_due", "pk"]
        verbose_name = _("service case")
        verbose_name_plural = _("service cases")
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__in=PRIORITY_VALUES),
                name="service_case_priority_valid",
                violation_error_message=_("Unknown priority."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["new", "open", "waiting", "resolved", "closed"]),
                name="service_case_status_valid",
                violation_error_message=_("Unknown case status."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["new", "open", "waiting"])
                | (~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="service_case_resolved_has_resolution",
                violation_error_message=_(
                    "A resolved or closed case needs a resolution and when it was resolved."
                ),
            ),
            models.CheckConstraint(
                condition=Q(sla_due__gte=F("opened_at")),
                name="service_case_sla_after_opening",
                violation_error_message=_("The SLA cannot fall due before the case was opened."),
            ),
        ]
        indexes = [
            # Serves the customer-service queue: open cases by SLA due time.
            models.Index(
                fields=["sla_due"],
                condition=Q(status__in=["new", "open", "waiting"]),
                name="service_case_open_sla_idx",
            ),
            # Serves the client page's cases.
            models.Index(fields=["client", "status"], name="service_case_client_idx"),
            # Serves "my cases".
            models.Index(fields=["assignee", "status"], name="service_case_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_past_sla(self, now: datetime.datetime | None = None) -> bool:
        return self.is_open and self.sla_due < (now or timezone.now())
