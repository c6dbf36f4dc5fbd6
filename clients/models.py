"""Teams, clients (group hierarchy), sites, contacts, account teams, activities, account plans.

Everything here hangs off a client and is seen through `visible_to(user)` (accounts_crm/access.py).
Writes go through clients/services.py; who may write what is in clients/policies.py.
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
from accounts_crm.money import CurrencyField, MoneyField
from clients.validators import (
    SDI_CODE_PEC,
    validate_sdi_code,
    validate_tax_code,
    validate_vat_number,
)


class Region(models.TextChoices):
    """Italian regions, for sites and billing addresses in Italy (blank abroad)."""

    ABRUZZO = "abruzzo", "Abruzzo"
    BASILICATA = "basilicata", "Basilicata"
    CALABRIA = "calabria", "Calabria"
    CAMPANIA = "campania", "Campania"
    EMILIA_ROMAGNA = "emilia_romagna", "Emilia-Romagna"
    FRIULI_VENEZIA_GIULIA = "friuli_venezia_giulia", "Friuli-Venezia Giulia"
    LAZIO = "lazio", "Lazio"
    LIGURIA = "liguria", "Liguria"
    LOMBARDIA = "lombardia", "Lombardia"
    MARCHE = "marche", "Marche"
    MOLISE = "molise", "Molise"
    PIEMONTE = "piemonte", "Piemonte"
    PUGLIA = "puglia", "Puglia"
    SARDEGNA = "sardegna", "Sardegna"
    SICILIA = "sicilia", "Sicilia"
    TOSCANA = "toscana", "Toscana"
    TRENTINO_ALTO_ADIGE = "trentino_alto_adige", "Trentino-Alto Adige"
    UMBRIA = "umbria", "Umbria"
    VALLE_D_AOSTA = "valle_d_aosta", "Valle d'Aosta"
    VENETO = "veneto", "Veneto"


class Address(models.Model):
    """Postal address fields shared by client billing addresses and sites."""

    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province"), max_length=2, blank=True, help_text=_("e.g. MI"))
    region = models.CharField(_("region"), max_length=30, choices=Region.choices, blank=True)
    country = models.CharField(_("country"), max_length=2, default="IT", help_text=_("ISO code"))

    class Meta:
        abstract = True


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
class Client(Address, TimeStampedModel):
    """A company we sell to; the address fields are its billing address."""

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    class Scope(models.TextChoices):
        NATIONAL = "national", _("National")
        INTERNATIONAL = "international", _("International")

    class Tier(models.TextChoices):
        STRATEGIC = "strategic", _("Strategic")
        KEY = "key", _("Key")
        DEVELOPING = "developing", _("Developing")

    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200)
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, validators=[validate_vat_number]
    )
    tax_code = models.CharField(
        _("tax code"), max_length=16, blank=True, validators=[validate_tax_code]
    )
    sdi_code = models.CharField(
        _("SDI recipient code"), max_length=7, blank=True, validators=[validate_sdi_code]
    )
    pec = models.EmailField(_("PEC address"), blank=True)
    # Scissione dei pagamenti (art. 17-ter DPR 633/72): public bodies and the companies on the
    # yearly MEF lists pay the VAT to the State; their e-invoices say EsigibilitaIVA "S".
    split_payment = models.BooleanField(
        _("split payment"),
        default=False,
        help_text=_("The client pays the VAT directly to the State (scissione dei pagamenti)."),
    )
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
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    # Optimistic locking: client_update saves only if nobody else saved since this was read.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

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
                condition=Q(tier__in=["", "strategic", "key", "developing"]),
                name="client_tier_valid",
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="client_not_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(sdi_code="") | Q(sdi_code__regex=r"^[A-Z0-9]{7}$"),
                name="client_sdi_code_format",
            ),
            # Two active clients with one VAT number are one company entered twice.
            models.UniqueConstraint(
                fields=["vat_number"],
                condition=Q(status="active") & ~Q(vat_number=""),
                name="client_unique_active_vat_number",
                violation_error_message=_("An active client with this VAT number exists already."),
                violation_error_code="unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.vat_number = self.vat_number.replace(" ", "").upper().removeprefix("IT")
        self.tax_code = self.tax_code.replace(" ", "").upper()
        self.sdi_code = self.sdi_code.strip().upper()
        self.province = self.province.upper()
        self.country = self.country.upper()
        errors = {}
        if self.country == "IT" and self.status == self.Status.ACTIVE:
            if not self.vat_number and not self.tax_code:
                errors["vat_number"] = _(
                    "An active Italian client needs a VAT number or a tax code."
                )
            if not self.sdi_code and not self.pec:
                errors["sdi_code"] = _(
                    "Give the SDI recipient code or a PEC address for e-invoices."
                )
        if self.sdi_code == SDI_CODE_PEC and not self.pec:
            errors["pec"] = _("With the recipient code 0000000 the invoices go to the PEC address.")
        if errors:
            raise ValidationError(errors)

    @property
    def billing_address(self) -> str:
        parts = [self.street, " ".join(p for p in (self.postal_code, self.city) if p)]
        if self.province:
            parts[-1] += f" ({self.province})"
        if self.country != "IT":
            parts.append(self.country)
        return ", ".join(p for p in parts if p)


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
                violation_error_message=_("This account already has a national account manager."),
            ),
        ]
        indexes = [
            # Serves the access rule: "clients this user is on the account team of".
            models.Index(fields=["user", "client"], name="atm_user_client_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) @ {self.client}"


class ClientChildQuerySet(AccessQuerySet):
    """Rows that hang off one client: visible exactly when their client is."""

    client_path = "client"


@audited()
class Site(Address, TimeStampedModel):
    class Kind(models.TextChoices):
        HEADQUARTERS = "headquarters", _("Headquarters")
        BRANCH = "branch", _("Branch")
        PLANT = "plant", _("Plant")
        WAREHOUSE = "warehouse", _("Warehouse")
        STORE = "store", _("Store")
        OFFICE = "office", _("Office")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="sites", verbose_name=_("client")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OFFICE)

    objects = ClientChildQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["headquarters", "branch", "plant", "warehouse", "store", "office"]
                ),
                name="site_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(kind="headquarters"),
                name="one_headquarters_per_client",
                violation_error_message=_("This client already has a headquarters."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})" if self.city else self.name


@audited()
class Contact(TimeStampedModel):
    class BuyingRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
        TECHNICAL_BUYER = "technical_buyer", _("Technical buyer")
        USER = "user", _("User")
        CHAMPION = "champion", _("Champion")
        INFLUENCER = "influencer", _("Influencer")
        BLOCKER = "blocker", _("Blocker")

    class Strength(models.IntegerChoices):
        NONE = 1, _("No relationship")
        WEAK = 2, _("Weak")
        NEUTRAL = 3, _("Neutral")
        GOOD = 4, _("Good")
        STRONG = 5, _("Strong")

    class Influence(models.IntegerChoices):
        MINIMAL = 1, _("Minimal")
        LOW = 2, _("Low")
        MEDIUM = 3, _("Medium")
        HIGH = 4, _("High")
        DECISIVE = 5, _("Decisive")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("client")
    )
    site = models.ForeignKey(
        Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts",
        verbose_name=_("site"),
    )  # fmt: skip
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    buying_role = models.CharField(
        _("buying role"), max_length=20, choices=BuyingRole.choices, default=BuyingRole.USER
    )
    influence = models.PositiveSmallIntegerField(
        _("influence"), choices=Influence.choices, default=Influence.MEDIUM
    )
    relationship_strength = models.PositiveSmallIntegerField(
        _("relationship strength"), choices=Strength.choices, default=Strength.NEUTRAL
    )
    reports_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports",
        verbose_name=_("reports to"),
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)

    objects = ClientChildQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    buying_role__in=[
                        "decision_maker",
                        "economic_buyer",
                        "technical_buyer",
                        "user",
                        "champion",
                        "influencer",
                        "blocker",
                    ]
                ),
                name="contact_buying_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(influence__gte=1, influence__lte=5), name="contact_influence_range"
            ),
            models.CheckConstraint(
                condition=Q(relationship_strength__gte=1, relationship_strength__lte=5),
                name="contact_strength_range",
            ),
            models.CheckConstraint(
                condition=~Q(reports_to=models.F("pk")), name="contact_not_own_manager"
            ),
            # Imports match contacts on e-mail: one person per address per client.
            models.UniqueConstraint(
                fields=["client", "email"],
                condition=~Q(email=""),
                name="contact_unique_email_per_client",
                violation_error_message=_("A contact of this client already has this e-mail."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return str(self)


@audited()
class Activity(TimeStampedModel):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("E-mail")
        QBR = "qbr", _("Quarterly business review")
        TRAINING = "training", _("Training")
        OTHER = "other", _("Other")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="activities", verbose_name=_("client")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CALL)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities",
        verbose_name=_("author"),
    )  # fmt: skip
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="activities", verbose_name=_("contacts")
    )
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    next_step_done = models.BooleanField(_("next step done"), default=False)

    objects = ClientChildQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["call", "meeting", "visit", "email", "qbr", "training", "other"]
                ),
                name="activity_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(next_step_due__isnull=True) | ~Q(next_step=""),
                name="activity_due_date_needs_next_step",
            ),
        ]
        indexes = [
            # Serves the client page's timeline: a client's activities, newest first.
            models.Index(fields=["client", "-occurred_at"], name="activity_client_time_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


@audited()
class AccountPlan(TimeStampedModel):
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="account_plans", verbose_name=_("client")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    revenue_target = MoneyField(_("revenue target"))
    currency = CurrencyField()
    objectives = models.TextField(_("objectives"), blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    risks = models.TextField(_("risks"), blank=True)

    objects = ClientChildQuerySet.as_manager()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("account plan")
        verbose_name_plural = _("account plans")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "year"],
                name="one_account_plan_per_year",
                violation_error_message=_("This client already has an account plan for this year."),
            ),
            models.CheckConstraint(
                condition=Q(revenue_target__gte=0), name="account_plan_target_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="account_plan_year_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.year}"


# Imports -----------------------------------------------------------------------------------------
# The import of clients, sites and contacts (clients/imports.py) keeps its state here: the
# uploaded file, the per-row preview and the progress, so that the web process and the worker
# that checks and applies it share them, and the person can leave the page and come back.


class ImportJob(TimeStampedModel):
    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Ready to import")
        APPLYING = "applying", _("Importing")
        APPLIED = "applied", _("Imported")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs",
        verbose_name=_("uploaded by"),
    )  # fmt: skip
    file_name = models.CharField(_("file"), max_length=255)
    # The uploaded file itself (at most 5 MB), emptied once it is imported.
    content = models.BinaryField(_("content"), blank=True)
    # Which import's pages and kinds the file belongs to (clients/imports.py GROUPS): the
    # clients' own, or one an app to the right registered (the catalogue's, in orders).
    group = models.CharField(_("import of"), max_length=20, default="clients")
    # What a CSV file (or an XLSX sheet not named after a kind) holds; blank: from its columns.
    kind = models.CharField(_("kind"), max_length=20, blank=True)
    # Messages are rendered by the worker in the language of the person who uploaded the file.
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.CHECKING
    )
    progress_done = models.PositiveIntegerField(_("rows done"), default=0)
    progress_total = models.PositiveIntegerField(_("rows"), default=0)
    # Per row: sheet, line, kind, label, action (create/update/error) and messages.
    rows = models.JSONField(_("rows"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["checking", "checked", "applying", "applied", "failed"]),
                name="import_job_status_valid",
            ),
            # Strings, not the registry: clients may not import the apps that add kinds.
            models.CheckConstraint(
                condition=Q(group__in=["clients", "orders"]), name="import_job_group_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=["", "clients", "sites", "contacts", "products", "contract_prices"]
                ),
                name="import_job_kind_valid",
            ),
        ]
        indexes = [
            # Serves each upload page's "your recent imports" (of its own group).
            models.Index(
                fields=["created_by", "group", "-created_at"], name="import_job_user_group_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.file_name
