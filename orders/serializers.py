"""API shapes of the catalogue, contracts, orders and opportunities: validate and shape only.

Related ids (client, contract, order) only accept rows the caller sees
(`VisibleRelatedFieldsMixin`); products are the shared catalogue. Prices, totals, statuses and
numbers are answers: services compute them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts_crm.api import AnnotationMixin, ModelSerializer, UTCDateTimeField
from orders.models import (
    QUANTITY,
    Contract,
    ContractPrice,
    Opportunity,
    Order,
    OrderLine,
    OrderStatusChange,
    Product,
    VatNature,
)
from orders.services import allowed_transitions, order_totals

MAX_VERSION = 2**31 - 1


def version_field(help_text: str | Promise) -> serializers.IntegerField:
    """Optimistic locking: send back the version you read; a stale one answers 409.

    The whole help text is the caller's (lazy) translatable sentence: a model name spliced into
    a translated sentence would stay English and would be read once, at import, in one language.
    """
    return serializers.IntegerField(
        min_value=1, max_value=MAX_VERSION, required=False, help_text=help_text
    )


class DecimalAnnotation(AnnotationMixin, serializers.DecimalField):
    """A sum the list selector annotates; None on a row that did not come from it."""


def money_answer(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=settings.MONEY_MAX_DIGITS + 4,
        decimal_places=settings.MONEY_DECIMAL_PLACES,
        read_only=True,
        **kwargs,
    )


class VersionedSerializer(ModelSerializer):
    """Create ignores `version`; update requires the one the caller read."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs.pop("version", None)
        elif "version" not in attrs:
            raise serializers.ValidationError(
                {"version": [_("Send the version you read, to protect others' changes.")]}
            )
        return attrs


class ProductSerializer(ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "family",
            "kind",
            "unit",
            "list_price",
            "currency",
            "vat_rate",
            "vat_nature",
            "is_active",
            "created_at",
            "updated_at",
        ]


class ContractSerializer(VersionedSerializer):
    version = version_field(_("Required on update: the version of the contract you read."))

    class Meta:
        model = Contract
        fields = [
            "id",
            "client",
            "number",
            "status",
            "starts_on",
            "ends_on",
            "auto_renew",
            "renewal_notice_days",
            "payment_terms_days",
            "default_discount",
            "billing_cap",
            "annual_commitment",
            "currency",
            "applies_to_subsidiaries",
            "terms",
            "version",
            "created_at",
            "updated_at",
        ]
        # Uniqueness and the date rule are answered by the service (full_clean) with a message.
        validators: list[Any] = []


class ContractPriceSerializer(ModelSerializer):
    class Meta:
        model = ContractPrice
        fields = [
            "id",
            "contract",
            "product",
            "unit_price",
            "valid_from",
            "valid_to",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []


class OrderLineSerializer(ModelSerializer):
    """A line of a draft order; its price comes from the contract unless `manual_price` is set."""

    order_version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_VERSION,
        write_only=True,
        help_text=_("The version of the order you read (409 when someone changed it since)."),
    )
    manual_price = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text=_(
            "Keep `unit_price` and `discount` as sent. A price other than the contract's "
            "needs a `price_reason`. Without it, both come from the contract or the list price."
        ),
    )
    net_amount = money_answer()
    vat_amount = money_answer()
    # Copied from the product. Declared so the schema says "" (no nature: a rate above 0) is a
    # value: DRF drops allow_blank from read-only model fields, and the enum would then refuse it.
    vat_nature = serializers.ChoiceField(
        choices=VatNature.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("VAT exemption nature code at a zero rate; empty otherwise."),
    )

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "order",
            "order_version",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount",
            "manual_price",
            "contract_price",
            "price_reason",
            "vat_rate",
            "vat_nature",
            "delivered_quantity",
            "net_amount",
            "vat_amount",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["contract_price", "vat_rate", "vat_nature", "delivered_quantity"]
        extra_kwargs = {"unit_price": {"required": False}, "discount": {"required": False}}
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "order_version" not in attrs:  # PATCH skips required fields
            raise serializers.ValidationError(
                {
                    "order_version": [
                        _("Send the order's version you read, to protect others' changes.")
                    ]
                }
            )
        order = attrs.get("order")
        if self.instance is not None and order is not None and order != self.instance.order:
            raise serializers.ValidationError(
                {"order": [_("A line cannot move to another order; add it there instead.")]}
            )
        return attrs


class OrderLineReadSerializer(OrderLineSerializer):
    """A line as the order shows it (no write-only fields)."""

    order_version = None
    manual_price = None

    class Meta(OrderLineSerializer.Meta):
        fields = [
            f for f in OrderLineSerializer.Meta.fields if f not in ("order_version", "manual_price")
        ]


class DeliverySerializer(serializers.Serializer):
    delivered_quantity = serializers.DecimalField(
        min_value=0,
        help_text=_("How much of the line is delivered so far (not an increment)."),
        **QUANTITY,
    )


class OrderStatusChangeSerializer(serializers.ModelSerializer):
    at = UTCDateTimeField(read_only=True)

    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "by", "at", "note"]
        read_only_fields = fields


class OrderSerializer(VersionedSerializer):
    version = version_field(_("Required on update: the version of the order you read."))
    net_total = DecimalAnnotation(
        max_digits=settings.MONEY_MAX_DIGITS + 4,
        decimal_places=settings.MONEY_DECIMAL_PLACES,
        read_only=True,
        allow_null=True,
        help_text=_("Sum of the lines' net amounts, each rounded half up."),
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "client",
            "contract",
            "kind",
            "status",
            "client_po",
            "order_date",
            "requested_delivery",
            "owner",
            "reorder_of",
            "currency",
            "notes",
            "net_total",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["number", "status", "owner", "reorder_of"]
        extra_kwargs = {
            "order_date": {"required": False, "help_text": _("Today when left out.")},
            "currency": {"help_text": _("Taken from the contract when there is one.")},
        }
        validators: list[Any] = []

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # An order is one client's; a different client is a new order.
        if self.instance is not None and not isinstance(self.instance, list):
            fields["client"].read_only = True
        return fields


class OrderDetailSerializer(OrderSerializer):
    """One order with its lines, totals, history and the status changes the caller may make."""

    lines = OrderLineReadSerializer(many=True, read_only=True)
    vat_total = serializers.SerializerMethodField()
    gross_total = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    status_changes = OrderStatusChangeSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "lines",
            "vat_total",
            "gross_total",
            "allowed_transitions",
            "status_changes",
        ]

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_vat_total(self, order: Order) -> str:
        return str(order_totals(list(order.lines.all())).vat)

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_gross_total(self, order: Order) -> str:
        return str(order_totals(list(order.lines.all())).gross)

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=Order.Status.choices))
    )
    def get_allowed_transitions(self, order: Order) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return allowed_transitions(user=request.user, order=order)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Order.Status.choices)
    note = serializers.CharField(max_length=250, required=False, default="", allow_blank=True)


class OpportunitySerializer(ModelSerializer):
    products = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Product.objects.all(), required=False
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "client",
            "title",
            "stage",
            "value",
            "currency",
            "probability",
            "expected_close",
            "products",
            "source",
            "owner",
            "order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["owner", "order"]
        validators: list[Any] = []
