"""API shapes of delivery work: validate and shape only, services decide.

Related ids (client, order, project, milestone, contact, site, contract) only accept rows the
caller sees (`VisibleRelatedFieldsMixin`); people (manager, owner, assignee, trainer) are active
staff, and services check that they work on the account. Health, counts, completion, SLA due
times and statuses are answers: selectors and services compute them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts_crm.api import (
    AnnotationMixin,
    CharAnnotation,
    IntegerAnnotation,
    ModelSerializer,
    VisibleRelatedFieldsMixin,
)
from clients.models import Contact
from clients.serializers import StaffField
from orders.serializers import VersionedSerializer, version_field
from projects.models import (
    Health,
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    ServiceLevel,
    Task,
    TrainingAttendance,
    TrainingSession,
)


class DateAnnotation(AnnotationMixin, serializers.DateField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)


class BooleanAnnotation(AnnotationMixin, serializers.BooleanField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)


class DecimalAnnotation(AnnotationMixin, serializers.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)


class OwnRowSerializer(ModelSerializer):
    """A row that belongs to one client (or project) for good: that link is set on create only."""

    fixed_on_update: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            for name in self.fixed_on_update:
                fields[name].read_only = True
        return fields


class ProjectSerializer(OwnRowSerializer, VersionedSerializer):
    fixed_on_update = ("client",)
    manager = StaffField(required=False, help_text=_("You, when left out."))
    version = version_field("project")
    health = CharAnnotation(
        help_text=_("on_track, at_risk or late (null when the project is closed): %(values)s.")
        % {"values": ", ".join(Health.values)}
    )
    milestone_count = IntegerAnnotation()
    milestones_done = IntegerAnnotation()
    next_due = DateAnnotation(help_text=_("The earliest due date of an open milestone."))

    class Meta:
        model = Project
        fields = [
            "id",
            "client",
            "order",
            "name",
            "kind",
            "status",
            "manager",
            "starts_on",
            "due_on",
            "budget",
            "currency",
            "description",
            "health",
            "milestone_count",
            "milestones_done",
            "next_due",
            "version",
            "created_at",
            "updated_at",
        ]
        # The date and budget rules are answered by the service (full_clean) with a message.
        validators: list[Any] = []


class MilestoneSerializer(OwnRowSerializer):
    fixed_on_update = ("project",)
    owner = StaffField(required=False, help_text=_("You, when left out."))
    predecessors = serializers.PrimaryKeyRelatedField(
        many=True,
        read_only=True,
        help_text=_("Milestones this one waits for; change them with `predecessors`."),
    )
    is_late = BooleanAnnotation(help_text=_("Open and past its due date."))

    class Meta:
        model = Milestone
        fields = [
            "id",
            "project",
            "name",
            "starts_on",
            "due_on",
            "completed_on",
            "owner",
            "billable_amount",
            "position",
            "predecessors",
            "is_late",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_on"]
        validators: list[Any] = []


class CompleteSerializer(serializers.Serializer):
    on = serializers.DateField(
        required=False, help_text=_("When it was completed; today when left out.")
    )


class PredecessorsSerializer(VisibleRelatedFieldsMixin, serializers.Serializer):
    predecessors = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Milestone.objects.all(),
        help_text=_("The complete list: milestones of the same project this one waits for."),
    )


class TaskSerializer(OwnRowSerializer):
    fixed_on_update = ("project",)
    assignee = StaffField(required=False, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "project",
            "milestone",
            "title",
            "assignee",
            "due_on",
            "done_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["done_at"]


class DoneSerializer(serializers.Serializer):
    done = serializers.BooleanField(
        default=True, help_text=_("false marks a done task as not done again.")
    )


class AttendanceSerializer(VisibleRelatedFieldsMixin, serializers.ModelSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())

    class Meta:
        model = TrainingAttendance
        fields = ["id", "contact", "attended", "feedback_score"]
        read_only_fields = ["id"]
        # One row per session and contact: recording a contact again updates their row.
        validators: list[Any] = []


class AttendanceRemoveSerializer(VisibleRelatedFieldsMixin, serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())


class TrainingSessionSerializer(OwnRowSerializer):
    fixed_on_update = ("client",)
    trainer = StaffField(required=False, help_text=_("You, when left out."))
    attendee_count = IntegerAnnotation()
    attended_count = IntegerAnnotation()
    average_feedback = DecimalAnnotation(max_digits=4, decimal_places=2)

    class Meta:
        model = TrainingSession
        fields = [
            "id",
            "client",
            "project",
            "topic",
            "starts_at",
            "duration_minutes",
            "site",
            "remote",
            "trainer",
            "notes",
            "attendee_count",
            "attended_count",
            "average_feedback",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []


class TrainingSessionDetailSerializer(TrainingSessionSerializer):
    attendance = AttendanceSerializer(many=True, read_only=True)

    class Meta(TrainingSessionSerializer.Meta):
        fields = [*TrainingSessionSerializer.Meta.fields, "attendance"]


class MarketingInitiativeSerializer(OwnRowSerializer):
    fixed_on_update = ("client",)
    achievement = DecimalAnnotation(
        max_digits=20, decimal_places=2, help_text=_("Result / target, in percent.")
    )

    class Meta:
        model = MarketingInitiative
        fields = [
            "id",
            "client",
            "project",
            "name",
            "channel",
            "status",
            "starts_on",
            "ends_on",
            "budget",
            "our_contribution",
            "currency",
            "target_metric",
            "target_value",
            "result_value",
            "achievement",
            "notes",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []


class ServiceCaseSerializer(OwnRowSerializer, VersionedSerializer):
    fixed_on_update = ("client",)
    assignee = StaffField(required=False, allow_null=True)
    version = version_field("case")
    is_past_sla = BooleanAnnotation(help_text=_("Still open after its SLA due time."))

    class Meta:
        model = ServiceCase
        fields = [
            "id",
            "client",
            "contact",
            "order",
            "project",
            "subject",
            "description",
            "priority",
            "status",
            "opened_at",
            "sla_due",
            "is_past_sla",
            "assignee",
            "resolution",
            "resolved_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "opened_at", "sla_due", "resolution", "resolved_at"]
        validators: list[Any] = []


@extend_schema_field(OpenApiTypes.INT)
class PersonIdField(StaffField):
    """A staff member's user id, outside a model serializer (which would say so itself)."""


class AssignSerializer(serializers.Serializer):
    assignee = PersonIdField(
        allow_null=True, help_text=_("Someone on the account; null unassigns.")
    )


class CaseStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(value, label) for value, label in ServiceCase.Status.choices
                 if value in ServiceCase.OPEN_STATUSES],
        help_text=_("New, open or waiting on the client."),
    )  # fmt: skip


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(help_text=_("How the case was solved."))


class CloseSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Needed unless the case was resolved (its resolution is kept)."),
    )


class ServiceLevelSerializer(OwnRowSerializer):
    fixed_on_update = ("contract",)

    class Meta:
        model = ServiceLevel
        fields = ["id", "contract", "priority", "hours", "created_at", "updated_at"]
        extra_kwargs = {"hours": {"min_value": 1, "max_value": 2**31 - 1}}
        validators: list[Any] = []
