"""DRF endpoints for delivery work under /api/v1/: projects, milestones, tasks, training sessions,
marketing initiatives, service cases and the contracts' service levels.

Same selectors, FilterSets and services as the pages: rows come from `visible_to` (a row the
caller may not see answers 404 and is never listed), writes go through projects/services.py,
and who may change what is projects/policies.py (a visible row the caller may not change answers
403). State changes are actions (`complete`, `reopen`, `predecessors`, `done`, `attendance`,
`assign`, `resolve`, `close`, `reopen`) that call the same services as the buttons, so they obey
the same rules: completing a milestone before its predecessors is a 400 that names them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.serializers import BaseSerializer

from accounts_crm.access import AnyUser
from accounts_crm.api import ServiceViewSetMixin
from clients.services import apply_fields
from orders.api import stale
from orders.policies import can_manage_contracts
from projects import filters, policies, selectors, services
from projects.models import (
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    ServiceLevel,
    Task,
    TrainingSession,
)
from projects.serializers import (
    AssignSerializer,
    AttendanceRemoveSerializer,
    AttendanceSerializer,
    CaseStatusSerializer,
    CloseSerializer,
    CompleteSerializer,
    DoneSerializer,
    MarketingInitiativeSerializer,
    MilestoneSerializer,
    PredecessorsSerializer,
    ProjectSerializer,
    ResolveSerializer,
    ServiceCaseSerializer,
    ServiceLevelSerializer,
    TaskSerializer,
    TrainingSessionDetailSerializer,
    TrainingSessionSerializer,
)

router = SimpleRouter()

# Writes without a body of their own (no delete on projects or cases: they end as completed,
# cancelled or closed, and invoices and history keep pointing at them).
NO_DELETE = ["get", "post", "put", "patch", "head", "options"]


class DeliveryViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Shared plumbing: the FilterSet sorts (its `ordering` is the HTML list's), and an action
    answers with its row as the detail endpoint shows it."""

    filter_backends = [DjangoFilterBackend]
    detail_serializer: type[BaseSerializer]

    def answer(self, row: Any, code: int = status.HTTP_200_OK) -> Response:
        body = self.detail_serializer(self.reread(row), context=self.get_serializer_context())
        return Response(body.data, status=code)

    def action_input(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# Projects --------------------------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(responses={200: ProjectSerializer, 409: stale("project")}),
    partial_update=extend_schema(responses={200: ProjectSerializer, 409: stale("project")}),
)
class ProjectViewSet(DeliveryViewSet):
    """Projects of the clients the caller sees, with their health (late, at risk, on track)
    and milestone counts. Updates carry the `version` read (409 if stale)."""

    serializer_class = detail_serializer = ProjectSerializer
    filterset_class = filters.ProjectFilter
    http_method_names = NO_DELETE

    def get_queryset(self) -> QuerySet[Project]:
        projects = selectors.project_list(user=self.request.user)
        if self.action == "list":
            return projects
        return projects.select_related("client__team")  # the policy's question

    def may_change(self, user: AnyUser, obj: Project) -> bool:
        return policies.can_run_projects(user, obj.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.setdefault("manager", self.request.user)
        project = services.project_save(by=self.request.user, project=Project(**data))
        serializer.instance = self.reread(project)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version")
        project = services.project_save(
            by=self.request.user, project=apply_fields(serializer.instance, data), version=version
        )
        serializer.instance = self.reread(project)


# Milestones ------------------------------------------------------------------------------------


class MilestoneViewSet(DeliveryViewSet):
    """Milestones of the projects the caller sees. Completion is not a field: `complete` and
    `reopen` check the predecessors; `predecessors` replaces the list (no cycles)."""

    detail_serializer = MilestoneSerializer
    filterset_class = filters.MilestoneFilter

    def get_serializer_class(self) -> type[BaseSerializer]:
        return {"complete": CompleteSerializer, "predecessors": PredecessorsSerializer}.get(
            self.action or "", MilestoneSerializer
        )

    def get_queryset(self) -> QuerySet[Milestone]:
        milestones = selectors.milestone_list(user=self.request.user).prefetch_related(
            Prefetch("predecessors", queryset=Milestone.objects.only("pk"))
        )
        if self.action == "list":
            return milestones
        return milestones.select_related("project__client__team")

    def may_change(self, user: AnyUser, obj: Milestone) -> bool:
        if self.action in ("complete", "reopen"):
            return policies.can_complete_milestone(user, obj)
        return policies.can_run_projects(user, obj.project.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.setdefault("owner", self.request.user)
        milestone = services.milestone_save(by=self.request.user, milestone=Milestone(**data))
        serializer.instance = self.reread(milestone)

    def perform_update(self, serializer: BaseSerializer) -> None:
        milestone = services.milestone_save(
            by=self.request.user,
            milestone=apply_fields(serializer.instance, serializer.validated_data),
        )
        serializer.instance = self.reread(milestone)

    def perform_destroy(self, instance: Milestone) -> None:
        services.milestone_delete(by=self.request.user, milestone=instance)

    @extend_schema(
        request=CompleteSerializer,
        responses={200: MilestoneSerializer},
        description=(
            "Record that the milestone was completed (today unless `on` says when). Refused "
            "with 400 and code `predecessors_open` while a predecessor is not completed."
        ),
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        milestone = self.get_object()
        on = self.action_input().get("on")
        return self.answer(services.milestone_complete(by=request.user, milestone=milestone, on=on))

    @extend_schema(
        request=None,
        responses={200: MilestoneSerializer},
        description=(
            "Mark a completed milestone as not done. Refused with 400 and code "
            "`successors_completed` while a milestone that waits for it is completed."
        ),
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        milestone = self.get_object()
        return self.answer(services.milestone_reopen(by=request.user, milestone=milestone))

    @extend_schema(
        request=PredecessorsSerializer,
        responses={200: MilestoneSerializer},
        description=(
            "Replace the milestones this one waits for (same project only). Refused with 400 "
            "and code `dependency_cycle` when one of them already waits for this one."
        ),
    )
    @action(detail=True, methods=["post"])
    def predecessors(self, request: Request, pk: str | None = None) -> Response:
        milestone = self.get_object()
        wanted = self.action_input()["predecessors"]
        services.milestone_set_predecessors(
            by=request.user, milestone=milestone, predecessors=wanted
        )
        return self.answer(milestone)


# Tasks -----------------------------------------------------------------------------------------


class TaskViewSet(DeliveryViewSet):
    """Tasks of the projects the caller sees; `done` is the assignee's (or a runner's) click."""

    detail_serializer = TaskSerializer
    filterset_class = filters.TaskFilter

    def get_serializer_class(self) -> type[BaseSerializer]:
        return DoneSerializer if self.action == "done" else TaskSerializer

    def get_queryset(self) -> QuerySet[Task]:
        tasks = selectors.task_list(user=self.request.user)
        if self.action == "list":
            return tasks
        return tasks.select_related("project__client__team")

    def may_change(self, user: AnyUser, obj: Task) -> bool:
        if self.action == "done":
            return policies.can_mark_task_done(user, obj)
        return policies.can_run_projects(user, obj.project.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        task = services.task_save(by=self.request.user, task=Task(**serializer.validated_data))
        serializer.instance = self.reread(task)

    def perform_update(self, serializer: BaseSerializer) -> None:
        task = services.task_save(
            by=self.request.user, task=apply_fields(serializer.instance, serializer.validated_data)
        )
        serializer.instance = self.reread(task)

    def perform_destroy(self, instance: Task) -> None:
        services.task_delete(by=self.request.user, task=instance)

    @extend_schema(
        request=DoneSerializer,
        responses={200: TaskSerializer},
        description="Mark the task done now (again changes nothing), or not done with `false`.",
    )
    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        done = self.action_input()["done"]
        return self.answer(services.task_done(by=request.user, task=task, done=done))


# Training --------------------------------------------------------------------------------------

ATTENDEE = OpenApiParameter(
    "contact", int, required=True, description=str(_("The contact to take off the session."))
)


class TrainingSessionViewSet(DeliveryViewSet):
    """Training sessions of the clients the caller sees, with attendance figures; one session
    shows who was on it. `attendance` puts a contact on it (or updates their row); DELETE on it
    takes them off."""

    filterset_class = filters.TrainingSessionFilter
    detail_serializer = TrainingSessionDetailSerializer

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "list":
            return TrainingSessionSerializer
        if self.action == "attendance":
            return AttendanceSerializer
        if self.action == "remove_attendance":
            return AttendanceRemoveSerializer
        return TrainingSessionDetailSerializer

    def get_queryset(self) -> QuerySet[TrainingSession]:
        sessions = selectors.training_list(user=self.request.user)
        if self.action == "list":
            return sessions
        return sessions.select_related("client__team").prefetch_related("attendance")

    def may_change(self, user: AnyUser, obj: TrainingSession) -> bool:
        return policies.can_run_projects(user, obj.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.setdefault("trainer", self.request.user)
        session = services.training_session_save(
            by=self.request.user, session=TrainingSession(**data)
        )
        serializer.instance = self.reread(session)

    def perform_update(self, serializer: BaseSerializer) -> None:
        session = services.training_session_save(
            by=self.request.user,
            session=apply_fields(serializer.instance, serializer.validated_data),
        )
        serializer.instance = self.reread(session)

    def perform_destroy(self, instance: TrainingSession) -> None:
        services.training_session_delete(by=self.request.user, session=instance)

    @extend_schema(
        request=AttendanceSerializer,
        responses={200: TrainingSessionDetailSerializer},
        description=(
            "Put a contact of the session's client on it, or update whether they attended and "
            "their feedback (1-5)."
        ),
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        services.attendance_record(by=request.user, session=session, **self.action_input())
        return self.answer(session)

    @extend_schema(
        request=None,
        parameters=[ATTENDEE],
        responses={200: TrainingSessionDetailSerializer},
        description="Take a contact off the session (their feedback goes with them).",
    )
    @attendance.mapping.delete
    def remove_attendance(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        query = self.get_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        row = session.attendance.filter(contact=query.validated_data["contact"]).first()
        if row is not None:
            row.session = session  # the policy reads its client
            services.attendance_remove(by=request.user, attendance=row)
        return self.answer(session)


# Marketing initiatives -------------------------------------------------------------------------


class MarketingInitiativeViewSet(DeliveryViewSet):
    """Co-marketing with the clients the caller sees: budget, our contribution, channel,
    target and result (`achievement` = result / target in percent)."""

    serializer_class = detail_serializer = MarketingInitiativeSerializer
    filterset_class = filters.MarketingInitiativeFilter

    def get_queryset(self) -> QuerySet[MarketingInitiative]:
        initiatives = selectors.initiative_list(user=self.request.user)
        if self.action == "list":
            return initiatives
        return initiatives.select_related("client__team")

    def may_change(self, user: AnyUser, obj: MarketingInitiative) -> bool:
        return policies.can_run_projects(user, obj.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        initiative = services.initiative_save(
            by=self.request.user, initiative=MarketingInitiative(**serializer.validated_data)
        )
        serializer.instance = self.reread(initiative)

    def perform_update(self, serializer: BaseSerializer) -> None:
        initiative = services.initiative_save(
            by=self.request.user,
            initiative=apply_fields(serializer.instance, serializer.validated_data),
        )
        serializer.instance = self.reread(initiative)

    def perform_destroy(self, instance: MarketingInitiative) -> None:
        services.initiative_delete(by=self.request.user, initiative=instance)


# Service cases ---------------------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(responses={200: ServiceCaseSerializer, 409: stale("case")}),
    partial_update=extend_schema(responses={200: ServiceCaseSerializer, 409: stale("case")}),
)
class ServiceCaseViewSet(DeliveryViewSet):
    """Service cases of the clients the caller sees, earliest SLA first. The SLA due time comes
    from the priority and the client's contract. Edits carry the `version` read (409 if stale);
    `assign`, `resolve`, `close` and `reopen` move the case along."""

    detail_serializer = ServiceCaseSerializer
    filterset_class = filters.ServiceCaseFilter
    http_method_names = NO_DELETE

    def get_serializer_class(self) -> type[BaseSerializer]:
        return {
            "assign": AssignSerializer,
            "set_status": CaseStatusSerializer,
            "resolve": ResolveSerializer,
            "close": CloseSerializer,
        }.get(self.action or "", ServiceCaseSerializer)

    def get_queryset(self) -> QuerySet[ServiceCase]:
        cases = selectors.case_list(user=self.request.user)
        if self.action == "list":
            return cases
        return cases.select_related("client__team")

    def may_change(self, user: AnyUser, obj: ServiceCase) -> bool:
        return policies.can_run_service_cases(user, obj.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        case = services.case_open(
            by=self.request.user, case=ServiceCase(**serializer.validated_data)
        )
        serializer.instance = self.reread(case)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version")
        case = services.case_update(
            by=self.request.user, case=apply_fields(serializer.instance, data), version=version
        )
        serializer.instance = self.reread(case)

    @extend_schema(
        request=AssignSerializer,
        responses={200: ServiceCaseSerializer},
        description="Give the case to someone on the account (a new case becomes open).",
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        assignee = self.action_input()["assignee"]
        return self.answer(services.case_assign(by=request.user, case=case, assignee=assignee))

    @extend_schema(
        request=CaseStatusSerializer,
        responses={200: ServiceCaseSerializer},
        description=(
            "Move an open case between new, open and waiting on the client; resolve, close and "
            "reopen have their own actions (400 `transition_not_allowed` otherwise)."
        ),
    )
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        to = self.action_input()["status"]
        return self.answer(services.case_set_status(by=request.user, case=case, to=to))

    @extend_schema(
        request=ResolveSerializer,
        responses={200: ServiceCaseSerializer},
        description="Record how the case was solved; the SLA clock stops now.",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        resolution = self.action_input()["resolution"]
        return self.answer(services.case_resolve(by=request.user, case=case, resolution=resolution))

    @extend_schema(
        request=CloseSerializer,
        responses={200: ServiceCaseSerializer},
        description="Close the case; one that was not resolved needs a `resolution` now.",
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        resolution = self.action_input()["resolution"]
        return self.answer(services.case_close(by=request.user, case=case, resolution=resolution))

    @extend_schema(
        request=None,
        responses={200: ServiceCaseSerializer},
        description=(
            "Reopen a resolved or closed case; the SLA clock restarts now with its priority. "
            "Refused with 400 and code `transition_not_allowed` on an open case."
        ),
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        return self.answer(services.case_reopen(by=request.user, case=case))


# Service levels --------------------------------------------------------------------------------


class ServiceLevelViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """A contract's SLA hours per priority, overriding the product defaults for its cases.
    Managed by whoever manages the contract (its NAM, team lead, admin)."""

    serializer_class = ServiceLevelSerializer
    filterset_class = filters.ServiceLevelFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["hours", "priority", "created_at"]
    ordering = ["contract", "hours", "id"]

    def get_queryset(self) -> QuerySet[ServiceLevel]:
        return ServiceLevel.objects.visible_to(self.request.user).select_related(
            "contract__client__team"
        )

    def may_change(self, user: AnyUser, obj: ServiceLevel) -> bool:
        return can_manage_contracts(user, obj.contract.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        level = services.service_level_save(
            by=self.request.user, level=ServiceLevel(**serializer.validated_data)
        )
        serializer.instance = self.reread(level)

    def perform_update(self, serializer: BaseSerializer) -> None:
        level = services.service_level_save(
            by=self.request.user,
            level=apply_fields(serializer.instance, serializer.validated_data),
        )
        serializer.instance = self.reread(level)

    def perform_destroy(self, instance: ServiceLevel) -> None:
        services.service_level_delete(by=self.request.user, level=instance)


router.register("projects", ProjectViewSet, basename="api-project")
router.register("milestones", MilestoneViewSet, basename="api-milestone")
router.register("tasks", TaskViewSet, basename="api-task")
router.register("training-sessions", TrainingSessionViewSet, basename="api-training-session")
router.register("initiatives", MarketingInitiativeViewSet, basename="api-initiative")
router.register("service-cases", ServiceCaseViewSet, basename="api-service-case")
router.register("service-levels", ServiceLevelViewSet, basename="api-service-level")
