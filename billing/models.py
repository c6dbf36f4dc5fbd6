"""Invoices and credit notes, their lines and payments, gapless numbering, invoice check findings.

Who sees a row follows its billed client (accounts_crm/access.py); writes go through
billing/services.py, and only finance (and admin) make them (billing/policies.py).

Rounding rule (the one of accounts_crm/money.py and orders.OrderLine): a line's net is
quantize(quantity x unit price x (100 - discount %) / 100), half up to the cent; its VAT is
quantize(net x VAT rate / 100), half up, per line; the invoice's net, VAT and gross totals are
the sums of its lines (gross = net + VAT). The services keep the stored amounts equal to this
rule; the database does not enforce the arithmetic on purpose, so that an invoice loaded from
elsewhere with wrong arithmetic is kept and flagged by the checks (billing/checks.py) instead.

Sign convention: every amount and quantity is positive. A credit note is a document of kind
`credit_note` whose positive lines and totals are subtracted from what its `credits` invoice
bills (in uninvoiced quantities, balances and cumulative billing alike).

Series: each kind has a default series (SERIES_BY_KIND: "FV" for invoices, "NC" for credit
notes); numbers run 1, 2, 3 ... per (series, year) without gaps (InvoiceCounter).

Issued invoices are immutable: the services refuse, `Invoice.save()` refuses, and two triggers
refuse in the database (changing an issued invoice's document fields, and touching the lines
of an invoice that is not a draft). Bulk loaders (the demo book) that must write issued
invoices directly may wrap their writes in `pgtrigger.ignore(*IMMUTABILITY_TRIGGERS)`.
"""

from __future__ import annotations

import datetime
import functools
import operator
import re
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.it import codicefiscale, iva

from accounts_crm.access import AccessQuerySet
from accounts_crm.audit import audited
from accounts_crm.models import TimeStampedModel
from accounts_crm.money import CurrencyField, MoneyField, quantize
from clients.models import Client
from clients.validators import validate_tax_code
from orders.models import (
    PERCENT,
    QUANTITY,
    Contract,
    Order,
    OrderLine,
    PercentField,
    Product,
    VatNature,
    vat_nature_matches_rate,
)
from projects.models import Milestone

ZERO = Decimal("0.00")

SERIES_BY_KIND = {"invoice": "FV", "credit_note": "NC"}

# Statuses of a document that has a number (issued at some point).
ISSUED_STATUSES = ("issued", "partially_paid", "paid", "cancelled")
# Statuses of an issued document that still expects money.
OPEN_STATUSES = ("issued", "partially_paid")

# Database triggers that keep issued invoices immutable (see the module docstring).
IMMUTABILITY_TRIGGERS = (
    "billing.Invoice:invoice_issued_immutable",
    "billing.Invoice:invoice_issued_not_deleted",
    "billing.InvoiceLine:invoice_line_draft_only",
)

# Document fields frozen once the invoice is issued. Status, check status, amount paid, notes
# and the version move on after issuing (payments, checks, a credit note, a comment).
FROZEN_FIELDS = (
    "kind", "client_id", "order_id", "contract_id", "credits_id", "series", "year", "number",
    "issue_date", "due_date", "currency", "net_total", "vat_total", "gross_total",
    "issued_by_id", "issued_at",
)  # fmt: skip


class InvoiceQuerySet(AccessQuerySet):
    client_path = "client"

    def issued(self) -> InvoiceQuerySet:
        return self.filter(status__in=ISSUED_STATUSES)

    def open(self) -> InvoiceQuerySet:
        """Issued and not fully paid (nor cancelled): what receivables and the checks look at."""
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today: datetime.date | None = None) -> InvoiceQuerySet:
        return self.open().filter(due_date__lt=today or timezone.localdate())


