"""HTML pages for delivery work: projects and their timelines, milestones, tasks, training,
marketing initiatives and service cases. Parse, call a selector or a service, render.

Same rules as the clients and orders pages (shared helpers in accounts_crm/pages.py): a row the
person may not see is a 404, an action their role does not allow is a 403, what a service refuses
is a form error or an error message. htmx requests get a partial of the same template as the page.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_crm.access import get_visible_or_404
from accounts_crm.errors import DomainError, NotAllowedError
from accounts_crm.pages import (
    FAILED,
    change_history,
    csv_response,
    form_page,
    id_dropdowns,
    is_htmx_partial,
    page_links,
    person_name,
    posted_data,
    require,
    run_action,
    save_form,
    sort_columns,
)
from clients import selectors as client_selectors
from clients.filters import ClientScopeFilters, client_scope_dropdowns
from clients.models import Client
from projects import policies, selectors, services
from projects.filters import (
    MarketingInitiativeFilter,
    MilestoneFilter,
    ProjectFilter,
    ServiceCaseFilter,
    TrainingSessionFilter,
)
from projects.forms import (
    AttendanceForm,
    CaseAssignForm,
    InitiativeForm,
    MilestoneForm,
    ProjectForm,
    ResolutionForm,
    ServiceCaseForm,
    TaskForm,
    TrainingSessionForm,
)
from projects.models import (
    PROJECT_AT_RISK_DAYS,
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    Task,
    TrainingSession,
    health_label,
)

PAGE_SIZE = 25
SECTION_LIMIT = 10  # rows per section on the client page; the list behind it has the rest
DUE_SOON_DAYS = 14  # the "due soon" list's default horizon
ROW_HEIGHT = 32  # px per timeline row; the dependency connectors are drawn on this grid
WEEK_GRID_MAX_DAYS = 190  # week lines only while they stay readable


# Helpers -------------------------------------------------------------------------------------


def _client(request: HttpRequest, pk: int) -> Client:
    return get_visible_or_404(client_selectors.client_list(user=request.user), request.user, pk=pk)


def _client_url(client_id: int, section: str) -> str:
    return f"{reverse('clients:client_detail', args=[client_id])}#{section}"


def _date(day: datetime.date | datetime.datetime | None) -> str:
    return day.isoformat() if day else ""


# Lists ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    """One list page: its shared FilterSet, template, sortable columns, CSV export, and which
    id filters become dropdowns of what the person sees (the others stay hidden query params)."""

    filterset: type[django_filters.FilterSet]
    template: str
    columns: list[tuple[str, str | Promise]]
    csv_name: str
    csv_header: list[str | Promise]
    csv_row: Callable[[Any], list[Any]]
    model: type[Model]
    client_path: str
    people: dict[str, str]
    hidden: tuple[str, ...] = ()


def _list_page(
    request: HttpRequest, spec: ListSpec, queryset: QuerySet, **context: Any
) -> HttpResponse:
    filterset = spec.filterset(request.GET, queryset=queryset, request=request)
    _dropdowns(request, filterset, spec)
    rows = filterset.qs
    rows = rows.order_by(*rows.query.order_by, "pk")
    if request.GET.get("format") == "csv":
        return csv_response(
            rows.iterator(chunk_size=500),
            filename=spec.csv_name,
            header=spec.csv_header,
            row=spec.csv_row,
        )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context |= {
        "filter": filterset,
        "page": page,
        "columns": sort_columns(spec.columns, request.GET.get("ordering", "")),
    }
    partial = is_htmx_partial(request)
    response = render(request, f"{spec.template}#results" if partial else spec.template, context)
    response["Vary"] = "HX-Request"
    return response


def _dropdowns(request: HttpRequest, filterset: django_filters.FilterSet, spec: ListSpec) -> None:
    """Client and people filters as dropdowns of what the person sees; the FilterSet (shared
    with the API, which takes ids) still receives an id. Other id filters are hidden inputs
    (links from a project or a client page set them)."""
    choices = selectors.list_filter_choices(
        user=request.user,
        rows=spec.model.objects.visible_to(request.user),
        client_path=spec.client_path,
        people=spec.people,
    )
    id_dropdowns(filterset.form, choices)
    if isinstance(filterset, ClientScopeFilters):
        client_scope_dropdowns(filterset.form, user=request.user)
    fields = filterset.form.fields
    for name in spec.hidden:
        fields[name].widget = forms.HiddenInput()


PROJECT_LIST = ListSpec(
    ProjectFilter,
    "projects/project_list.html",
    [("name", gettext_lazy("Project")), ("client", gettext_lazy("Client")),
     ("health", gettext_lazy("Health")), ("status", gettext_lazy("Status")),
     ("next_due", gettext_lazy("Next milestone")), ("due_on", gettext_lazy("Due")),
     ("budget", gettext_lazy("Budget"))],
    "projects.csv",
    [gettext_lazy("Project"), gettext_lazy("Client"), gettext_lazy("Kind"),
     gettext_lazy("Status"), gettext_lazy("Health"), gettext_lazy("Project manager"),
     gettext_lazy("Start"), gettext_lazy("Due"), gettext_lazy("Milestones done"),
     gettext_lazy("Milestones"), gettext_lazy("Next milestone"), gettext_lazy("Budget"),
     gettext_lazy("Currency"), gettext_lazy("Order")],
    lambda p: [p.name, p.client.name, p.get_kind_display(), p.get_status_display(),
               health_label(p.health), person_name(p.manager), _date(p.starts_on), _date(p.due_on),
               p.milestones_done, p.milestone_count, _date(p.next_due), p.budget, p.currency,
               p.order.number if p.order else ""],
    Project, "client_id", {"manager": "manager_id"},
)  # fmt: skip

MILESTONE_LIST = ListSpec(
    MilestoneFilter,
    "projects/milestone_list.html",
    [("due_on", gettext_lazy("Due")), ("name", gettext_lazy("Milestone")),
     ("project", gettext_lazy("Project")), ("client", gettext_lazy("Client")),
     ("completed_on", gettext_lazy("Completed on"))],
    "milestones.csv",
    [gettext_lazy("Milestone"), gettext_lazy("Project"), gettext_lazy("Client"),
     gettext_lazy("Owner"), gettext_lazy("Due"), gettext_lazy("Completed on"),
     gettext_lazy("Late"), gettext_lazy("Billable amount")],
    lambda m: [m.name, m.project.name, m.project.client.name, person_name(m.owner), _date(m.due_on),
               _date(m.completed_on), m.is_late, m.billable_amount],
    Milestone, "project__client_id", {"owner": "owner_id"}, hidden=("project",),
)  # fmt: skip

TRAINING_LIST = ListSpec(
    TrainingSessionFilter,
    "projects/training_list.html",
    [("starts_at", gettext_lazy("When")), ("topic", gettext_lazy("Topic")),
     ("client", gettext_lazy("Client")), ("feedback", gettext_lazy("Feedback"))],
    "training.csv",
    [gettext_lazy("When"), gettext_lazy("Topic"), gettext_lazy("Client"),
     gettext_lazy("Project"), gettext_lazy("Where"), gettext_lazy("Trainer"),
     gettext_lazy("Attendees"), gettext_lazy("Attended"), gettext_lazy("Average feedback")],
    lambda s: [s.starts_at.isoformat(), s.topic, s.client.name,
               s.project.name if s.project else "",
               _("Remote") if s.remote else (s.site.name if s.site else ""), person_name(s.trainer),
               s.attendee_count, s.attended_count,
               "" if s.average_feedback is None else s.average_feedback],
    TrainingSession, "client_id", {"trainer": "trainer_id"}, hidden=("project", "contact"),
)  # fmt: skip

INITIATIVE_LIST = ListSpec(
    MarketingInitiativeFilter,
    "projects/initiative_list.html",
    [("name", gettext_lazy("Initiative")), ("client", gettext_lazy("Client")),
     ("starts_on", gettext_lazy("Start")), ("ends_on", gettext_lazy("End")),
     ("budget", gettext_lazy("Budget")), ("our_contribution", gettext_lazy("Our contribution")),
     ("achievement", gettext_lazy("Result vs target"))],
    "initiatives.csv",
    [gettext_lazy("Initiative"), gettext_lazy("Client"), gettext_lazy("Channel"),
     gettext_lazy("Status"), gettext_lazy("Start"), gettext_lazy("End"), gettext_lazy("Budget"),
     gettext_lazy("Our contribution"), gettext_lazy("Currency"), gettext_lazy("Target metric"),
     gettext_lazy("Target"), gettext_lazy("Result"), gettext_lazy("Result vs target %")],
    lambda i: [i.name, i.client.name, i.get_channel_display(), i.get_status_display(),
               _date(i.starts_on), _date(i.ends_on), i.budget, i.our_contribution, i.currency,
               i.get_target_metric_display(), "" if i.target_value is None else i.target_value,
               "" if i.result_value is None else i.result_value,
               "" if i.achievement is None else round(i.achievement, 1)],
    MarketingInitiative, "client_id", {}, hidden=("project",),
)  # fmt: skip

CASE_COLUMNS = [
    ("sla_due", gettext_lazy("SLA due")),
    ("subject", gettext_lazy("Case")),
    ("client", gettext_lazy("Client")),
    ("priority", gettext_lazy("Priority")),
    ("status", gettext_lazy("Status")),
    ("opened_at", gettext_lazy("Opened")),
]
CASE_CSV = (
    [gettext_lazy("Number"), gettext_lazy("Subject"), gettext_lazy("Client"),
     gettext_lazy("Contact"), gettext_lazy("Priority"), gettext_lazy("Status"),
     gettext_lazy("Opened"), gettext_lazy("SLA due"), gettext_lazy("Past SLA"),
     gettext_lazy("Assignee"), gettext_lazy("Order"), gettext_lazy("Project"),
     gettext_lazy("Resolved at")],
    lambda c: [c.pk, c.subject, c.client.name, str(c.contact) if c.contact else "",
               c.get_priority_display(), c.get_status_display(), c.opened_at.isoformat(),
               c.sla_due.isoformat(), c.is_past_sla, person_name(c.assignee),
               c.order.number if c.order else "", c.project.name if c.project else "",
               _date(c.resolved_at)],
)  # fmt: skip
CASE_LIST = ListSpec(
    ServiceCaseFilter, "projects/case_list.html", CASE_COLUMNS, "service-cases.csv", *CASE_CSV,
    ServiceCase, "client_id", {"assignee": "assignee_id"}, hidden=("project", "order"),
)  # fmt: skip


@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, PROJECT_LIST, selectors.project_list(user=request.user))


@require_GET
def milestone_list(request: HttpRequest) -> HttpResponse:
    """All milestones; `due-soon/` is the same list limited to open ones due within a horizon
    or already overdue, across the person's accounts."""
    return _list_page(
        request, MILESTONE_LIST, selectors.milestone_list(user=request.user), due_soon=False
    )


