"""Teams, clients (group hierarchy) and account teams: the base every other app hangs off.

This is the foundation cut: the fields the access rules and the demo book need. The clients issue
extends it with sites, contacts, activities and account plans.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import AccessQuerySet
from accounts_crm.audit import audited
from accounts_crm.models import TimeStampedModel


@audited()
class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_teams",
        verbose_name=_("team lead"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class ClientQuerySet(AccessQuerySet):
    client_path = "pk"


@audited()
class Client(TimeStampedModel):
    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    class Scope(models.TextChoices):
        NATIONAL = "national", _("National")
        INTERNATIONAL = "international", _("International")

    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsidiaries",
        verbose_name=_("parent company"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="clients", verbose_name=_("owning team")
    )
    scope = models.CharField(
        _("scope"), max_length=20, choices=Scope.choices, default=Scope.NATIONAL
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["prospect", "active", "inactive"]),
                name="client_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["national", "international"]), name="client_scope_valid"
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="client_not_own_parent"
            ),
            # Two active clients with one VAT number are one company entered twice.
            models.UniqueConstraint(
                fields=["vat_number"],
                condition=Q(status="active") & ~Q(vat_number=""),
                name="client_unique_active_vat_number",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AccountTeamMemberQuerySet(AccessQuerySet):
    def active(self, on: datetime.date | None = None) -> AccountTeamMemberQuerySet:
        on = on or timezone.localdate()
        return self.filter(Q(starts_on__lte=on), Q(ends_on__isnull=True) | Q(ends_on__gte=on))


@audited()
class AccountTeamMember(TimeStampedModel):
    class Role(models.TextChoices):
        NAM = "nam", _("National account manager")
        PROJECT_MANAGER = "project_manager", _("Project manager")
        CUSTOMER_SERVICE = "customer_service", _("Customer service")
        SALES = "sales", _("Sales")
        EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")

    class WorkBase(models.TextChoices):
        CLIENT_SITE = "client_site", _("Client site")
        HOME_OFFICE = "home_office", _("Home office")
        MAIN_OFFICE = "main_office", _("Main office")
        SATELLITE_OFFICE = "satellite_office", _("Satellite office")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="account_team", verbose_name=_("client")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="account_memberships",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    work_base = models.CharField(
        _("work base"), max_length=30, choices=WorkBase.choices, default=WorkBase.MAIN_OFFICE
    )
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    ends_on = models.DateField(_("to"), null=True, blank=True)

    objects = AccountTeamMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("account team member")
        verbose_name_plural = _("account team members")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    role__in=[
                        "nam",
                        "project_manager",
                        "customer_service",
                        "sales",
                        "executive_sponsor",
                    ]
                ),
                name="account_team_member_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    work_base__in=["client_site", "home_office", "main_office", "satellite_office"]
                ),
                name="account_team_member_work_base_valid",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="account_team_member_dates_ordered",
            ),
            # At most one open-ended NAM per client; handing over ends the old NAM's membership.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(role="nam", ends_on__isnull=True),
                name="one_active_nam_per_client",
            ),
        ]
        indexes = [
            # Serves the access rule: "clients this user is on the account team of".
            models.Index(fields=["user", "client"], name="atm_user_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) @ {self.client}"
