"""Presentation helpers for the orders pages: status badges."""

from __future__ import annotations

from django import template

register = template.Library()

# Bootstrap colour of each status or stage badge; the badge text always says it in words.
BADGE_COLOURS = {
    "draft": "secondary", "submitted": "info", "confirmed": "primary", "in_progress": "warning",
    "fulfilled": "success", "cancelled": "dark", "active": "success", "expired": "secondary",
    "terminated": "dark", "qualification": "secondary", "proposal": "info",
    "negotiation": "warning", "won": "success", "lost": "dark",
}  # fmt: skip


@register.filter
def badge_colour(status: str) -> str:
    return BADGE_COLOURS.get(status, "secondary")
