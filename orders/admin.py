"""Admin for support staff: look things up and fix master data.

Order status is never edited here: it moves only through orders.services.order_transition,
which checks the allowed transitions and records who moved it. The history shows read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from orders.models import (
    Contract,
    ContractPrice,
    Opportunity,
    Order,
    OrderLine,
    OrderStatusChange,
    Product,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "family", "kind", "unit", "list_price", "vat_rate", "is_active"]
    list_filter = ["is_active", "kind", "family", "vat_rate"]
    search_fields = ["sku", "name", "family"]


class ContractPriceInline(admin.TabularInline):
    model = ContractPrice
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "unit_price", "valid_from", "valid_to"]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "client", "status", "starts_on", "ends_on", "applies_to_subsidiaries"]
    list_filter = ["status", "applies_to_subsidiaries", "auto_renew"]
    search_fields = ["number", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
    date_hierarchy = "starts_on"
    inlines = [ContractPriceInline]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ["product"]
    fields = [
        "product", "description", "quantity", "unit_price", "discount", "vat_rate", "vat_nature",
        "contract_price", "price_reason", "delivered_quantity",
    ]  # fmt: skip
    readonly_fields = ["contract_price"]


class OrderStatusChangeInline(admin.TabularInline):
    model = OrderStatusChange
    extra = 0
    fields = ["from_status", "to_status", "by", "at", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "client", "kind", "status", "order_date", "owner"]
    list_filter = ["status", "kind"]
    search_fields = ["number", "client__name", "client_po"]
    list_select_related = ["client", "owner"]
    autocomplete_fields = ["client", "contract", "owner", "reorder_of"]
    date_hierarchy = "order_date"
    readonly_fields = ["number", "status", "version"]
    inlines = [OrderLineInline, OrderStatusChangeInline]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["title", "client", "stage", "source", "value", "probability", "expected_close"]
    list_filter = ["stage", "source"]
    search_fields = ["title", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client", "owner", "products"]
    readonly_fields = ["order"]