@audited()
@pgtrigger.register(
    pgtrigger.Trigger(
        name="invoice_issued_immutable",
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=pgtrigger.Q(old__status__in=list(ISSUED_STATUSES))
        & functools.reduce(
            operator.or_,
            (pgtrigger.Q(**{f"old__{f}__df": pgtrigger.F(f"new__{f}")}) for f in FROZEN_FIELDS),
        ),
        func="RAISE EXCEPTION 'billing: issued invoice % is immutable', OLD.id;",
    ),
    pgtrigger.Trigger(
        name="invoice_issued_not_deleted",
        when=pgtrigger.Before,
        operation=pgtrigger.Delete,
        condition=pgtrigger.Q(old__status__in=list(ISSUED_STATUSES)),
        func="RAISE EXCEPTION 'billing: issued invoice % cannot be deleted', OLD.id;",
    ),
)
class Invoice(TimeStampedModel):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    class CheckStatus(models.TextChoices):
        UNCHECKED = "unchecked", _("Not checked yet")
        CLEAN = "clean", _("Clean")
        FLAGGED = "flagged", _("Flagged")
        # Only overridden findings are left open... none open, at least one overridden.
        APPROVED = "approved", _("Approved with override")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="invoices",
        verbose_name=_("billed client"),
    )  # fmt: skip
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices",
        verbose_name=_("order"),
    )  # fmt: skip
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices",
        verbose_name=_("contract"),
    )  # fmt: skip
    credits = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes",
        verbose_name=_("credits invoice"),
        help_text=_("The invoice this credit note corrects."),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    check_status = models.CharField(
        _("check status"), max_length=20, choices=CheckStatus.choices,
        default=CheckStatus.UNCHECKED,
    )  # fmt: skip
    series = models.CharField(_("series"), max_length=10, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = CurrencyField()
    net_total = MoneyField(_("net total"), default=ZERO)
    vat_total = MoneyField(_("VAT total"), default=ZERO)
    gross_total = MoneyField(_("gross total"), default=ZERO)
    amount_paid = MoneyField(_("amount paid"), default=ZERO)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("created by"),
    )  # fmt: skip
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("issued by"),
    )  # fmt: skip
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-number", "-pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["invoice", "credit_note"]), name="invoice_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", *ISSUED_STATUSES]), name="invoice_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(check_status__in=["unchecked", "clean", "flagged", "approved"]),
                name="invoice_check_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="credit_note", credits__isnull=False)
                | (~Q(kind="credit_note") & Q(credits__isnull=True)),
                name="invoice_credits_only_on_credit_notes",
                violation_error_message=_(
                    "A credit note must name the invoice it corrects; an invoice cannot."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True)
                | ~Q(status="draft")
                & Q(
                    number__isnull=False,
                    issue_date__isnull=False,
                    year=ExtractYear("issue_date"),
                ),
                name="invoice_number_iff_issued",
                violation_error_message=_(
                    "An issued invoice needs a number, an issue date and the year of that date; "
                    "a draft has no number."
                ),
            ),
            models.UniqueConstraint(
                fields=["series", "year", "number"],
                condition=Q(number__isnull=False),
                name="invoice_number_unique",
                violation_error_message=_("This number is already used in this series and year."),
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True)
                | Q(issue_date__isnull=True)
                | Q(due_date__gte=F("issue_date")),
                name="invoice_due_after_issue",
                violation_error_message=_("The due date cannot be before the issue date."),
            ),
            models.CheckConstraint(
                condition=Q(net_total__gte=0, vat_total__gte=0)
                & Q(gross_total=F("net_total") + F("vat_total")),
                name="invoice_totals_consistent",
                violation_error_message=_(
                    "Totals are positive and the gross total is the net plus the VAT."
                ),
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_paid__lte=F("gross_total")),
                name="invoice_paid_within_total",
                violation_error_message=_("More cannot be paid than the invoice's gross total."),
            ),
        ]
        indexes = [
            # Serves the invoice list filtered by status (and the open book of the nightly check).
            models.Index(fields=["status", "-issue_date"], name="invoice_status_idx"),
            # Serves overdue detection, the payment watch and aging: open invoices by due date.
            models.Index(
                fields=["due_date"],
                condition=Q(status__in=OPEN_STATUSES),
                name="invoice_open_due_idx",
            ),
            # Serves the client page and receivables per client.
            models.Index(fields=["client", "-issue_date"], name="invoice_client_idx"),
            # Serves the invoice list filtered by check status (the review queue's first cut).
            models.Index(fields=["check_status"], name="invoice_check_status_idx"),
            # Serves the invoice list's default order (Meta.ordering): the first page is read off
            # the index instead of sorting every invoice.
            models.Index(fields=["-issue_date", "-number", "-id"], name="invoice_list_order_idx"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        if self.number is None:
            return str(_("Draft %(pk)s")) % {"pk": self.pk or "-"}
        return f"{self.series}-{self.year}/{self.number:05d}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return (
            self.status in OPEN_STATUSES
            and self.due_date is not None
            and self.due_date < (today or timezone.localdate())
        )

    def save(self, *args: object, **kwargs: object) -> None:
        # Model-level guard, before the trigger: an issued invoice's document does not change.
        if self.pk is not None:
            stored = (
                Invoice.objects.filter(pk=self.pk, status__in=ISSUED_STATUSES)
                .values(*FROZEN_FIELDS)
                .first()
            )
            if stored and any(stored[f] != getattr(self, f) for f in FROZEN_FIELDS):
                raise ValidationError(_("An issued invoice cannot be changed."))
        super().save(*args, **kwargs)


class InvoiceChildQuerySet(AccessQuerySet):
    client_path = "invoice__client"


@audited()
@pgtrigger.register(
    pgtrigger.Trigger(
        name="invoice_line_draft_only",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        declare=[("invoice_status", "varchar(20)")],
        func="""
            SELECT status INTO invoice_status FROM billing_invoice
             WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
            IF invoice_status IS NOT NULL AND invoice_status <> 'draft' THEN
                RAISE EXCEPTION 'billing: lines of issued invoices are immutable';
            END IF;
            IF TG_OP = 'UPDATE' AND OLD.invoice_id <> NEW.invoice_id THEN
                SELECT status INTO invoice_status FROM billing_invoice WHERE id = OLD.invoice_id;
                IF invoice_status <> 'draft' THEN
                    RAISE EXCEPTION 'billing: lines of issued invoices are immutable';
                END IF;
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        """,
    )
)
class InvoiceLine(TimeStampedModel):
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice")
    )
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines",
        verbose_name=_("order line"),
    )  # fmt: skip
    milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines",
        verbose_name=_("milestone"),
    )  # fmt: skip
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines",
        verbose_name=_("product"),
    )  # fmt: skip
    description = models.CharField(_("description"), max_length=250)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = MoneyField(_("unit price"))
    discount = PercentField(_("discount %"))
    vat_rate = models.DecimalField(_("VAT rate"), **PERCENT)
    vat_nature = models.CharField(
        _("VAT nature"), max_length=5, choices=VatNature.choices, blank=True
    )
    net_amount = MoneyField(_("net amount"), default=ZERO)
    vat_amount = MoneyField(_("VAT amount"), default=ZERO)
    position = models.PositiveIntegerField(_("position"), default=0)

    objects = InvoiceChildQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="invoice_line_quantity_positive",
                violation_error_message=_(
                    "The quantity must be positive (a credit note credits positive quantities)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="invoice_line_price_not_negative",
                violation_error_message=_("The unit price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=100),
                name="invoice_line_discount_range",
                violation_error_message=_("The discount is between 0 and 100%%."),
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lte=100),
                name="invoice_line_vat_rate_range",
                violation_error_message=_("The VAT rate is between 0 and 100%%."),
            ),
            models.CheckConstraint(
                condition=vat_nature_matches_rate(),
                name="invoice_line_vat_nature_iff_zero_rate",
                violation_error_message=_("Give a VAT nature code exactly when the rate is 0."),
            ),
            models.CheckConstraint(
                condition=Q(order_line__isnull=True) | Q(milestone__isnull=True),
                name="invoice_line_bills_one_thing",
                violation_error_message=_("A line bills an order line or a milestone, not both."),
            ),
            models.CheckConstraint(
                condition=Q(net_amount__gte=0, vat_amount__gte=0),
                name="invoice_line_amounts_not_negative",
                violation_error_message=_("Line amounts cannot be negative."),
            ),
        ]
        indexes = [
            # Serves uninvoiced quantities and the cumulative-quantity check: lines per order line.
            models.Index(
                fields=["order_line"],
                condition=Q(order_line__isnull=False),
                name="invoice_line_order_line_idx",
            ),
            # Serves "milestone already invoiced" and the milestone check.
            models.Index(
                fields=["milestone"],
                condition=Q(milestone__isnull=False),
                name="invoice_line_milestone_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice}: {self.description} x {self.quantity}"

    # The rounding rule of the module docstring (the same as orders.OrderLine's).
    def computed_net_amount(self) -> Decimal:
        gross = self.quantity * self.unit_price * (Decimal(100) - self.discount) / Decimal(100)
        return quantize(gross)

    def computed_vat_amount(self) -> Decimal:
        return quantize(self.computed_net_amount() * self.vat_rate / Decimal(100))

    def compute_amounts(self) -> None:
        self.net_amount = self.computed_net_amount()
        self.vat_amount = self.computed_vat_amount()


PAYMENT_METHODS = ["bank_transfer", "riba", "sdd", "card", "cheque", "cash", "offset"]


@audited()
class Payment(TimeStampedModel):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        RIBA = "riba", _("RiBa")
        SDD = "sdd", _("SEPA direct debit")
        CARD = "card", _("Card")
        CHEQUE = "cheque", _("Cheque")
        CASH = "cash", _("Cash")
        OFFSET = "offset", _("Offset")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice")
    )
    amount = MoneyField(_("amount"))
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, default=Method.BANK_TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("recorded by"),
    )  # fmt: skip

    objects = InvoiceChildQuerySet.as_manager()

    class Meta:
        ordering = ["paid_on", "pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payment_amount_positive",
                violation_error_message=_("A payment amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(method__in=PAYMENT_METHODS),
                name="payment_method_valid",
            ),
        ]
        indexes = [
            # Serves the invoice detail's payments and the "paid by" of aging.
            models.Index(fields=["invoice", "paid_on"], name="payment_invoice_idx"),
            # Serves collected per month (finance dashboard): a year's payments off the index.
            models.Index(fields=["paid_on"], include=["amount"], name="payment_paid_on_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount} {self.paid_on}"


class InvoiceCounter(models.Model):
    """The gapless numbering row of one series and year: its last number given out.

    Incremented with INSERT ... ON CONFLICT DO UPDATE ... RETURNING inside the issuing
    transaction (billing.services.invoice_issue): concurrent issuers wait on this row, and a
    rolled-back transaction gives its number back.
    """

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        ordering = ["series", "year"]
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year"],
                name="invoice_counter_unique",
                violation_error_message=_("This series already has a counter for this year."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_number}"


class CheckFindingQuerySet(AccessQuerySet):
    client_path = "invoice__client"

    def open(self) -> CheckFindingQuerySet:
        return self.filter(status=CheckFinding.Status.OPEN)


@audited(exclude=("last_seen_at",))
class CheckFinding(models.Model):
    """What one rule of the invoice checks found on one invoice (and subject `key` in it).

    The message is rendered in the viewer's language from the rule registry
    (billing/checks.py) with `rule` and `params`; `message` is the fallback text kept when the
    rule is gone. `expected` and `actual` are formatted for people; `expected_value` and
    `actual_value` hold the numbers when the comparison is numeric.
    """

    class Severity(models.TextChoices):
        ERROR = "error", _("Error")
        WARNING = "warning", _("Warning")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        OVERRIDDEN = "overridden", _("Overridden")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="findings", verbose_name=_("invoice")
    )
    line = models.ForeignKey(
        InvoiceLine, on_delete=models.CASCADE, null=True, blank=True, related_name="findings",
        verbose_name=_("line"),
    )  # fmt: skip
    rule = models.CharField(_("rule"), max_length=60)
    key = models.CharField(_("subject"), max_length=100, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    expected = models.CharField(_("expected"), max_length=250, blank=True)
    actual = models.CharField(_("actual"), max_length=250, blank=True)
    expected_value = models.DecimalField(
        _("expected value"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    actual_value = models.DecimalField(
        _("actual value"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    amount_at_stake = MoneyField(_("amount at stake"), default=ZERO)
    compared_to_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("compared with (type)"),
    )  # fmt: skip
    compared_to_id = models.PositiveBigIntegerField(_("compared with (id)"), null=True, blank=True)
    compared_to = GenericForeignKey("compared_to_type", "compared_to_id")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    override_reason = models.TextField(_("override reason"), blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("overridden by"),
    )  # fmt: skip
    overridden_at = models.DateTimeField(_("overridden at"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = CheckFindingQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "rule", "key"]
        verbose_name = _("check finding")
        verbose_name_plural = _("check findings")
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=["error", "warning"]), name="finding_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "resolved", "overridden"]),
                name="finding_status_valid",
            ),
            models.UniqueConstraint(
                fields=["invoice", "rule", "key"],
                name="finding_unique_per_subject",
                violation_error_message=_("This rule already has a finding on this subject."),
            ),
            models.CheckConstraint(
                condition=~Q(status="overridden")
                | (
                    ~Q(override_reason="")
                    & Q(overridden_by__isnull=False, overridden_at__isnull=False)
                ),
                name="finding_override_has_reason",
                violation_error_message=_(
                    "Overriding a finding needs a reason, a person and a time."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="resolved", resolved_at__isnull=False)
                | (~Q(status="resolved") & Q(resolved_at__isnull=True)),
                name="finding_resolved_at_iff_resolved",
                violation_error_message=_("A resolved finding has a resolution time, only it."),
            ),
            models.CheckConstraint(
                condition=Q(compared_to_type__isnull=True, compared_to_id__isnull=True)
                | Q(compared_to_type__isnull=False, compared_to_id__isnull=False),
                name="finding_compared_to_complete",
                violation_error_message=_(
                    "What a finding was compared with needs a type and an id."
                ),
            ),
            models.CheckConstraint(
                condition=Q(amount_at_stake__gte=0),
                name="finding_amount_at_stake_not_negative",
                violation_error_message=_("The amount at stake cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(last_seen_at__gte=F("first_seen_at")),
                name="finding_seen_in_order",
                violation_error_message=_(
                    "A finding cannot be last seen before it was first seen."
                ),
            ),
        ]
        indexes = [
            # Serves the review queue: open findings per rule.
            models.Index(
                fields=["rule", "invoice"],
                condition=Q(status="open"),
                name="finding_open_rule_idx",
            ),
            # Serves the invoice list's open/error counts and "can this invoice be issued".
            models.Index(fields=["invoice", "status", "severity"], name="finding_invoice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.rule} {self.key}".strip()


class FindingCommentQuerySet(AccessQuerySet):
    client_path = "finding__invoice__client"


@audited()
class FindingComment(models.Model):
    """A note on a finding by the NAM, the team lead or finance (kept, shown on the finding)."""

    finding = models.ForeignKey(
        CheckFinding, on_delete=models.CASCADE, related_name="comments",
        verbose_name=_("finding"),
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("author"),
    )  # fmt: skip
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = FindingCommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("finding comment")
        verbose_name_plural = _("finding comments")
        constraints = [
            models.CheckConstraint(
                condition=~Q(text=""),
                name="finding_comment_not_empty",
                violation_error_message=_("A comment needs some text."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.finding}: {self.text[:40]}"


# E-invoicing (FatturaPA, billing/fatturapa.py) ---------------------------------------------


class RegimeFiscale(models.TextChoices):
    """The seller's tax regime, FatturaPA 1.2.2's RegimeFiscale (RF03 no longer exists)."""

    RF01 = "RF01", _("RF01: ordinary")
    RF02 = "RF02", _("RF02: minimum taxpayers")
    RF04 = "RF04", _("RF04: agriculture and fishing")
    RF05 = "RF05", _("RF05: salt and tobacco sales")
    RF06 = "RF06", _("RF06: match trade")
    RF07 = "RF07", _("RF07: publishing")
    RF08 = "RF08", _("RF08: public telephony")
    RF09 = "RF09", _("RF09: public transport documents resale")
    RF10 = "RF10", _("RF10: entertainment and gaming")
    RF11 = "RF11", _("RF11: travel agencies")
    RF12 = "RF12", _("RF12: farm holidays")
    RF13 = "RF13", _("RF13: door-to-door sales")
    RF14 = "RF14", _("RF14: second-hand goods, art, antiques")
    RF15 = "RF15", _("RF15: auction agencies")
    RF16 = "RF16", _("RF16: VAT on cash basis (public administration)")
    RF17 = "RF17", _("RF17: VAT on cash basis")
    RF18 = "RF18", _("RF18: other")
    RF19 = "RF19", _("RF19: flat-rate scheme")


def _validate_italian_vat(value: str) -> None:
    if not iva.is_valid(value):
        raise ValidationError(
            _("%(value)s is not a valid Italian VAT number (Partita IVA)."),
            code="invalid_vat_number",
            params={"value": value},
        )


class SellerProfile(models.Model):
    """Our own fiscal identity as FatturaPA's CedentePrestatore and transmitter: one row,
    edited by support staff in the admin (the `singleton` column allows one row only).

    Identifiers are checked with python-stdnum (Partita IVA, codice fiscale). The transmitter is
    whoever signs and sends the files to the exchange system: ourselves by default (country IT
    and our tax code), or an intermediary.
    """

    singleton = models.BooleanField(default=True, editable=False)
    name = models.CharField(_("company name"), max_length=80)
    vat_number = models.CharField(
        _("VAT number"), max_length=13, validators=[_validate_italian_vat],
        help_text=_("Partita IVA, 11 digits, without the IT prefix."),
    )  # fmt: skip
    tax_code = models.CharField(
        _("tax code"), max_length=16, blank=True, validators=[validate_tax_code]
    )
    regime_fiscale = models.CharField(
        _("tax regime"), max_length=4, choices=RegimeFiscale.choices, default=RegimeFiscale.RF01
    )
    street = models.CharField(_("street"), max_length=60)
    street_number = models.CharField(_("street number"), max_length=8, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5)
    city = models.CharField(_("city"), max_length=60)
    province = models.CharField(_("province"), max_length=2, blank=True, help_text=_("e.g. MI"))
    country = models.CharField(_("country"), max_length=2, default="IT")
    transmitter_country = models.CharField(_("transmitter country"), max_length=2, default="IT")
    transmitter_code = models.CharField(
        _("transmitter code"), max_length=28,
        help_text=_("The transmitter's tax code (IdCodice of IdTrasmittente)."),
    )  # fmt: skip
    rea_office = models.CharField(
        _("REA office"), max_length=2, blank=True, help_text=_("Province of the REA register.")
    )
    rea_number = models.CharField(_("REA number"), max_length=20, blank=True)
    share_capital = models.DecimalField(
        _("share capital"), max_digits=15, decimal_places=2, null=True, blank=True
    )
    email = models.EmailField(_("contact e-mail"), max_length=256, blank=True)
    phone = models.CharField(_("contact phone"), max_length=12, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("seller fiscal profile")
        verbose_name_plural = _("seller fiscal profile")
        constraints = [
            models.UniqueConstraint(
                fields=["singleton"],
                name="seller_profile_single_row",
                violation_error_message=_("There is one seller fiscal profile; edit it."),
            ),
            models.CheckConstraint(
                condition=Q(singleton=True), name="seller_profile_singleton_true"
            ),
            models.CheckConstraint(
                condition=Q(regime_fiscale__in=RegimeFiscale.values),
                name="seller_profile_regime_fiscale_valid",
            ),
            models.CheckConstraint(
                condition=Q(vat_number__regex=r"^[0-9]{11}$"),
                name="seller_profile_vat_number_format",
                violation_error_message=_("The VAT number has 11 digits."),
            ),
            models.CheckConstraint(
                condition=Q(postal_code__regex=r"^[0-9]{5}$"),
                name="seller_profile_postal_code_format",
                violation_error_message=_("The postal code (CAP) has 5 digits."),
            ),
            models.CheckConstraint(
                condition=Q(rea_office="", rea_number="") | (~Q(rea_office="") & ~Q(rea_number="")),
                name="seller_profile_rea_complete",
                violation_error_message=_("Give both the REA office and number, or neither."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (IT{self.vat_number})"

    @property
    def file_prefix(self) -> str:
        """The e-invoice file name's prefix: country and VAT number (IT01234567890)."""
        return f"IT{self.vat_number}"

    def clean(self) -> None:
        self.vat_number = self.vat_number.replace(" ", "").upper().removeprefix("IT")
        self.tax_code = self.tax_code.replace(" ", "").upper()
        self.province = self.province.upper()
        self.country = self.country.upper()
        self.rea_office = self.rea_office.upper()
        self.transmitter_country = self.transmitter_country.upper()
        self.transmitter_code = self.transmitter_code.replace(" ", "").upper()
        errors = {}
        if self.country == "IT" and not re.fullmatch(r"[A-Z]{2}", self.province):
            errors["province"] = _("Give the two-letter province of an Italian address.")
        if self.transmitter_country == "IT" and not (
            codicefiscale.is_valid(self.transmitter_code) or iva.is_valid(self.transmitter_code)
        ):
            errors["transmitter_code"] = _(
                "An Italian transmitter is identified by a valid tax code."
            )
        if errors:
            raise ValidationError(errors)


class EInvoiceCounter(models.Model):
    """The last e-invoice file progressive given out per seller (`prefix`: IT + VAT number).

    Separate from the invoice numbering; taken with INSERT ... ON CONFLICT DO UPDATE ...
    RETURNING inside the exporting transaction (billing.fatturapa), so a refused export gives
    its progressive back and two exports never share one.
    """

    prefix = models.CharField(_("seller"), max_length=30, unique=True)
    last_value = models.PositiveBigIntegerField(_("last progressive"), default=0)

    class Meta:
        verbose_name = _("e-invoice file counter")
        verbose_name_plural = _("e-invoice file counters")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_value}"


class EInvoiceExport(models.Model):
    """One exported FatturaPA file: what was sent is kept (the XML and its SHA-256), with the
    outcome of the schema validation (valid, or not validated because no schema is configured).
    The file name is IT<seller VAT>_<progressive in base 36, 5 characters>.xml."""

    class Validation(models.TextChoices):
        VALID = "valid", _("Valid against the schema")
        NOT_VALIDATED = "not_validated", _("Not validated: schema not configured")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="einvoice_exports",
        verbose_name=_("invoice"),
    )  # fmt: skip
    seller_prefix = models.CharField(_("seller"), max_length=30)
    progressive = models.PositiveBigIntegerField(_("progressive"))
    file_name = models.CharField(_("file name"), max_length=50, unique=True)
    document_type = models.CharField(_("document type"), max_length=4)
    xml = models.TextField(_("XML"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    validation = models.CharField(_("validation"), max_length=20, choices=Validation.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("exported by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("e-invoice export")
        verbose_name_plural = _("e-invoice exports")
        constraints = [
            models.UniqueConstraint(
                fields=["seller_prefix", "progressive"],
                name="einvoice_export_progressive_unique",
                violation_error_message=_("This progressive is already used for this seller."),
            ),
            models.CheckConstraint(
                condition=Q(validation__in=["valid", "not_validated"]),
                name="einvoice_export_validation_valid",
            ),
            models.CheckConstraint(
                condition=Q(document_type__in=["TD01", "TD04"]),
                name="einvoice_export_document_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(progressive__gt=0), name="einvoice_export_progressive_positive"
            ),
        ]
        indexes = [
            # Serves the invoice page's list of its exported files.
            models.Index(fields=["invoice", "-created_at"], name="einvoice_export_invoice_idx"),
        ]

    def __str__(self) -> str:
        return self.file_name
