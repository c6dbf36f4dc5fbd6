"""FilterSets shared by the HTML lists and the API.

They filter the querysets of projects/selectors.py and rely on their annotations: `health` and
`health_rank` (project_list), `is_late` (milestone_list), `is_past_sla` and `priority_rank`
(case_list). "Today" and "now" are the server's local date and time when the filter runs.
"""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import F, OrderBy, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.filters import ClientScopeFilters, StableOrderingFilter
from projects.models import (
    NO_HEALTH,
    Health,
    MarketingInitiative,
    Milestone,
    Priority,
    Project,
    ServiceCase,
    ServiceLevel,
    Task,
    TrainingSession,
)

NONE = "none"


class OrderingFilter(StableOrderingFilter):
    """Stable ordering with empty values (no target, no feedback yet) last either way."""

    def get_ordering_value(self, param: str) -> OrderBy:
        descending = param.startswith("-")
        field = F(self.param_map[param.removeprefix("-")])
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)


class ProjectFilter(ClientScopeFilters):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    manager = django_filters.NumberFilter(field_name="manager_id", label=_("Project manager"))
    kind = django_filters.ChoiceFilter(choices=Project.Kind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=Project.Status.choices, label=_("Status"))
    is_open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    health = django_filters.ChoiceFilter(
        choices=[*Health.choices, (NONE, NO_HEALTH)], method="filter_health", label=_("Health")
    )
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label=_("Due from")
    )
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Due by")
    )
    ordering = OrderingFilter(
        fields=(("name", "name"), ("client__name", "client"), ("starts_on", "starts_on"),
                ("due_on", "due_on"), ("status", "status"), ("health_rank", "health"),
                ("budget", "budget"), ("next_due", "next_due")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Project
        fields = ["q", "client", "manager", "kind", "status", "is_open", "health", "due_after",
                  "due_before"]  # fmt: skip

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value)
            | Q(client__name__icontains=value)
            | Q(order__number__icontains=value)
        )

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        open_q = Q(status__in=Project.OPEN_STATUSES)
        return queryset.filter(open_q if value else ~open_q)

    def filter_health(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if "health" not in queryset.query.annotations:
            queryset = queryset.with_health()
        return (
            queryset.filter(health__isnull=True) if value == NONE else queryset.filter(health=value)
        )


class MilestoneFilter(ClientScopeFilters):
    client_path = "project__client"

    q = django_filters.CharFilter(method="search", label=_("Search"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("Project"))
    client = django_filters.NumberFilter(field_name="project__client_id", label=_("Client"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("Owner"))
    completed = django_filters.BooleanFilter(
        field_name="completed_on", lookup_expr="isnull", exclude=True, label=_("Completed")
    )
    due_within = django_filters.NumberFilter(
        method="filter_due_within", min_value=0, max_value=366, label=_("Due within (days)")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label=_("Due from")
    )
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Due by")
    )
    ordering = OrderingFilter(
        fields=(("due_on", "due_on"), ("name", "name"), ("project__name", "project"),
                ("project__client__name", "client"), ("completed_on", "completed_on")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Milestone
        fields = ["q", "project", "client", "owner", "completed", "due_within", "overdue",
                  "due_after", "due_before"]  # fmt: skip

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value)
            | Q(project__name__icontains=value)
            | Q(project__client__name__icontains=value)
        )

    def filter_due_within(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        """Due soon: open, due from today up to `value` days ahead."""
        if value is None:
            return queryset
        return queryset.due_within(int(value))

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        overdue = Q(completed_on__isnull=True, due_on__lt=timezone.localdate())
        return queryset.filter(overdue if value else ~overdue)


class TaskFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Search"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("Project"))
    milestone = django_filters.NumberFilter(field_name="milestone_id", label=_("Milestone"))
    assignee = django_filters.NumberFilter(field_name="assignee_id", label=_("Assignee"))
    done = django_filters.BooleanFilter(
        field_name="done_at", lookup_expr="isnull", exclude=True, label=_("Done")
    )
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Due by")
    )
    ordering = OrderingFilter(
        fields=(("due_on", "due_on"), ("title", "title"), ("project__name", "project")),
        label=_("Sort by"),
    )

    class Meta:
        model = Task
        fields = ["q", "project", "milestone", "assignee", "done", "due_before"]


class TrainingSessionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("Project"))
    trainer = django_filters.NumberFilter(field_name="trainer_id", label=_("Trainer"))
    contact = django_filters.NumberFilter(field_name="attendance__contact_id", distinct=True,
                                          label=_("Attendee"))  # fmt: skip
    remote = django_filters.BooleanFilter(label=_("Remote"))
    starts_after = django_filters.DateFilter(
        field_name="starts_at", lookup_expr="date__gte", label=_("From")
    )
    starts_before = django_filters.DateFilter(
        field_name="starts_at", lookup_expr="date__lte", label=_("To")
    )
    ordering = OrderingFilter(
        fields=(("starts_at", "starts_at"), ("topic", "topic"), ("client__name", "client"),
                ("average_feedback", "feedback")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = TrainingSession
        fields = ["q", "client", "project", "trainer", "contact", "remote", "starts_after",
                  "starts_before"]  # fmt: skip

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(topic__icontains=value) | Q(client__name__icontains=value))


class MarketingInitiativeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("Project"))
    channel = django_filters.ChoiceFilter(
        choices=MarketingInitiative.Channel.choices, label=_("Channel")
    )
    status = django_filters.ChoiceFilter(
        choices=MarketingInitiative.Status.choices, label=_("Status")
    )
    target_metric = django_filters.ChoiceFilter(
        choices=MarketingInitiative.Metric.choices, label=_("Target metric")
    )
    active_on = django_filters.DateFilter(method="filter_active_on", label=_("Running on"))
    ordering = OrderingFilter(
        fields=(("starts_on", "starts_on"), ("ends_on", "ends_on"), ("name", "name"),
                ("client__name", "client"), ("budget", "budget"),
                ("our_contribution", "our_contribution"), ("achievement", "achievement")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = MarketingInitiative
        fields = ["q", "client", "project", "channel", "status", "target_metric", "active_on"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(client__name__icontains=value))

    def filter_active_on(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


class ServiceCaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("Project"))
    order = django_filters.NumberFilter(field_name="order_id", label=_("Order"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    status = django_filters.ChoiceFilter(choices=ServiceCase.Status.choices, label=_("Status"))
    is_open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    assignee = django_filters.NumberFilter(field_name="assignee_id", label=_("Assignee"))
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("Unassigned")
    )
    past_sla = django_filters.BooleanFilter(method="filter_past_sla", label=_("Past SLA"))
    ordering = OrderingFilter(
        fields=(("sla_due", "sla_due"), ("opened_at", "opened_at"),
                ("priority_rank", "priority"), ("status", "status"), ("client__name", "client"),
                ("subject", "subject")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = ServiceCase
        fields = ["q", "client", "project", "order", "priority", "status", "is_open", "assignee",
                  "unassigned", "past_sla"]  # fmt: skip

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        query = Q(subject__icontains=value) | Q(client__name__icontains=value)
        query |= Q(contact__last_name__icontains=value) | Q(contact__first_name__icontains=value)
        if value.lstrip("#").isdigit() and len(value.lstrip("#")) < 10:
            query |= Q(pk=int(value.lstrip("#")))
        return queryset.filter(query)

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        open_q = Q(status__in=ServiceCase.OPEN_STATUSES)
        return queryset.filter(open_q if value else ~open_q)

    def filter_past_sla(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        past = Q(status__in=ServiceCase.OPEN_STATUSES, sla_due__lt=timezone.now())
        return queryset.filter(past if value else ~past)


class ServiceLevelFilter(django_filters.FilterSet):
    """A contract's SLA overrides (API only)."""

    # Plain ids, not model choices: a contract the caller does not see filters to nothing,
    # exactly like one that does not exist.
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract"))
    client = django_filters.NumberFilter(field_name="contract__client_id", label=_("Client"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))

    class Meta:
        model = ServiceLevel
        fields = ["contract", "client", "priority"]
