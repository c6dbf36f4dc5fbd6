"""Form widgets of our own, where Django's cost too much on a large book."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

SELECTED = mark_safe(" selected")


class LongSelect(forms.Select):
    """A <select> for long lists of choices (the clients finance sees: 2,000 on the large book).

    Django's Select renders every <option> through a template include of its own: 2,000 options
    took about 200 ms a dropdown, most of a list page's time. This one writes the same markup
    (value, selected, label, escaped) in one pass with `format_html_join`; the <select> keeps
    the attributes it is given (classes, aria-*) like any widget. Flat choices only: a choice
    list with groups is rendered by Django's Select as usual.
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        choices = list(self.choices)
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        selected = set(self.format_value(value))
        keys = ("" if key is None else str(key) for key, _label in choices)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, SELECTED if key in selected else "", label)
                for key, (_key, label) in zip(keys, choices, strict=True)
            ),
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt({k: v for k, v in final_attrs.items() if v is not None}),
            options,
        )
