"""Django admin for support staff: notifications and people's preferences."""

from __future__ import annotations

from django.contrib import admin

from accounts_crm.models import Notification, NotificationPreference, UserPreferences


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "message", "read_at", "emailed_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["message", "key", "user__username", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user"]
    # Created by jobs with their dedupe key; support may look, and mark read or delete.
    readonly_fields = [
        "user", "kind", "key", "message", "url", "target_type", "target_id", "created_at",
        "emailed_at",
    ]  # fmt: skip

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "email"]
    list_filter = ["kind", "email"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