@require_GET
def milestone_due_soon(request: HttpRequest) -> HttpResponse:
    days = request.GET.get("days", "")
    days = min(int(days), 366) if days.isdigit() else DUE_SOON_DAYS
    queryset = selectors.milestones_due_soon(user=request.user, days=days)
    return _list_page(request, MILESTONE_LIST, queryset, due_soon=True, days=days)


@require_GET
def training_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, TRAINING_LIST, selectors.training_list(user=request.user))


@require_GET
def initiative_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, INITIATIVE_LIST, selectors.initiative_list(user=request.user))


@require_GET
def case_queue(request: HttpRequest) -> HttpResponse:
    """Customer service's queue: open cases, past SLA first, then the nearest SLA."""
    queryset = selectors.case_queue(user=request.user)
    return _list_page(request, CASE_LIST, queryset, queue=True, now=timezone.now())


@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.case_list(user=request.user)
    return _list_page(request, CASE_LIST, queryset, queue=False, now=timezone.now())


# Timelines -----------------------------------------------------------------------------------


def _timeline_layout(timeline: selectors.Timeline) -> dict[str, Any]:
    """Where the template draws things: each row's y, the connectors between a predecessor's
    due diamond and its successor's, and the week lines of short spans."""
    y_of = {}
    for index, row in enumerate(timeline.rows):
        if row.kind == "milestone":
            y_of[row.id] = index * ROW_HEIGHT + ROW_HEIGHT // 2
    at = {row.id: row.due_at for row in timeline.rows if row.kind == "milestone"}
    connectors = [
        {"x1": at[before], "y1": y_of[before], "x2": at[after], "y2": y_of[after]}
        for before, after in timeline.dependencies
        if before in y_of and after in y_of
    ]
    weeks = []
    if timeline.days <= WEEK_GRID_MAX_DAYS:
        monday = timeline.start + datetime.timedelta(days=-timeline.start.weekday() % 7)
        while monday <= timeline.end:
            weeks.append(round((monday - timeline.start).days * 100 / timeline.days, 3))
            monday += datetime.timedelta(days=7)
    return {
        "timeline": timeline,
        "connectors": connectors,
        "weeks": weeks,
        "row_height": ROW_HEIGHT,
        "chart_height": len(timeline.rows) * ROW_HEIGHT,
    }


