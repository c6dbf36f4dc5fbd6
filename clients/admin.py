from django.contrib import admin

from clients.models import (
    AccountPlan,
    AccountTeamMember,
    Activity,
    Client,
    Contact,
    ImportJob,
    Site,
    Team,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead"]
    search_fields = ["name", "lead__username", "lead__last_name"]
    filter_horizontal = ["members"]


class AccountTeamMemberInline(admin.TabularInline):
    model = AccountTeamMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "legal_name", "vat_number", "team", "parent", "scope", "status"]
    list_filter = ["status", "scope", "team"]
    search_fields = ["name", "legal_name", "vat_number"]
    list_select_related = ["team", "parent"]
    autocomplete_fields = ["parent"]
    inlines = [AccountTeamMemberInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "client", "job_title", "buying_role", "relationship_strength"]
    list_filter = ["buying_role", "relationship_strength", "is_active"]
    search_fields = ["first_name", "last_name", "email", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client", "site", "reports_to"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "kind", "city", "region", "country"]
    list_filter = ["kind", "region", "country"]
    search_fields = ["name", "city", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["subject", "client", "kind", "occurred_at", "author"]
    list_filter = ["kind"]
    search_fields = ["subject", "client__name"]
    list_select_related = ["client", "author"]
    autocomplete_fields = ["client", "contacts"]


@admin.register(AccountPlan)
class AccountPlanAdmin(admin.ModelAdmin):
    list_display = ["client", "year", "revenue_target", "currency"]
    list_filter = ["year"]
    search_fields = ["client__name"]
    autocomplete_fields = ["client"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are made and run by the import pages, support staff only look."""

    list_display = [
        "file_name",
        "group",
        "kind",
        "status",
        "progress_done",
        "progress_total",
        "created_by",
    ]
    list_filter = ["status", "group", "kind"]
    exclude = ["content"]
    list_select_related = ["created_by"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
