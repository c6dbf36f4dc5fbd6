"""Catalogue, contracts and their prices, orders and their lines, opportunities.

Who sees a contract, order or opportunity follows its client (accounts_crm/access.py); the
catalogue is shared by everyone signed in. Writes go through orders/services.py.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import AccessQuerySet
from accounts_crm.audit import audited
from accounts_crm.models import TimeStampedModel
from accounts_crm.money import CurrencyField, MoneyField, quantize
from clients.models import Client

PERCENT = {"max_digits": 5, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 3}


def PercentField(verbose_name: object, **kwargs: object) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(
        verbose_name,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        **PERCENT,
        **kwargs,
    )


class VatNature(models.TextChoices):
    """FatturaPA's nature codes, required exactly when the VAT rate is 0."""

    N1 = "N1", _("N1: excluded (art. 15)")
    N2_1 = "N2.1", _("N2.1: not subject (arts. 7 to 7-septies)")
    N2_2 = "N2.2", _("N2.2: not subject, other cases")
    N3_1 = "N3.1", _("N3.1: not taxable, exports")
    N3_2 = "N3.2", _("N3.2: not taxable, intra-EU supplies")
    N3_3 = "N3.3", _("N3.3: not taxable, San Marino")
    N3_4 = "N3.4", _("N3.4: not taxable, treated as exports")
    N3_5 = "N3.5", _("N3.5: not taxable, declaration of intent")
    N3_6 = "N3.6", _("N3.6: not taxable, other")
    N4 = "N4", _("N4: exempt")
    N5 = "N5", _("N5: margin scheme")
    N6_1 = "N6.1", _("N6.1: reverse charge, scrap")
    N6_2 = "N6.2", _("N6.2: reverse charge, gold and silver")
    N6_3 = "N6.3", _("N6.3: reverse charge, construction subcontracting")
    N6_4 = "N6.4", _("N6.4: reverse charge, buildings")
    N6_5 = "N6.5", _("N6.5: reverse charge, mobile phones")
    N6_6 = "N6.6", _("N6.6: reverse charge, electronic products")
    N6_7 = "N6.7", _("N6.7: reverse charge, construction services")
    N6_8 = "N6.8", _("N6.8: reverse charge, energy sector")
    N6_9 = "N6.9", _("N6.9: reverse charge, other")
    N7 = "N7", _("N7: VAT paid in another EU state")


def vat_nature_matches_rate(prefix: str = "") -> Q:
    """Nature code present exactly when the rate is 0 (FatturaPA rules 00400/00401)."""
    return Q(**{f"{prefix}vat_rate": 0}) & ~Q(**{f"{prefix}vat_nature": ""}) | Q(
        **{f"{prefix}vat_rate__gt": 0, f"{prefix}vat_nature": ""}
    )


