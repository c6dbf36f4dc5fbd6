"""HTML forms for clients and what hangs off them: parse and validate input, nothing more.

Every form is bound to an instance that already carries its client (or is the client), so the
model's own validation runs with the right context; choices that point to other rows (parent
company, site, manager, contacts) are limited to what the person may see on this client.
Saving, and deciding whether the person may save, is the services' job (clients/services.py).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import AnyUser, Role, is_admin
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team

ADDRESS_FIELDS = ["street", "postal_code", "city", "province", "region", "country"]


class DateInput(forms.DateInput):
    """The browser's date picker; it sends and expects ISO dates whatever the locale."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ClientForm(forms.ModelForm):
    # Optimistic locking: the version the person started from goes back to client_update.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Client
        fields = [
            "name",
            "legal_name",
            "vat_number",
            "tax_code",
            "sdi_code",
            "pec",
            "split_payment",
            "parent",
            "team",
            "scope",
            "industry",
            "tier",
            "status",
            *ADDRESS_FIELDS,
        ]

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client = self.instance
        # A person may file a client only under a team they lead; an edit keeps the current team.
        teams = Team.objects.all() if is_admin(user) else Team.objects.filter(lead=user)
        if client.team_id:
            teams = teams | Team.objects.filter(pk=client.team_id)
        self.fields["team"].queryset = teams.distinct().order_by("name")
        parents = Client.objects.visible_to(user).order_by("name")
        if client.pk:
            parents = parents.exclude(pk=client.pk)
            self.fields["version"].initial = client.version
        self.fields["parent"].queryset = parents
        self.fields["parent"].help_text = _("Leave empty for a group head or a standalone company.")


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "kind", *ADDRESS_FIELDS]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "job_title",
            "email",
            "phone",
            "site",
            "buying_role",
            "influence",
            "relationship_strength",
            "reports_to",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contact = self.instance
        self.fields["site"].queryset = Site.objects.filter(client=contact.client_id)
        managers = Contact.objects.filter(client=contact.client_id)
        if contact.pk:
            managers = managers.exclude(pk=contact.pk)
        self.fields["reports_to"].queryset = managers


class AccountTeamMemberForm(forms.ModelForm):
    class Meta:
        model = AccountTeamMember
        fields = ["user", "role", "work_base", "starts_on"]
        widgets = {"starts_on": DateInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # People who work on accounts; finance and admins are not put on account teams.
        self.fields["user"].queryset = (
            User.objects.filter(
                is_active=True, groups__name__in=[Role.ACCOUNT_STAFF, Role.TEAM_LEAD]
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        self.fields["user"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "lead", "members"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # People who use the product; a deactivated or role-less account leads or joins nothing.
        people = (
            User.objects.filter(is_active=True, groups__name__in=Role.values)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        for name in ("lead", "members"):
            self.fields[name].queryset = people
            self.fields[name].label_from_instance = _person_label


def _person_label(user: User) -> str:
    return user.get_full_name() or user.get_username()


class AccountTeamMemberEndForm(forms.Form):
    on = forms.DateField(
        label=_("Leaves the team on"),
        widget=DateInput,
        required=False,
        help_text=_("Today if empty; the last day on the team is the day before."),
    )


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = [
            "kind",
            "occurred_at",
            "subject",
            "notes",
            "contacts",
            "next_step",
            "next_step_due",
        ]
        widgets = {
            "occurred_at": DateTimeInput,
            "next_step_due": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = Contact.objects.filter(
            client=self.instance.client_id, is_active=True
        )
        if "occurred_at" in self.fields and not self.instance.pk:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("next_step_due") and not cleaned.get("next_step"):
            self.add_error("next_step", _("Say what the next step is, or leave its date empty."))
        return cleaned


class QuickActivityForm(ActivityForm):
    """The two-click form on the client page: the activity happened now."""

    class Meta(ActivityForm.Meta):
        fields = ["kind", "subject", "notes", "contacts", "next_step", "next_step_due"]
        widgets = {
            "next_step_due": DateInput,
            "notes": forms.Textarea(attrs={"rows": 2}),
            "contacts": forms.SelectMultiple(attrs={"size": 3}),
        }


class AccountPlanForm(forms.ModelForm):
    class Meta:
        model = AccountPlan
        fields = ["year", "revenue_target", "currency", "objectives", "strengths", "risks"]
        widgets = {
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "strengths": forms.Textarea(attrs={"rows": 3}),
            "risks": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("year", timezone.localdate().year)
