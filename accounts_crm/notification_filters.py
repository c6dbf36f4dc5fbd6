"""The notification list's FilterSet, shared by the HTML list and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts_crm.models import Notification, NotificationKind


class NotificationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="message",
        lookup_expr="icontains",
        label=_("Search"),
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )
    kind = django_filters.ChoiceFilter(
        choices=NotificationKind.choices,
        label=_("Kind"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    unread = django_filters.BooleanFilter(
        method="filter_unread",
        label=_("Unread"),
        widget=forms.NullBooleanSelect(attrs={"class": "form-select"}),
    )

    class Meta:
        model = Notification
        fields = ["q", "kind", "unread"]

    def filter_unread(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)
