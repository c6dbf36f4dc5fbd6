"""Small presentation helpers for the clients pages: Bootstrap widgets, money, badges."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

from accounts_crm.money import format_money

register = template.Library()

WIDGET_CLASSES = {
    "select": "form-select",
    "selectmultiple": "form-select",
    "nullbooleanselect": "form-select",
    "checkbox": "form-check-input",
}

# Bootstrap colour of each badge; the badge text always says the same thing in words.
STATUS_COLOURS = {"prospect": "info", "active": "success", "inactive": "secondary"}
TIER_COLOURS = {"strategic": "primary", "key": "dark", "developing": "light"}


@register.filter
def widget(field: BoundField) -> SafeString:
    """The field's widget with Bootstrap classes, marked invalid when the field has errors."""
    css = WIDGET_CLASSES.get(field.widget_type, "form-control")
    attrs = {"class": f"{css} is-invalid" if field.errors else css}
    if field.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_error"
    elif field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_help"
    return field.as_widget(attrs=attrs)


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else format_money(amount, currency)


@register.filter
def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, "secondary")


@register.filter
def tier_colour(tier: str) -> str:
    return TIER_COLOURS.get(tier, "light")


@register.filter
def strength_meter(strength: int) -> str:
    """Five dots, filled up to the relationship strength: readable without colour."""
    return "●" * strength + "○" * (5 - strength)
