"""API shapes of clients and what hangs off them: validate and shape, no business logic.

Related ids (client, parent, site, reports_to, contacts) only accept rows the caller sees
(`VisibleRelatedFieldsMixin`); people (user, lead, members) only accept active staff.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts_crm.access import Role
from accounts_crm.api import CharAnnotation, IntegerAnnotation, ModelSerializer
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team


def staff_users() -> QuerySet[User]:
    """People who can be put on an account team or a team: active, holding a product role."""
    return User.objects.filter(is_active=True, groups__name__in=Role.values).distinct()


class StaffField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[User]:
        return staff_users()


class ClientSerializer(ModelSerializer):
    # Optimistic locking: send back the version you read; a stale one answers 409.
    version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_("Required on update: the version you read. Read-only on create."),
    )
    nam_id = IntegerAnnotation(help_text=_("The active NAM's user id."))
    nam_name = CharAnnotation(help_text=_("The active NAM's name."))
    subsidiary_count = IntegerAnnotation()
    billing_address = serializers.CharField(read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
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
            "street",
            "postal_code",
            "city",
            "province",
            "region",
            "country",
            "billing_address",
            "nam_id",
            "nam_name",
            "subsidiary_count",
            "version",
            "created_at",
            "updated_at",
        ]
        # Uniqueness (active VAT number) is answered by the service with a field message.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs.pop("version", None)
        elif "version" not in attrs:
            raise serializers.ValidationError(
                {"version": [_("Send the version you read, to protect others' changes.")]}
            )
        return attrs


class SiteSerializer(ModelSerializer):
    class Meta:
        model = Site
        fields = [
            "id",
            "client",
            "name",
            "kind",
            "street",
            "postal_code",
            "city",
            "province",
            "region",
            "country",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []


class ContactSerializer(ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "client",
            "site",
            "first_name",
            "last_name",
            "job_title",
            "email",
            "phone",
            "buying_role",
            "influence",
            "relationship_strength",
            "reports_to",
            "is_active",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []


class AccountTeamMemberSerializer(ModelSerializer):
    user = StaffField()

    class Meta:
        model = AccountTeamMember
        fields = [
            "id",
            "client",
            "user",
            "role",
            "work_base",
            "starts_on",
            "ends_on",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []


class ActivitySerializer(ModelSerializer):
    class Meta:
        model = Activity
        fields = [
            "id",
            "client",
            "kind",
            "occurred_at",
            "author",
            "contacts",
            "subject",
            "notes",
            "next_step",
            "next_step_due",
            "next_step_done",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["author"]
        extra_kwargs = {"contacts": {"required": False}}


class AccountPlanSerializer(ModelSerializer):
    class Meta:
        model = AccountPlan
        fields = [
            "id",
            "client",
            "year",
            "revenue_target",
            "currency",
            "objectives",
            "strengths",
            "risks",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []


class TeamSerializer(ModelSerializer):
    lead = StaffField()
    members = StaffField(many=True, required=False)
    member_count = IntegerAnnotation()

    class Meta:
        model = Team
        fields = ["id", "name", "lead", "members", "member_count", "created_at", "updated_at"]
