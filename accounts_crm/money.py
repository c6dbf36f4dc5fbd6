"""Money: Decimal with an explicit currency, one precision and one rounding rule for the product.

Rounding rule (used by totals everywhere, and the one FatturaPA expects): amounts are rounded to
MONEY_DECIMAL_PLACES with ROUND_HALF_UP, per line, then summed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext_lazy as _

CURRENCY_MAX_LENGTH = 3


def quantize(amount: Decimal | int | str) -> Decimal:
    """Round an amount to the product's money precision, half up."""
    exponent = Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def MoneyField(verbose_name: Any = None, **kwargs: Any) -> models.DecimalField:
    """A DecimalField with the product's money precision (pair it with a currency field)."""
    kwargs.setdefault("max_digits", settings.MONEY_MAX_DIGITS)
    kwargs.setdefault("decimal_places", settings.MONEY_DECIMAL_PLACES)
    return models.DecimalField(verbose_name, **kwargs)


def CurrencyField(verbose_name: Any = None, **kwargs: Any) -> models.CharField:
    """ISO 4217 code, EUR by default."""
    kwargs.setdefault("max_length", CURRENCY_MAX_LENGTH)
    kwargs.setdefault("default", settings.DEFAULT_CURRENCY)
    return models.CharField(verbose_name or _("currency"), **kwargs)


def format_money(amount: Decimal, currency: str) -> str:
    """Amount in the active locale's number format, followed by the currency code.

    The same text as Django's `number_format(..., force_grouping=True)`, written by Python's
    own grouping when the locale groups by threes (Italian, English): a dashboard shows
    thousands of amounts, and number_format took 25 us each. Other groupings go to Django.
    """
    places = settings.MONEY_DECIMAL_PLACES
    value = quantize(amount) + 0  # + 0: no "-0.00"
    if get_format("NUMBER_GROUPING") != 3:
        return f"{number_format(value, places, force_grouping=True)} {currency}"
    text = f"{value:,.{places}f}"
    decimal, thousands = get_format("DECIMAL_SEPARATOR"), get_format("THOUSAND_SEPARATOR")
    if (decimal, thousands) != (".", ","):
        text = text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
    return f"{text} {currency}"