@require_GET
def client_timeline(request: HttpRequest, client_pk: int) -> HttpResponse:
    """The Gantt of a client's projects (open ones; `?closed=1` adds the closed ones)."""
    client = _client(request, client_pk)
    include_closed = request.GET.get("closed") == "1"
    timeline = selectors.client_timeline(
        user=request.user, client=client, include_closed=include_closed
    )
    context = _timeline_layout(timeline) | {"client": client, "include_closed": include_closed}
    return render(request, "projects/client_timeline.html", context)


# Projects ------------------------------------------------------------------------------------


def _project_url(project_id: int, section: str = "top") -> str:
    return f"{reverse('projects:project_detail', args=[project_id])}#{section}"


def _plan_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    """The project's milestones, tasks and timeline with the buttons the person may use."""
    milestones = list(project.milestones.all())
    can_run = policies.can_run_projects(request.user, project.client)
    for milestone in milestones:
        milestone.project = project  # the policy reads project.client: no query per row
        allowed = project.is_open and policies.can_complete_milestone(request.user, milestone)
        milestone.can_complete = allowed and not milestone.is_completed
        milestone.can_reopen = allowed and milestone.is_completed
        milestone.waiting = milestone.waits_for_predecessors()
        milestone.late = milestone.is_overdue()
    return {
        "project": project,
        # Buttons apps to the right of projects add (billing: "Invoice completed milestones").
        "page_links": page_links(request, "projects.project", project),
        "milestones": milestones,
        "health": project.health,
        "health_reason": _health_reason(project, milestones),
        "can_run": can_run,
        "can_plan": can_run and project.is_open,
        **_timeline_layout(selectors.timeline(project=project)),
    }


