"""HTML forms for delivery work: parse and validate input, nothing more.

Each form is bound to an instance that already carries its client (or project), so the model's
own validation runs with the right context; choices that point to other rows (order, people,
contacts, sites, predecessors) are limited to the client's. Rights and cross-row rules are the
services' job (projects/services.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clients.forms import DateInput, DateTimeInput
from clients.models import AccountTeamMember, Client, Contact, Site
from orders.forms import VersionedForm
from orders.models import Order
from projects.models import (
    MarketingInitiative,
    Milestone,
    Project,
    ServiceCase,
    Task,
    TrainingSession,
)


def account_people(client: Client) -> QuerySet[User]:
    """Who a row of this client can be given to: its active account team and its team lead."""
    members = AccountTeamMember.objects.active().filter(client=client).values("user_id")
    return (
        User.objects.filter(Q(pk__in=members) | Q(pk=client.team.lead_id))
        .order_by("last_name", "first_name", "username")
        .distinct()
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


def _people(form: forms.BaseForm, client: Client, *names: str) -> None:
    for name in names:
        field = form.fields[name]
        form.fields[name] = PersonChoiceField(
            queryset=account_people(client), required=field.required, label=field.label
        )


class ProjectForm(VersionedForm):
    class Meta:
        model = Project
        fields = ["name", "kind", "status", "order", "manager", "starts_on", "due_on", "budget",
                  "currency", "description"]  # fmt: skip
        widgets = {
            "starts_on": DateInput,
            "due_on": DateInput,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client = self.instance.client
        self.fields["order"].queryset = Order.objects.filter(client=client).order_by("-order_date")
        _people(self, client, "manager")


class MilestoneForm(forms.ModelForm):
    """A milestone's plan and its predecessors (set through milestone_set_predecessors)."""

    predecessors = forms.ModelMultipleChoiceField(
        queryset=Milestone.objects.none(),
        required=False,
        label=_("Predecessors"),
        help_text=_("Milestones that must be completed before this one."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Milestone
        fields = ["name", "starts_on", "due_on", "owner", "billable_amount", "position"]
        widgets = {"starts_on": DateInput, "due_on": DateInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project = self.instance.project
        _people(self, project.client, "owner")
        others = Milestone.objects.filter(project=project).exclude(pk=self.instance.pk)
        self.fields["predecessors"].queryset = others.order_by("position", "due_on", "pk")
        if self.instance.pk:
            self.fields["predecessors"].initial = list(
                self.instance.predecessors.values_list("pk", flat=True)
            )


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "milestone", "assignee", "due_on"]
        widgets = {"due_on": DateInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project = self.instance.project
        self.fields["milestone"].queryset = Milestone.objects.filter(project=project)
        _people(self, project.client, "assignee")


class TrainingSessionForm(forms.ModelForm):
    class Meta:
        model = TrainingSession
        fields = ["topic", "project", "starts_at", "duration_minutes", "site", "remote",
                  "trainer", "notes"]  # fmt: skip
        widgets = {"starts_at": DateTimeInput, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client = self.instance.client
        self.fields["project"].queryset = Project.objects.filter(client=client)
        self.fields["site"].queryset = Site.objects.filter(client=client)
        _people(self, client, "trainer")


class AttendanceForm(forms.Form):
    """Put a contact on a session, or record whether they came and their feedback."""

    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label=_("Contact"))
    attended = forms.BooleanField(required=False, initial=True, label=_("Attended"))
    feedback_score = forms.TypedChoiceField(
        choices=[("", "—"), *((n, str(n)) for n in range(1, 6))],
        coerce=int,
        empty_value=None,
        required=False,
        label=_("Feedback (1-5)"),
    )

    def __init__(self, *args: Any, session: TrainingSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(client=session.client_id)


class InitiativeForm(forms.ModelForm):
    class Meta:
        model = MarketingInitiative
        fields = ["name", "project", "channel", "status", "starts_on", "ends_on", "budget",
                  "our_contribution", "currency", "target_metric", "target_value",
                  "result_value", "notes"]  # fmt: skip
        widgets = {
            "starts_on": DateInput,
            "ends_on": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(
            client=self.instance.client, kind=Project.Kind.MARKETING
        )


class ServiceCaseForm(VersionedForm):
    """Open or edit a case; status, SLA and resolution move through the case actions."""

    class Meta:
        model = ServiceCase
        fields = ["subject", "priority", "contact", "order", "project", "assignee", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client = self.instance.client
        self.fields["contact"].queryset = Contact.objects.filter(client=client)
        self.fields["order"].queryset = Order.objects.filter(client=client).order_by("-order_date")
        self.fields["project"].queryset = Project.objects.filter(client=client)
        _people(self, client, "assignee")


class CaseAssignForm(forms.Form):
    assignee = PersonChoiceField(
        queryset=User.objects.none(), required=False, label=_("Assignee"), empty_label=_("nobody")
    )

    def __init__(self, *args: Any, case: ServiceCase, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = account_people(case.client)


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Resolution")
    )
