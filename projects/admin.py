"""Admin for support staff: look things up and fix master data.

What the services guard is read-only here: a milestone's completion (predecessor rule), a
case's status, SLA due time and resolution time (transitions and SLA computation), the version
counters. Change those through the product's pages, which go through projects/services.py.
"""

from __future__ import annotations

from django.contrib import admin

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


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["name", "position", "starts_on", "due_on", "completed_on", "owner",
              "billable_amount"]  # fmt: skip
    readonly_fields = ["completed_on"]
    autocomplete_fields = ["owner"]
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "kind", "status", "manager", "starts_on", "due_on", "budget"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "client__name"]
    list_select_related = ["client", "manager"]
    autocomplete_fields = ["client", "order", "manager"]
    date_hierarchy = "due_on"
    readonly_fields = ["version"]
    inlines = [MilestoneInline]


class DependencyInline(admin.TabularInline):
    model = MilestoneDependency
    fk_name = "milestone"
    extra = 0
    autocomplete_fields = ["predecessor"]
    verbose_name = "predecessor"


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["title", "assignee", "due_on", "done_at"]
    autocomplete_fields = ["assignee"]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "due_on", "completed_on", "owner", "billable_amount"]
    list_filter = ["completed_on"]
    search_fields = ["name", "project__name", "project__client__name"]
    list_select_related = ["project", "owner"]
    autocomplete_fields = ["project", "owner"]
    date_hierarchy = "due_on"
    readonly_fields = ["completed_on"]
    inlines = [DependencyInline, TaskInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "milestone", "assignee", "due_on", "done_at"]
    search_fields = ["title", "project__name"]
    list_select_related = ["project", "milestone", "assignee"]
    autocomplete_fields = ["project", "milestone", "assignee"]


class AttendanceInline(admin.TabularInline):
    model = TrainingAttendance
    extra = 0
    autocomplete_fields = ["contact"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    list_display = ["topic", "client", "starts_at", "duration_minutes", "site", "remote", "trainer"]
    list_filter = ["remote"]
    search_fields = ["topic", "client__name"]
    list_select_related = ["client", "site", "trainer"]
    autocomplete_fields = ["client", "project", "site", "trainer"]
    date_hierarchy = "starts_at"
    inlines = [AttendanceInline]


@admin.register(MarketingInitiative)
class MarketingInitiativeAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "channel", "status", "starts_on", "ends_on", "budget",
                    "our_contribution"]  # fmt: skip
    list_filter = ["status", "channel"]
    search_fields = ["name", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client", "project"]


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    list_display = ["contract", "priority", "hours"]
    list_filter = ["priority"]
    search_fields = ["contract__number", "contract__client__name"]
    list_select_related = ["contract"]
    autocomplete_fields = ["contract"]


@admin.register(ServiceCase)
class ServiceCaseAdmin(admin.ModelAdmin):
    list_display = ["pk", "subject", "client", "priority", "status", "sla_due", "assignee"]
    list_filter = ["status", "priority"]
    search_fields = ["subject", "client__name"]
    list_select_related = ["client", "assignee"]
    autocomplete_fields = ["client", "contact", "order", "project", "assignee"]
    date_hierarchy = "opened_at"
    readonly_fields = ["status", "opened_at", "sla_due", "resolved_at", "version"]
