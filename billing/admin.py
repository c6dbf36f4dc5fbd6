"""Django admin for support staff: read-mostly; money-moving changes go through the services."""

from __future__ import annotations

from django.contrib import admin

from billing.models import (
    CheckFinding,
    FindingComment,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
)


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ("position", "description", "quantity", "unit_price", "discount", "vat_rate",
              "vat_nature", "net_amount", "vat_amount", "order_line", "milestone")  # fmt: skip
    raw_id_fields = ("order_line", "milestone", "product")


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    readonly_fields = ("amount", "paid_on", "method", "reference", "recorded_by")
    can_delete = False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("display_number", "kind", "client", "status", "check_status", "issue_date",
                    "due_date", "gross_total", "amount_paid")  # fmt: skip
    list_filter = ("kind", "status", "check_status", "series", "year")
    search_fields = ("client__name", "order__number", "number")
    raw_id_fields = ("client", "order", "contract", "credits", "created_by", "issued_by")
    readonly_fields = ("series", "year", "number", "net_total", "vat_total", "gross_total",
                       "amount_paid", "issued_by", "issued_at", "version")  # fmt: skip
    inlines = [InvoiceLineInline, PaymentInline]
    list_select_related = ("client",)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("invoice", "amount", "paid_on", "method", "reference", "recorded_by")
    list_filter = ("method",)
    raw_id_fields = ("invoice", "recorded_by")
    list_select_related = ("invoice", "recorded_by")


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
    raw_id_fields = ("invoice", "line", "overridden_by")
    inlines = [FindingCommentInline]
    list_select_related = ("invoice",)


@admin.register(FindingComment)
class FindingCommentAdmin(admin.ModelAdmin):
    list_display = ("finding", "author", "created_at")
    raw_id_fields = ("finding", "author")