class Product(TimeStampedModel):
    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")
        SOFTWARE = "software", _("Software")
        TRAINING = "training", _("Training")
        SUBSCRIPTION = "subscription", _("Subscription")

    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    family = models.CharField(_("family"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PRODUCT)
    unit = models.CharField(_("unit"), max_length=20, default="pz")
    list_price = MoneyField(_("list price"))
    currency = CurrencyField()
    vat_rate = PercentField(_("VAT rate"), default=Decimal("22.00"))
    vat_nature = models.CharField(
        _("VAT nature"), max_length=5, choices=VatNature.choices, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["family", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["product", "service", "software", "training", "subscription"]
                ),
                name="product_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(list_price__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lte=100), name="product_vat_rate_range"
            ),
            models.CheckConstraint(
                condition=vat_nature_matches_rate(),
                name="product_vat_nature_iff_zero_rate",
                violation_error_message=_("Give a VAT nature code exactly when the rate is 0."),
            ),
        ]
        indexes = [
            # Serves whitespace: which families each client buys.
            models.Index(fields=["family"], name="product_family_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.name}"


class ClientOwnedQuerySet(AccessQuerySet):
    client_path = "client"


@audited()
class Contract(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("client")
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    auto_renew = models.BooleanField(_("auto-renew"), default=False)
    renewal_notice_days = models.PositiveSmallIntegerField(_("renewal notice (days)"), default=90)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=60)
    default_discount = PercentField(_("default discount %"))
    billing_cap = MoneyField(_("billing cap"), null=True, blank=True)
    annual_commitment = MoneyField(_("annual commitment"), null=True, blank=True)
    currency = CurrencyField()
    applies_to_subsidiaries = models.BooleanField(
        _("applies to subsidiaries"),
        default=False,
        help_text=_("Subsidiaries of the client may order under this contract."),
    )
    terms = models.TextField(_("terms"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "number"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "active", "expired", "terminated"]),
                name="contract_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="contract_ends_after_start",
                violation_error_message=_("The contract cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(default_discount__gte=0, default_discount__lte=100),
                name="contract_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(billing_cap__isnull=True) | Q(billing_cap__gte=0),
                name="contract_cap_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(annual_commitment__isnull=True) | Q(annual_commitment__gte=0),
                name="contract_commitment_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def is_valid_on(self, day: object) -> bool:
        return self.status == self.Status.ACTIVE and self.starts_on <= day <= self.ends_on


class DateRange(Func):
    function = "DATERANGE"
    output_field = DateRangeField()


class ContractPriceQuerySet(AccessQuerySet):
    client_path = "contract__client"


@audited()
class ContractPrice(TimeStampedModel):
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="prices", verbose_name=_("contract")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="contract_prices", verbose_name=_("product")
    )
    unit_price = MoneyField(_("agreed unit price"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = ContractPriceQuerySet.as_manager()

    class Meta:
        ordering = ["product__sku", "-valid_from"]
        verbose_name = _("contract price")
        verbose_name_plural = _("contract prices")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="contract_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="contract_price_period_ordered",
                violation_error_message=_("A price cannot stop being valid before it starts."),
            ),
            # One agreed price per product and day: periods of one product may not overlap.
            ExclusionConstraint(
                name="contract_price_no_overlap",
                expressions=[
                    ("contract", RangeOperators.EQUAL),
                    ("product", RangeOperators.EQUAL),
                    (
                        DateRange("valid_from", "valid_to", RangeBoundary(inclusive_upper=True)),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message=_(
                    "This product already has an agreed price for part of this period."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.product.sku} {self.unit_price}"

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        # PostgreSQL cannot build a reversed period, so the overlap check would fail with a
        # database error instead of a message: refuse the reversed period first, in its own words.
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            ordered = next(
                c for c in self._meta.constraints if c.name == "contract_price_period_ordered"
            )
            raise ValidationError(ordered.get_violation_error_message(), code=ordered.name)
        super().validate_constraints(exclude=exclude)


@audited()
class Order(TimeStampedModel):
    class Kind(models.TextChoices):
        NEW = "new", _("New")
        REORDER = "reorder", _("Reorder")
        UPSELL = "upsell", _("Upsell")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        CONFIRMED = "confirmed", _("Confirmed")
        IN_PROGRESS = "in_progress", _("In progress")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=30, unique=True)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="orders", verbose_name=_("client")
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="orders",
        verbose_name=_("contract"),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NEW)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    client_po = models.CharField(_("client PO"), max_length=60, blank=True)
    order_date = models.DateField(_("order date"))
    requested_delivery = models.DateField(_("requested delivery"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders",
        verbose_name=_("owner"),
    )  # fmt: skip
    reorder_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reorders",
        verbose_name=_("reorder of"),
    )  # fmt: skip
    currency = CurrencyField()
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-order_date", "-number"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["new", "reorder", "upsell"]), name="order_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "submitted",
                        "confirmed",
                        "in_progress",
                        "fulfilled",
                        "cancelled",
                    ]
                ),
                name="order_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(reorder_of__isnull=True) | Q(kind="reorder"),
                name="order_reorder_of_only_on_reorders",
            ),
        ]
        indexes = [
            # Serves reorders due: a client's orders per product over time.
            models.Index(fields=["client", "order_date"], name="order_client_date_idx"),
            # Serves the order list's default order (Meta.ordering + pk): the first page is read
            # off the index instead of sorting every order.
            models.Index(fields=["-order_date", "-number", "id"], name="order_list_order_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderChildQuerySet(AccessQuerySet):
    client_path = "order__client"


def line_net() -> models.Expression:
    """A line's net amount in SQL: quantity x unit price less the discount, rounded to the cent
    like `OrderLine.net_amount` (half up: PostgreSQL's round() on numeric rounds halves away
    from zero, which is half up for amounts that are never negative). Stored as `OrderLine.net`.
    """
    return Round(
        F("quantity") * F("unit_price") * (Value(Decimal(100)) - F("discount"))
        / Value(Decimal(100)),
        2,
    )  # fmt: skip


# `net` is computed by the database from the line's own columns: the audit trail records them.
@audited(exclude=("net",))
class OrderLine(TimeStampedModel):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product")
    )
    description = models.CharField(_("description"), max_length=250, blank=True)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = MoneyField(_("unit price"))
    discount = PercentField(_("discount %"))
    vat_rate = PercentField(_("VAT rate"))
    vat_nature = models.CharField(
        _("VAT nature"), max_length=5, choices=VatNature.choices, blank=True
    )
    # Where the price came from, and why a person overrode it (required when they did).
    contract_price = MoneyField(_("contract price"), null=True, blank=True)
    price_reason = models.CharField(_("reason for the price"), max_length=250, blank=True)
    delivered_quantity = models.DecimalField(_("delivered"), default=Decimal("0"), **QUANTITY)
    # Stored so that sums over a year of lines (account health, revenue, contract spend) read
    # one column, from the covering index below, instead of computing every line's amount.
    net = models.GeneratedField(
        expression=line_net(),
        # Wide enough for the largest quantity x unit price the columns allow: never overflows.
        output_field=models.DecimalField(max_digits=24, decimal_places=2),
        db_persist=True,
        verbose_name=_("net amount"),
    )

    objects = OrderChildQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="order_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=100), name="order_line_discount_range"
            ),
            models.CheckConstraint(
                condition=Q(delivered_quantity__gte=0) & Q(delivered_quantity__lte=F("quantity")),
                name="order_line_delivered_within_quantity",
                violation_error_message=_("More cannot be delivered than was ordered."),
            ),
            models.CheckConstraint(
                condition=vat_nature_matches_rate(),
                name="order_line_vat_nature_iff_zero_rate",
                violation_error_message=_("Give a VAT nature code exactly when the rate is 0."),
            ),
            models.CheckConstraint(
                condition=Q(contract_price__isnull=True)
                | Q(unit_price=F("contract_price"))
                | ~Q(price_reason=""),
                name="order_line_override_has_reason",
                violation_error_message=_(
                    "A price different from the contract price needs a reason."
                ),
            ),
        ]
        indexes = [
            # An order's lines with their net amount, without reading the table.
            models.Index(fields=["order"], include=["net"], name="order_line_net_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.product.sku} x {self.quantity}"

    # The rounding rule (accounts_crm/money.py): each line's net and VAT are rounded half up to
    # the cent, then summed. FatturaPA checks totals the same way.
    @property
    def net_amount(self) -> Decimal:
        gross = self.quantity * self.unit_price * (Decimal(100) - self.discount) / Decimal(100)
        return quantize(gross)

    @property
    def vat_amount(self) -> Decimal:
        return quantize(self.net_amount * self.vat_rate / Decimal(100))

    @property
    def is_delivered(self) -> bool:
        return self.delivered_quantity >= self.quantity


@audited()
class OrderStatusChange(models.Model):
    """Who moved an order from one status to another, and when."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("order")
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Order.Status.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=Order.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("when"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=250, blank=True)

    objects = OrderChildQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")

    def __str__(self) -> str:
        return f"{self.order}: {self.from_status} -> {self.to_status}"


@audited()
class Opportunity(TimeStampedModel):
    class Stage(models.TextChoices):
        QUALIFICATION = "qualification", _("Qualification")
        PROPOSAL = "proposal", _("Proposal")
        NEGOTIATION = "negotiation", _("Negotiation")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        WHITESPACE = "whitespace", _("Whitespace")
        REORDER_DUE = "reorder_due", _("Reorder due")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="opportunities", verbose_name=_("client")
    )
    title = models.CharField(_("title"), max_length=200)
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.QUALIFICATION
    )
    value = MoneyField(_("value"), default=Decimal("0"))
    currency = CurrencyField()
    probability = models.PositiveSmallIntegerField(
        _("probability %"), default=20, validators=[MaxValueValidator(100)]
    )
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    products = models.ManyToManyField(
        Product, blank=True, related_name="opportunities", verbose_name=_("products")
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.MANUAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities",
        verbose_name=_("owner"),
    )  # fmt: skip
    order = models.OneToOneField(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="opportunity",
        verbose_name=_("order"),
    )  # fmt: skip

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["expected_close", "title"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=["qualification", "proposal", "negotiation", "won", "lost"]),
                name="opportunity_stage_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["manual", "whitespace", "reorder_due"]),
                name="opportunity_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0), name="opportunity_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="opportunity_probability_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title
