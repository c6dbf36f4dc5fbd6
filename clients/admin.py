from django.contrib import admin

from clients.models import AccountTeamMember, Client, Team


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
