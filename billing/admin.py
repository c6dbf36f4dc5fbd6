"""Django admin for support staff: read-mostly. What moves money or status (issuing, numbers,
payments, overrides) goes through billing/services.py, so here it is read-only; an issued
invoice is read-only entirely (the database refuses changes to it anyway)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.models import (
    CheckFinding,
    EInvoiceCounter,
    EInvoiceExport,
    FindingComment,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
    SellerProfile,
)


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ("position", "description", "quantity", "unit_price", "discount", "vat_rate",
              "vat_nature", "net_amount", "vat_amount", "order_line", "milestone")  # fmt: skip
    raw_id_fields = ("order_line", "milestone", "product")
    readonly_fields = ("net_amount", "vat_amount")

    def has_change_permission(self, request: object, obj: Invoice | None = None) -> bool:
        return obj is None or obj.is_draft

    has_add_permission = has_delete_permission = has_change_permission  # type: ignore[assignment]


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    readonly_fields = ("amount", "paid_on", "method", "reference", "recorded_by")
    can_delete = False

    def has_add_permission(self, request: object, obj: Invoice | None = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("display_number", "kind", "client", "status", "check_status", "issue_date",
                    "due_date", "gross_total", "amount_paid")  # fmt: skip
    list_filter = ("kind", "status", "check_status", "series", "year")
    search_fields = ("client__name", "order__number", "number")
    raw_id_fields = ("client", "order", "contract", "credits", "created_by", "issued_by")
    readonly_fields = ("kind", "credits", "status", "check_status", "series", "year", "number",
                       "net_total", "vat_total", "gross_total", "amount_paid", "created_by",
                       "issued_by", "issued_at", "version")  # fmt: skip
    inlines = [InvoiceLineInline, PaymentInline]
    list_select_related = ("client",)

    def get_readonly_fields(self, request: object, obj: Invoice | None = None) -> list[str]:
        if obj is not None and not obj.is_draft:
            return [f.name for f in Invoice._meta.concrete_fields if f.name != "notes"]
        return list(self.readonly_fields)

    def has_add_permission(self, request: object) -> bool:
        # A new invoice needs its creator and series: billing.services.invoice_create.
        return False

    def has_delete_permission(self, request: object, obj: Invoice | None = None) -> bool:
        return obj is None or obj.is_draft


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("invoice", "amount", "paid_on", "method", "reference", "recorded_by")
    list_filter = ("method",)
    list_select_related = ("invoice", "recorded_by")
    # A payment moves its invoice's status: record and delete through the services.
    readonly_fields = ("invoice", "amount", "paid_on", "method", "reference", "recorded_by")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: Payment | None = None) -> bool:
        return False


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(admin.ModelAdmin):
    list_display = ("series", "year", "last_number")
    # The counter is the gapless numbering: nobody edits it by hand.
    readonly_fields = ("series", "year", "last_number")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class FindingCommentInline(admin.TabularInline):
    model = FindingComment
    extra = 0
    raw_id_fields = ("author",)


@admin.register(CheckFinding)
class CheckFindingAdmin(admin.ModelAdmin):
    list_display = ("invoice", "rule", "key", "severity", "status", "amount_at_stake",
                    "last_seen_at")  # fmt: skip
    list_filter = ("rule", "severity", "status")
    search_fields = ("rule", "message", "invoice__client__name")
    # Findings come from the checks and are overridden through the service (with a reason).
    readonly_fields = [f.name for f in CheckFinding._meta.concrete_fields]
    inlines = [FindingCommentInline]
    list_select_related = ("invoice",)


@admin.register(FindingComment)
class FindingCommentAdmin(admin.ModelAdmin):
    list_display = ("finding", "author", "created_at")
    raw_id_fields = ("finding", "author")


# E-invoicing -------------------------------------------------------------------------------


@admin.register(SellerProfile)
class SellerProfileAdmin(admin.ModelAdmin):
    """Our fiscal identity on every e-invoice: one row (validated with python-stdnum)."""

    list_display = ("name", "vat_number", "tax_code", "regime_fiscale", "city")
    fieldsets = (
        (None, {"fields": ("name", "vat_number", "tax_code", "regime_fiscale")}),
        (
            _("Registered office"),
            {"fields": ("street", "street_number", "postal_code", "city", "province", "country")},
        ),
        (_("Transmitter"), {"fields": ("transmitter_country", "transmitter_code")}),
        (_("REA registration"), {"fields": ("rea_office", "rea_number", "share_capital")}),
        (_("Contacts"), {"fields": ("email", "phone")}),
    )

    def has_add_permission(self, request: object) -> bool:
        return not SellerProfile.objects.exists()

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        # Exports need it; an edit, not a deletion, changes it.
        return False


@admin.register(EInvoiceExport)
class EInvoiceExportAdmin(admin.ModelAdmin):
    list_display = ("file_name", "invoice", "document_type", "validation", "created_by",
                    "created_at")  # fmt: skip
    list_filter = ("document_type", "validation")
    search_fields = ("file_name", "sha256")
    list_select_related = ("invoice", "created_by")
    # What was sent is kept as it was: exports are made by billing.fatturapa only.
    readonly_fields = [f.name for f in EInvoiceExport._meta.concrete_fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(EInvoiceCounter)
class EInvoiceCounterAdmin(admin.ModelAdmin):
    list_display = ("prefix", "last_value")
    # The file progressive: unique per seller, nobody edits it by hand.
    readonly_fields = ("prefix", "last_value")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
