"""Italian and EU fiscal identifiers, checked with python-stdnum; messages for people."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale, iva

SDI_CODE = re.compile(r"^[A-Z0-9]{7}$")
# The recipient code that means "no channel: deliver to the PEC address".
SDI_CODE_PEC = "0000000"


def normalize_vat_number(value: str) -> str:
    """Compact form: no spaces or dots; an Italian number without its IT prefix."""
    compact = re.sub(r"[\s.\-]", "", value or "").upper()
    return compact[2:] if compact.startswith("IT") else compact


def validate_vat_number(value: str) -> None:
    """An Italian Partita IVA (11 digits), or an EU VAT number with its country prefix."""
    number = normalize_vat_number(value)
    if not number:
        return
    if number.isdigit():
        try:
            iva.validate(number)
        except StdnumError:
            raise ValidationError(
                _("%(value)s is not a valid Italian VAT number (Partita IVA)."),
                code="invalid_vat_number",
                params={"value": value},
            ) from None
        return
    try:
        eu_vat.validate(number)
    except StdnumError:
        raise ValidationError(
            _(
                "%(value)s is not a valid VAT number: use 11 digits for Italy, or the country "
                "prefix and number for another EU country (e.g. ESB12345674)."
            ),
            code="invalid_vat_number",
            params={"value": value},
        ) from None


def validate_tax_code(value: str) -> None:
    """Codice fiscale: 16 characters for a person, 11 digits for a company."""
    if value and not codicefiscale.is_valid(value):
        raise ValidationError(
            _("%(value)s is not a valid Italian tax code (codice fiscale)."),
            code="invalid_tax_code",
            params={"value": value},
        )


def validate_sdi_code(value: str) -> None:
    # Case does not matter to people; Client.clean() stores it upper-case.
    if value and not SDI_CODE.match(value.strip().upper()):
        raise ValidationError(
            _("The SDI recipient code has exactly 7 letters or digits (e.g. M5UXCR1)."),
            code="invalid_sdi_code",
        )