def _health_reason(project: Project, milestones: list[Milestone]) -> str:
    """Why the project has its health, in the words of the rule (ProjectQuerySet.with_health)."""
    today = timezone.localdate()
    if not project.is_open:
        return _("Closed projects have no health.")
    late = [m.name for m in milestones if m.is_overdue(today)]
    if project.due_on < today:
        return _("The project was due on %(day)s.") % {"day": date_format(project.due_on)}
    if late:
        return _("Past due and not completed: %(names)s.") % {"names": ", ".join(late)}
    horizon = today + datetime.timedelta(days=PROJECT_AT_RISK_DAYS)
    soon = [m.name for m in milestones if not m.is_completed and m.waiting and m.due_on <= horizon]
    if project.health == "at_risk" and soon:
        return _("Due within %(days)s days and still waiting for a predecessor: %(names)s.") % {
            "days": PROJECT_AT_RISK_DAYS,
            "names": ", ".join(soon),
        }
    return _("No milestone is late, and none due within %(days)s days waits for a predecessor.") % {
        "days": PROJECT_AT_RISK_DAYS
    }


@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.project_detail(user=request.user, pk=pk)
    context = _plan_context(request, project)
    context["history"] = change_history(project, models=["projects.Milestone", "projects.Task"])
    context["tasks"] = [
        *((task, m.name) for m in context["milestones"] for task in m.tasks.all()),
        *((task, "") for task in project.loose_tasks),
    ]
    return render(request, "projects/project_detail.html", context)


@require_http_methods(["GET", "POST"])
def project_edit(
    request: HttpRequest, pk: int | None = None, client_pk: int | None = None
) -> HttpResponse:
    """Create (with `client_pk`) or edit (with `pk`) a project."""
    if pk is None:
        client = _client(request, client_pk)
        today = timezone.localdate()
        project = Project(client=client, manager=request.user, starts_on=today, due_on=today)
        title, back = _("New project"), _client_url(client.pk, "projects")
    else:
        project = selectors.project_detail(user=request.user, pk=pk)
        client = project.client
        title = _("Edit %(project)s") % {"project": project}
        back = _project_url(project.pk)
    require(policies.can_run_projects(request.user, client))
    form = ProjectForm(posted_data(request), instance=project)
    if form.is_valid() and save_form(
        form,
        services.project_save,
        by=request.user,
        project=project,
        version=None if pk is None else (form.cleaned_data["version"] or 0),
    ):
        messages.success(request, _("Project %(project)s saved.") % {"project": project})
        return redirect(_project_url(project.pk))
    return form_page(request, form, title=title, client=client, back=back)


