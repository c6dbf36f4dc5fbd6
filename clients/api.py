"""DRF endpoints for clients and what hangs off them, under /api/v1/.

Same selectors, FilterSets and services as the HTML pages: rows come from `visible_to` (a row the
caller may not see answers 404 and is never listed), writes go through clients/services.py, and
who may change what is clients/policies.py (a visible row the caller may not change answers 403).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.routers import SimpleRouter
from rest_framework.serializers import BaseSerializer

from accounts_crm.access import AnyUser, is_admin
from accounts_crm.api import ErrorSerializer, ServiceViewSetMixin
from clients import filters, policies, selectors, services
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team
from clients.serializers import (
    AccountPlanSerializer,
    AccountTeamMemberSerializer,
    ActivitySerializer,
    ClientSerializer,
    ContactSerializer,
    SiteSerializer,
    TeamSerializer,
)

router = SimpleRouter()

STALE_VERSION = OpenApiResponse(
    ErrorSerializer, description="Someone else saved this client since you read `version`."
)


@extend_schema_view(
    update=extend_schema(responses={200: ClientSerializer, 409: STALE_VERSION}),
    partial_update=extend_schema(responses={200: ClientSerializer, 409: STALE_VERSION}),
)
class ClientViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Clients the caller sees. Updates must carry the `version` they read (409 when stale)."""

    serializer_class = ClientSerializer
    filterset_class = filters.ClientFilter
    # ClientFilter sorts itself (its `ordering` parameter is the HTML list's), so no OrderingFilter.
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Client]:
        return selectors.client_list(user=self.request.user)

    def may_create(self, user: AnyUser) -> bool:
        return policies.can_create_client(user)

    def may_change(self, user: AnyUser, obj: Client) -> bool:
        if self.action == "destroy":
            return policies.can_delete_client(user)
        return policies.can_manage_client(user, obj)

    def perform_create(self, serializer: BaseSerializer) -> None:
        client = services.client_create(
            by=self.request.user, client=Client(**serializer.validated_data)
        )
        serializer.instance = self.reread(client)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version")
        client = services.client_update(
            by=self.request.user,
            client=services.apply_fields(serializer.instance, data),
            version=version,
        )
        serializer.instance = self.reread(client)

    def perform_destroy(self, instance: Client) -> None:
        services.client_delete(by=self.request.user, client=instance)


class ClientChildViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Rows under one client: visible with their client, changed by people working on it."""

    model: ClassVar[type[Model]]
    filter_backends = [DjangoFilterBackend, OrderingFilter]

    def get_queryset(self) -> QuerySet:
        return selectors.child_list(self.model, user=self.request.user)

    def may_change(self, user: AnyUser, obj: Any) -> bool:
        return policies.can_work_on_client(user, obj.client)

    def save_row(self, row: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        many = {name: data.pop(name) for name in list(data) if self._is_many(name)}
        row = self.save_row(self.model(**data), many)
        serializer.instance = self.reread(row)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        many = {name: data.pop(name) for name in list(data) if self._is_many(name)}
        row = self.save_row(services.apply_fields(serializer.instance, data), many)
        serializer.instance = self.reread(row)

    def perform_destroy(self, instance: Any) -> None:
        services.child_delete(by=self.request.user, row=instance)

    def _is_many(self, name: str) -> bool:
        return self.model._meta.get_field(name).many_to_many


class SiteViewSet(ClientChildViewSet):
    model = Site
    serializer_class = SiteSerializer
    filterset_class = filters.SiteFilter
    ordering_fields = ["name", "kind", "city", "region", "country", "created_at"]
    ordering = ["name", "id"]

    def save_row(self, row: Site, many: dict[str, Any]) -> Site:
        return services.site_save(by=self.request.user, site=row)


class ContactViewSet(ClientChildViewSet):
    model = Contact
    serializer_class = ContactSerializer
    filterset_class = filters.ContactFilter
    ordering_fields = [
        "last_name",
        "first_name",
        "job_title",
        "buying_role",
        "influence",
        "relationship_strength",
        "created_at",
    ]
    ordering = ["last_name", "first_name", "id"]

    def save_row(self, row: Contact, many: dict[str, Any]) -> Contact:
        return services.contact_save(by=self.request.user, contact=row)


class AccountTeamMemberViewSet(ClientChildViewSet):
    """Create puts someone on the account team; delete ends their membership (kept as history)."""

    model = AccountTeamMember
    serializer_class = AccountTeamMemberSerializer
    filterset_class = filters.AccountTeamMemberFilter
    ordering_fields = ["role", "work_base", "starts_on", "ends_on"]
    ordering = ["-starts_on", "id"]
    # No update: a new role or work base is a new membership (the NAM hand-over lives in `add`).
    http_method_names = ["get", "post", "delete", "head", "options"]

    def may_change(self, user: AnyUser, obj: AccountTeamMember) -> bool:
        return policies.can_manage_client(user, obj.client)

    def save_row(self, row: AccountTeamMember, many: dict[str, Any]) -> AccountTeamMember:
        return services.account_team_member_add(by=self.request.user, member=row)

    @extend_schema(description="End the membership: from today the person is off the account team.")
    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: AccountTeamMember) -> None:
        services.account_team_member_end(by=self.request.user, member=instance)


class ActivityViewSet(ClientChildViewSet):
    model = Activity
    serializer_class = ActivitySerializer
    filterset_class = filters.ActivityFilter
    ordering_fields = ["occurred_at", "kind", "next_step_due"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self) -> QuerySet[Activity]:
        # The contacts' ids are part of every row; one query for the whole page.
        return super().get_queryset().prefetch_related("contacts")

    def save_row(self, row: Activity, many: dict[str, Any]) -> Activity:
        contacts = many.get("contacts")
        if contacts is None:
            contacts = list(row.contacts.all()) if row.pk else []
        return services.activity_log(by=self.request.user, activity=row, contacts=contacts)


class AccountPlanViewSet(ClientChildViewSet):
    model = AccountPlan
    serializer_class = AccountPlanSerializer
    filterset_class = filters.AccountPlanFilter
    ordering_fields = ["year", "revenue_target"]
    ordering = ["-year", "id"]

    def may_change(self, user: AnyUser, obj: AccountPlan) -> bool:
        return policies.can_manage_client(user, obj.client)

    def save_row(self, row: AccountPlan, many: dict[str, Any]) -> AccountPlan:
        return services.account_plan_save(by=self.request.user, plan=row)


class TeamViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Teams are not secret: everyone signed in reads them; only admins change them."""

    serializer_class = TeamSerializer
    filterset_class = filters.TeamFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["name"]
    ordering = ["name", "id"]
    # No delete: a team owns clients (PROTECT); moving them is a decision, not an API call.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Team]:
        return selectors.team_list(user=self.request.user).prefetch_related("members")

    def may_create(self, user: AnyUser) -> bool:
        return is_admin(user)

    def may_change(self, user: AnyUser, obj: Team) -> bool:
        return is_admin(user)

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        members = data.pop("members", None)
        team = services.team_save(by=self.request.user, team=Team(**data), members=members)
        serializer.instance = self.reread(team)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        members = data.pop("members", None)
        team = services.team_save(
            by=self.request.user,
            team=services.apply_fields(serializer.instance, data),
            members=members,
        )
        serializer.instance = self.reread(team)


router.register("clients", ClientViewSet, basename="api-client")
router.register("sites", SiteViewSet, basename="api-site")
router.register("contacts", ContactViewSet, basename="api-contact")
router.register(
    "account-team-members", AccountTeamMemberViewSet, basename="api-account-team-member"
)
router.register("activities", ActivityViewSet, basename="api-activity")
router.register("account-plans", AccountPlanViewSet, basename="api-account-plan")
router.register("teams", TeamViewSet, basename="api-team")
