"""Typed readers for the environment that stop start-up with a message naming the variable.

Settings are 12-factor: every knob is an environment variable documented in `.env.example`.
A value that cannot be parsed must never be silently replaced by a default, so each reader
raises `ImproperlyConfigured` with the variable's name and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_MISSING = object()


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str, default: object) -> str | object:
        value = self.environ.get(name)
        if value is None:
            if default is _MISSING:
                raise ImproperlyConfigured(f"Set the {name} environment variable.")
            return default
        return value.strip()

    def str(self, name: str, default: str | object = _MISSING) -> str:
        value = self._raw(name, default)
        if value == "" and default is _MISSING:
            raise ImproperlyConfigured(f"The {name} environment variable is empty.")
        return value  # type: ignore[return-value]

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name, default)
        if isinstance(value, bool):
            return value
        lowered = value.lower()  # type: ignore[union-attr]
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean: use one of true/false, 1/0, yes/no, on/off."
        )

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self._raw(name, default)
        try:
            number = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
        return number

    def decimal(self, name: str, default: str, *, minimum: Decimal = Decimal(0)) -> str | None:
        """A number kept as written (for a setting passed on as text); "" gives None."""
        value = self._raw(name, default)
        if value == "":
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
        if not number.is_finite() or number < minimum:
            raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
        return str(value)

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self._raw(name, _MISSING if default is None else ",".join(default))
        return [item.strip() for item in value.split(",") if item.strip()]  # type: ignore[union-attr]

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.str(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
        return value

    def url(self, name: str, schemes: tuple[str, ...], default: str | None = None) -> str | None:
        value = self._raw(name, default)
        if value is None:
            return None
        if not isinstance(value, str) or "://" not in value:
            raise ImproperlyConfigured(f"{name}={value!r} is not a URL.")
        scheme = value.split("://", 1)[0]
        if scheme not in schemes:
            raise ImproperlyConfigured(
                f"{name} uses the scheme {scheme!r}; expected one of: {', '.join(schemes)}."
            )
        return value