# Milestones and tasks ------------------------------------------------------------------------


def _milestone(request: HttpRequest, pk: int) -> Milestone:
    queryset = Milestone.objects.visible_to(request.user).select_related(
        "project__client__team", "owner"
    )
    return get_visible_or_404(queryset, request.user, pk=pk)


def _plan_response(request: HttpRequest, project_id: int) -> HttpResponse:
    """After a milestone button: over htmx the plan (milestones, timeline, health) again with
    the messages; otherwise back to the project page."""
    if not is_htmx_partial(request):
        return redirect(_project_url(project_id, "plan"))
    project = selectors.project_detail(user=request.user, pk=project_id)
    context = _plan_context(request, project) | {"oob_messages": True}
    return render(request, "projects/project_detail.html#plan", context)


@require_POST
def milestone_complete(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone(request, pk)
    require(policies.can_complete_milestone(request.user, milestone))
    if run_action(
        request, services.milestone_complete, by=request.user, milestone=milestone
    ) is not (FAILED):
        messages.success(request, _("“%(name)s” completed.") % {"name": milestone.name})
    return _plan_response(request, milestone.project_id)


@require_POST
def milestone_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone(request, pk)
    require(policies.can_complete_milestone(request.user, milestone))
    if run_action(request, services.milestone_reopen, by=request.user, milestone=milestone) is not (
        FAILED
    ):
        messages.success(request, _("“%(name)s” reopened.") % {"name": milestone.name})
    return _plan_response(request, milestone.project_id)


def _save_milestone(*, by: Any, milestone: Milestone, predecessors: list[Milestone]) -> None:
    """One form, two services: the plan first, then its predecessors, saved together."""
    with transaction.atomic():
        services.milestone_save(by=by, milestone=milestone)
        services.milestone_set_predecessors(by=by, milestone=milestone, predecessors=predecessors)


@require_http_methods(["GET", "POST"])
def milestone_edit(
    request: HttpRequest, pk: int | None = None, project_pk: int | None = None
) -> HttpResponse:
    """Add (with `project_pk`) or edit (with `pk`) a milestone and its predecessors."""
    if pk is None:
        project = selectors.project_detail(user=request.user, pk=project_pk)
        milestone = Milestone(project=project, owner=project.manager, due_on=project.due_on)
        title = _("New milestone")
    else:
        milestone = _milestone(request, pk)
        project = milestone.project
        title = _("Edit %(milestone)s") % {"milestone": milestone}
    require(policies.can_run_projects(request.user, project.client))
    form = MilestoneForm(posted_data(request), instance=milestone)
    if form.is_valid() and save_form(
        form,
        _save_milestone,
        by=request.user,
        milestone=milestone,
        predecessors=list(form.cleaned_data["predecessors"]),
    ):
        messages.success(request, _("Milestone %(name)s saved.") % {"name": milestone.name})
        return redirect(_project_url(project.pk, "plan"))
    crumbs = [(_("Projects"), reverse("projects:project_list")),
              (project.name, _project_url(project.pk))]  # fmt: skip
    return form_page(
        request, form, title=title, back=_project_url(project.pk, "plan"), breadcrumbs=crumbs,
        delete_url=reverse("projects:milestone_delete", args=[pk]) if pk else None,
    )  # fmt: skip


def _delete_page(
    request: HttpRequest, *, row: Model, back: str, done: str, delete: Callable[[], None]
) -> HttpResponse:
    """Confirm on GET; on POST delete and go to `done`, or show why it cannot be deleted."""
    error = None
    if request.method == "POST":
        try:
            delete()
        except NotAllowedError as exc:
            raise PermissionDenied(exc.message) from exc
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("%(object)s deleted.") % {"object": row})
            return redirect(done)
    context = {"object": row, "back": back, "error": error}
    return render(request, "clients/confirm_delete.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def milestone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone(request, pk)
    require(policies.can_run_projects(request.user, milestone.project.client))
    return _delete_page(
        request,
        row=milestone,
        back=reverse("projects:milestone_edit", args=[pk]),
        done=_project_url(milestone.project_id, "plan"),
        delete=lambda: services.milestone_delete(by=request.user, milestone=milestone),
    )


def _task(request: HttpRequest, pk: int) -> Task:
    queryset = Task.objects.visible_to(request.user).select_related("project__client__team")
    return get_visible_or_404(queryset, request.user, pk=pk)


@require_http_methods(["GET", "POST"])
def task_edit(
    request: HttpRequest, pk: int | None = None, project_pk: int | None = None
) -> HttpResponse:
    if pk is None:
        project = selectors.project_detail(user=request.user, pk=project_pk)
        task, title = Task(project=project, assignee=request.user), _("New task")
    else:
        task = _task(request, pk)
        project, title = task.project, _("Edit %(task)s") % {"task": task}
    require(policies.can_run_projects(request.user, project.client))
    form = TaskForm(posted_data(request), instance=task)
    if form.is_valid() and save_form(form, services.task_save, by=request.user, task=task):
        messages.success(request, _("Task %(task)s saved.") % {"task": task})
        return redirect(_project_url(project.pk, "tasks"))
    crumbs = [(_("Projects"), reverse("projects:project_list")),
              (project.name, _project_url(project.pk))]  # fmt: skip
    return form_page(
        request, form, title=title, back=_project_url(project.pk, "tasks"), breadcrumbs=crumbs,
        delete_url=reverse("projects:task_delete", args=[pk]) if pk else None,
    )  # fmt: skip


@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    require(policies.can_mark_task_done(request.user, task))
    done = request.POST.get("done", "1") == "1"
    if run_action(request, services.task_done, by=request.user, task=task, done=done) is not FAILED:
        message = _("“%(task)s” done.") if done else _("“%(task)s” is open again.")
        messages.success(request, message % {"task": task})
    return redirect(_project_url(task.project_id, "tasks"))


@require_http_methods(["GET", "POST"])
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    require(policies.can_run_projects(request.user, task.project.client))
    return _delete_page(
        request,
        row=task,
        back=reverse("projects:task_edit", args=[pk]),
        done=_project_url(task.project_id, "tasks"),
        delete=lambda: services.task_delete(by=request.user, task=task),
    )


@require_http_methods(["GET", "POST"])
def training_delete(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.training_detail(user=request.user, pk=pk)
    require(policies.can_run_projects(request.user, session.client))
    return _delete_page(
        request,
        row=session,
        back=_training_url(pk),
        done=_client_url(session.client_id, "training"),
        delete=lambda: services.training_session_delete(by=request.user, session=session),
    )


@require_http_methods(["GET", "POST"])
def initiative_delete(request: HttpRequest, pk: int) -> HttpResponse:
    initiative = selectors.initiative_detail(user=request.user, pk=pk)
    require(policies.can_run_projects(request.user, initiative.client))
    return _delete_page(
        request,
        row=initiative,
        back=reverse("projects:initiative_detail", args=[pk]),
        done=_client_url(initiative.client_id, "initiatives"),
        delete=lambda: services.initiative_delete(by=request.user, initiative=initiative),
    )


# Training ------------------------------------------------------------------------------------


def _training_url(pk: int, section: str = "top") -> str:
    return f"{reverse('projects:training_detail', args=[pk])}#{section}"


def _training_context(
    request: HttpRequest, session: TrainingSession, form: AttendanceForm | None = None
) -> dict[str, Any]:
    can_run = policies.can_run_projects(request.user, session.client)
    if form is None and can_run:
        form = AttendanceForm(session=session, auto_id="attendance_%s")
    return {
        "session": session,
        "attendance": list(session.attendance.all()),
        "can_run": can_run,
        "attendance_form": form if can_run else None,
    }


@require_GET
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.training_detail(user=request.user, pk=pk)
    return render(request, "projects/training_detail.html", _training_context(request, session))


@require_http_methods(["GET", "POST"])
def training_edit(
    request: HttpRequest, pk: int | None = None, client_pk: int | None = None
) -> HttpResponse:
    if pk is None:
        client = _client(request, client_pk)
        session = TrainingSession(client=client, trainer=request.user, remote=True)
        title, back = _("New training session"), _client_url(client.pk, "training")
    else:
        session = selectors.training_detail(user=request.user, pk=pk)
        client = session.client
        title, back = _("Edit %(session)s") % {"session": session.topic}, _training_url(pk)
    require(policies.can_run_projects(request.user, client))
    form = TrainingSessionForm(posted_data(request), instance=session)
    if form.is_valid() and save_form(
        form, services.training_session_save, by=request.user, session=session
    ):
        messages.success(request, _("Session %(topic)s saved.") % {"topic": session.topic})
        return redirect(_training_url(session.pk))
    delete_url = reverse("projects:training_delete", args=[pk]) if pk else None
    return form_page(request, form, title=title, client=client, back=back, delete_url=delete_url)


@require_POST
def attendance_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a contact on the session, or record whether they came and their feedback."""
    session = selectors.training_detail(user=request.user, pk=pk)
    require(policies.can_run_projects(request.user, session.client))
    form = AttendanceForm(request.POST, session=session, auto_id="attendance_%s")
    if form.is_valid() and save_form(
        form,
        services.attendance_record,
        by=request.user,
        session=session,
        contact=form.cleaned_data["contact"],
        attended=form.cleaned_data["attended"],
        feedback_score=form.cleaned_data["feedback_score"],
    ):
        contact = form.cleaned_data["contact"]
        messages.success(request, _("Attendance of %(contact)s saved.") % {"contact": contact})
        return redirect(_training_url(session.pk, "attendance"))
    context = _training_context(request, session, form)
    return render(request, "projects/training_detail.html", context, status=400)


@require_POST
def attendance_remove(request: HttpRequest, pk: int, attendance_pk: int) -> HttpResponse:
    session = selectors.training_detail(user=request.user, pk=pk)
    require(policies.can_run_projects(request.user, session.client))
    row = next((a for a in session.attendance.all() if a.pk == attendance_pk), None)
    if row is None:
        raise Http404
    row.session = session
    if (
        run_action(request, services.attendance_remove, by=request.user, attendance=row)
        is not FAILED
    ):
        messages.success(request, _("%(contact)s removed.") % {"contact": row.contact})
    return redirect(_training_url(session.pk, "attendance"))


# Marketing initiatives -----------------------------------------------------------------------


@require_GET
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    initiative = selectors.initiative_detail(user=request.user, pk=pk)
    context = {
        "initiative": initiative,
        "can_run": policies.can_run_projects(request.user, initiative.client),
        "history": change_history(initiative, models=[]),
    }
    return render(request, "projects/initiative_detail.html", context)


@require_http_methods(["GET", "POST"])
def initiative_edit(
    request: HttpRequest, pk: int | None = None, client_pk: int | None = None
) -> HttpResponse:
    if pk is None:
        client = _client(request, client_pk)
        today = timezone.localdate()
        initiative = MarketingInitiative(client=client, starts_on=today, ends_on=today)
        title, back = _("New marketing initiative"), _client_url(client.pk, "initiatives")
    else:
        initiative = selectors.initiative_detail(user=request.user, pk=pk)
        client = initiative.client
        title = _("Edit %(initiative)s") % {"initiative": initiative}
        back = reverse("projects:initiative_detail", args=[pk])
    require(policies.can_run_projects(request.user, client))
    form = InitiativeForm(posted_data(request), instance=initiative)
    if form.is_valid() and save_form(
        form, services.initiative_save, by=request.user, initiative=initiative
    ):
        messages.success(request, _("Initiative %(name)s saved.") % {"name": initiative})
        return redirect("projects:initiative_detail", pk=initiative.pk)
    delete_url = reverse("projects:initiative_delete", args=[pk]) if pk else None
    return form_page(request, form, title=title, client=client, back=back, delete_url=delete_url)


# Service cases -------------------------------------------------------------------------------


def _case_url(pk: int) -> str:
    return reverse("projects:case_detail", args=[pk])


@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_detail(user=request.user, pk=pk)
    can_handle = policies.can_run_service_cases(request.user, case.client)
    context = {
        "case": case,
        "now": timezone.now(),
        "can_handle": can_handle,
        "assign_form": CaseAssignForm(initial={"assignee": case.assignee_id}, case=case)
        if can_handle and case.is_open
        else None,
        "resolution_form": ResolutionForm(),
        # Moves between new, open and waiting that this case allows (services.CASE_TRANSITIONS).
        "status_moves": [
            ServiceCase.Status(to)
            for to in ServiceCase.OPEN_STATUSES
            if to in services.CASE_TRANSITIONS[case.status]
        ]
        if can_handle
        else [],
        "history": change_history(case, models=[]),
    }
    return render(request, "projects/case_detail.html", context)


@require_http_methods(["GET", "POST"])
def case_edit(
    request: HttpRequest, pk: int | None = None, client_pk: int | None = None
) -> HttpResponse:
    """Open (with `client_pk`) or edit (with `pk`) a service case."""
    if pk is None:
        client = _client(request, client_pk)
        case = ServiceCase(client=client)
        title, back = _("New service case"), _client_url(client.pk, "cases")
        service = services.case_open
    else:
        case = selectors.case_detail(user=request.user, pk=pk)
        client = case.client
        title, back = _("Edit case #%(number)s") % {"number": case.pk}, _case_url(pk)
        service = services.case_update
    require(policies.can_run_service_cases(request.user, client))
    form = ServiceCaseForm(posted_data(request), instance=case)
    if form.is_valid():
        # An edit goes back with the version it was made on (a new case has none).
        extra = {} if pk is None else {"version": form.cleaned_data["version"] or 0}
    if form.is_valid() and save_form(form, service, by=request.user, case=case, **extra):
        messages.success(request, _("Case %(case)s saved.") % {"case": case})
        return redirect(_case_url(case.pk))
    return form_page(request, form, title=title, client=client, back=back)


@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_detail(user=request.user, pk=pk)
    require(policies.can_run_service_cases(request.user, case.client))
    form = CaseAssignForm(request.POST, case=case)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["assignee"]))
    elif (
        run_action(
            request,
            services.case_assign,
            by=request.user,
            case=case,
            assignee=form.cleaned_data["assignee"],
        )
        is not FAILED
    ):
        messages.success(request, _("Case %(case)s assigned.") % {"case": case})
    return redirect(_case_url(case.pk))


@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an open case between new, open and waiting on client."""
    case = selectors.case_detail(user=request.user, pk=pk)
    require(policies.can_run_service_cases(request.user, case.client))
    to = request.POST.get("to", "")
    if to not in ServiceCase.OPEN_STATUSES:
        messages.error(request, _("Choose the status the case moves to."))
    elif (
        run_action(request, services.case_set_status, by=request.user, case=case, to=to)
        is not FAILED
    ):
        messages.success(
            request,
            _("Case %(case)s is now %(status)s.")
            % {"case": case, "status": ServiceCase.Status(to).label.lower()},
        )
    return redirect(_case_url(case.pk))


CASE_ACTIONS: dict[str, tuple[Callable[..., Any], str | Promise]] = {
    "resolve": (services.case_resolve, gettext_lazy("Case %(case)s resolved.")),
    "close": (services.case_close, gettext_lazy("Case %(case)s closed.")),
    "reopen": (services.case_reopen, gettext_lazy("Case %(case)s reopened.")),
}


@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Resolve, close (both with a resolution) or reopen a case."""
    case = selectors.case_detail(user=request.user, pk=pk)
    require(policies.can_run_service_cases(request.user, case.client))
    service, message = CASE_ACTIONS[action]
    kwargs: dict[str, Any] = {"by": request.user, "case": case}
    if action != "reopen":
        kwargs["resolution"] = request.POST.get("resolution", "")
    if run_action(request, service, **kwargs) is not FAILED:
        messages.success(request, str(message) % {"case": case})
    return redirect(_case_url(case.pk))


# Sections of the client page (registered in projects/apps.py) --------------------------------


def client_projects_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    rows = selectors.project_list(user=request.user).filter(client=client)
    return {
        "client_projects": rows.order_by("health_rank", "due_on", "pk")[:SECTION_LIMIT],
        "can_run_projects": policies.can_run_projects(request.user, client),
    }


def client_timeline_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    timeline = selectors.client_timeline(user=request.user, client=client)
    layout = _timeline_layout(timeline)
    return {f"client_{key}": value for key, value in layout.items()}


def client_training_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    sessions = selectors.training_list(user=request.user).filter(client=client)
    return {
        "client_training": sessions[:SECTION_LIMIT],
        "client_trained": selectors.attendance_by_client(user=request.user, client=client),
    }


def client_initiatives_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    rows = selectors.initiative_list(user=request.user).filter(client=client)
    return {"client_initiatives": rows[:SECTION_LIMIT]}


def client_cases_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    rows = selectors.case_queue(user=request.user).filter(client=client)
    return {
        "client_cases": rows[:SECTION_LIMIT],
        "can_run_service_cases": policies.can_run_service_cases(request.user, client),
        "now": timezone.now(),
    }
