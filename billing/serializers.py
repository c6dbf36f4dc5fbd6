"""API shapes of billing: invoices and credit notes, their lines, payments, check findings and
receivables aging. Validate and shape only: services decide.

Related ids (client, order, contract, invoice, order line, milestone, project, line) only accept
rows the caller sees (`VisibleRelatedFieldsMixin`); products are the shared catalogue. Numbers,
statuses, check statuses, totals, amounts paid and findings are answers: services, selectors
and the checks compute them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts_crm.api import (
    IntegerAnnotation,
    ModelSerializer,
    UTCDateTimeField,
    VisibleRelatedFieldsMixin,
)
from billing.checks import finding_message, rule_label
from billing.models import CheckFinding, FindingComment, Invoice, InvoiceLine, Payment
from orders.models import QUANTITY, Order, VatNature
from orders.serializers import MAX_VERSION, DecimalAnnotation, VersionedSerializer, version_field
from projects.models import Milestone, Project
from projects.serializers import BooleanAnnotation

MONEY_ANSWER = {
    "max_digits": settings.MONEY_MAX_DIGITS + 4,
    "decimal_places": settings.MONEY_DECIMAL_PLACES,
}


def money_annotation(help_text: Any) -> DecimalAnnotation:
    return DecimalAnnotation(read_only=True, allow_null=True, help_text=help_text, **MONEY_ANSWER)


def invoice_version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=MAX_VERSION,
        write_only=True,
        help_text=_("The version of the invoice you read (409 when someone changed it since)."),
    )


# Lines, payments, findings -----------------------------------------------------------------------


class InvoiceLineSerializer(ModelSerializer):
    """A line of a draft invoice or credit note; its amounts follow the rounding rule."""

    invoice_version = invoice_version_field()
    # Declared so the schema says "" (no nature: a rate above zero) is a value: DRF drops
    # allow_blank from read-only model fields, and the enum would then refuse it.
    vat_nature = serializers.ChoiceField(
        choices=VatNature.choices,
        allow_blank=True,
        required=False,
        help_text=_("VAT exemption nature code at a zero rate; empty otherwise."),
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "invoice",
            "invoice_version",
            "order_line",
            "milestone",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount",
            "vat_rate",
            "vat_nature",
            "net_amount",
            "vat_amount",
            "position",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["net_amount", "vat_amount"]
        # Percentages are bounded here too: a clear field error before the service.
        extra_kwargs = {
            "discount": {"min_value": 0, "max_value": 100},
            "vat_rate": {
                "min_value": 0,
                "max_value": 100,
                "required": False,
                "help_text": _("The product's VAT rate (and nature) when left out."),
            },
            "description": {
                "required": False,
                "allow_blank": True,
                "help_text": _("The product's name when left out."),
            },
            "position": {
                "required": False,
                "max_value": MAX_VERSION,
                "help_text": _("After the last line when left out."),
            },
        }
        # The line rules are answered by the service (full_clean) with a message.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "invoice_version" not in attrs:  # PATCH skips required fields
            raise serializers.ValidationError(
                {
                    "invoice_version": [
                        _("Send the invoice's version you read, to protect others' changes.")
                    ]
                }
            )
        invoice = attrs.get("invoice")
        if self.instance is not None and invoice is not None and invoice != self.instance.invoice:
            raise serializers.ValidationError(
                {"invoice": [_("A line cannot move to another invoice; add it there instead.")]}
            )
        return attrs


class InvoiceLineReadSerializer(InvoiceLineSerializer):
    """A line as the invoice shows it (no write-only fields)."""

    invoice_version = None
    vat_nature = serializers.ChoiceField(
        choices=VatNature.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("VAT exemption nature code at a zero rate; empty otherwise."),
    )

    class Meta(InvoiceLineSerializer.Meta):
        fields = [f for f in InvoiceLineSerializer.Meta.fields if f != "invoice_version"]
        read_only_fields = fields


class PaymentSerializer(ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "amount",
            "paid_on",
            "method",
            "reference",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["recorded_by"]
        extra_kwargs = {
            "amount": {"help_text": _("At most what is still owed on the invoice.")},
        }
        validators: list[Any] = []


class FindingCommentSerializer(serializers.ModelSerializer):
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = FindingComment
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = fields


class FindingSerializer(ModelSerializer):
    """What one rule found on one invoice; overridden with a reason, or resolved by the checks."""

    nam = IntegerAnnotation(source="nam_id", help_text=_("The client's NAM (user id)."))
    rule_title = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    compared_to_type = serializers.SerializerMethodField()
    comments = FindingCommentSerializer(many=True, read_only=True)

    class Meta:
        model = CheckFinding
        fields = [
            "id",
            "invoice",
            "line",
            "rule",
            "rule_title",
            "key",
            "severity",
            "message",
            "expected",
            "actual",
            "expected_value",
            "actual_value",
            "amount_at_stake",
            "compared_to_type",
            "compared_to_id",
            "status",
            "override_reason",
            "overridden_by",
            "overridden_at",
            "first_seen_at",
            "last_seen_at",
            "resolved_at",
            "nam",
            "comments",
        ]
        read_only_fields = fields

    # The pages' wording: the rules engine renders both in the request's language.
    @extend_schema_field(serializers.CharField(help_text=_("The rule's name for people.")))
    def get_rule_title(self, finding: CheckFinding) -> str:
        return rule_label(finding.rule)

    @extend_schema_field(
        serializers.CharField(help_text=_("What was found, in the request's language."))
    )
    def get_message(self, finding: CheckFinding) -> str:
        return finding_message(finding)

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text=_("What the invoice was compared with, as app_label.model (or null)."),
        )
    )
    def get_compared_to_type(self, finding: CheckFinding) -> str | None:
        kind = finding.compared_to_type
        return f"{kind.app_label}.{kind.model}" if kind is not None else None


class OverrideSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, help_text=_("Why the finding is accepted (kept and shown).")
    )


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


# Invoices ----------------------------------------------------------------------------------------


class InvoiceSerializer(VersionedSerializer):
    """An invoice or credit note as a list row: header, totals, receivables and open findings."""

    version = version_field(_("Required on update: the version of the invoice you read."))
    # Plain strings in the schema for now: as enums, Invoice.Kind and Invoice.Status need
    # names in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] (several components and apps use
    # `kind` and `status`), which billing does not own.
    kind = serializers.CharField(
        read_only=True,
        help_text=_("One of: %(values)s.") % {"values": ", ".join(Invoice.Kind.values)},
    )
    status = serializers.CharField(
        read_only=True,
        help_text=_("One of: %(values)s.") % {"values": ", ".join(Invoice.Status.values)},
    )
    display_number = serializers.CharField(
        read_only=True, help_text=_("Series-year/number once issued; 'Draft <id>' before.")
    )
    credited = money_annotation(_("Gross of the issued credit notes of this invoice."))
    outstanding = money_annotation(_("What the client still owes on it (open invoices only)."))
    overdue = BooleanAnnotation(help_text=_("Open and past its due date."))
    open_findings = IntegerAnnotation()
    open_errors = IntegerAnnotation()
    amount_at_stake = money_annotation(_("Sum of the open findings' amounts at stake."))
    nam = IntegerAnnotation(source="nam_id", help_text=_("The client's NAM (user id)."))

    class Meta:
        model = Invoice
        fields = [
            "id",
            "kind",
            "display_number",
            "client",
            "order",
            "contract",
            "credits",
            "status",
            "check_status",
            "series",
            "year",
            "number",
            "issue_date",
            "due_date",
            "currency",
            "net_total",
            "vat_total",
            "gross_total",
            "amount_paid",
            "credited",
            "outstanding",
            "overdue",
            "open_findings",
            "open_errors",
            "amount_at_stake",
            "nam",
            "notes",
            "created_by",
            "issued_by",
            "issued_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "kind",
            "credits",
            "status",
            "check_status",
            "series",
            "year",
            "number",
            "net_total",
            "vat_total",
            "gross_total",
            "amount_paid",
            "created_by",
            "issued_by",
            "issued_at",
        ]
        extra_kwargs = {
            "currency": {"help_text": _("Taken from the contract when there is one.")},
            "issue_date": {"help_text": _("Set when issued (today unless given).")},
            "due_date": {"help_text": _("From the contract's payment terms when left out.")},
        }
        # Dates and totals rules are answered by the service (full_clean) with a message.
        validators: list[Any] = []


class InvoiceDetailSerializer(InvoiceSerializer):
    """One invoice with its lines, payments, findings (with comments) and credit notes."""

    lines = InvoiceLineReadSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    findings = FindingSerializer(many=True, read_only=True)
    credit_notes = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines", "payments", "findings", "credit_notes"]


class IssueSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_VERSION,
        help_text=_("The version of the invoice you read (409 when someone changed it since)."),
    )
    issue_date = serializers.DateField(
        required=False, help_text=_("Today (or the draft's issue date) when left out.")
    )


class FromOrderSerializer(VisibleRelatedFieldsMixin, serializers.Serializer):
    order = serializers.PrimaryKeyRelatedField(
        queryset=Order.objects.all(), help_text=_("Bill what is not invoiced yet on this order.")
    )


class FromMilestonesSerializer(VisibleRelatedFieldsMixin, serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.all(),
        required=False,
        help_text=_("Bill every completed billable milestone of it not invoiced yet."),
    )
    milestones = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Milestone.objects.all(),
        required=False,
        help_text=_("Or bill these milestones (of one project) only."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("project" in attrs) == ("milestones" in attrs):
            raise serializers.ValidationError(
                _("Give a project or some milestones of one project."), code="invalid"
            )
        if "milestones" in attrs and not attrs["milestones"]:
            raise serializers.ValidationError({"milestones": [_("Choose at least one.")]})
        return attrs


class CreditLineSerializer(VisibleRelatedFieldsMixin, serializers.Serializer):
    line = serializers.PrimaryKeyRelatedField(
        queryset=InvoiceLine.objects.all(), help_text=_("A line of the credited invoice.")
    )
    quantity = serializers.DecimalField(
        required=False,
        help_text=_("How much of the line to credit; all of it when left out."),
        **QUANTITY,
    )
    unit_price = serializers.DecimalField(
        required=False,
        max_digits=settings.MONEY_MAX_DIGITS,
        decimal_places=settings.MONEY_DECIMAL_PLACES,
        help_text=_("At most the line's price; a lower one credits a price difference."),
    )


class CreditNoteSerializer(serializers.Serializer):
    lines = CreditLineSerializer(
        many=True,
        required=False,
        help_text=_("What to credit; every line in full when left out (cancels the invoice)."),
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AgingSerializer(serializers.Serializer):
    """One client's outstanding amount by days past due."""

    client = serializers.IntegerField(source="client_id", read_only=True)
    client_name = serializers.CharField(source="client__name", read_only=True)
    currency = serializers.CharField(read_only=True)
    current = serializers.DecimalField(read_only=True, **MONEY_ANSWER)
    days_0_30 = serializers.DecimalField(read_only=True, **MONEY_ANSWER)
    days_31_60 = serializers.DecimalField(read_only=True, **MONEY_ANSWER)
    days_61_90 = serializers.DecimalField(read_only=True, **MONEY_ANSWER)
    days_over_90 = serializers.DecimalField(read_only=True, **MONEY_ANSWER)
    total = serializers.DecimalField(read_only=True, **MONEY_ANSWER)
