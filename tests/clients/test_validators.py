import pytest
from django.core.exceptions import ValidationError

from clients.validators import (
    normalize_vat_number,
    validate_sdi_code,
    validate_tax_code,
    validate_vat_number,
)


@pytest.mark.parametrize("value", ["04123450159", "IT 041 234 50159", "ESB12345674", ""])
def test_it_accepts_valid_vat_numbers(value: str) -> None:
    validate_vat_number(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("04123450158", "not a valid Italian VAT number"),
        ("0412345015", "not a valid Italian VAT number"),
        ("ESB12345670", "not a valid VAT number"),
        ("XX123", "not a valid VAT number"),
    ],
)
def test_it_rejects_invalid_vat_numbers_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_vat_number(value)


def test_it_normalizes_vat_numbers() -> None:
    assert normalize_vat_number(" it 04123450159 ") == "04123450159"
    assert normalize_vat_number("ESB12345674") == "ESB12345674"


@pytest.mark.parametrize("value", ["RSSMRA85T10A562S", "04123450159", ""])
def test_it_accepts_valid_tax_codes(value: str) -> None:
    validate_tax_code(value)


def test_it_rejects_an_invalid_tax_code() -> None:
    with pytest.raises(ValidationError, match="not a valid Italian tax code"):
        validate_tax_code("RSSMRA85T10A562X")


@pytest.mark.parametrize("value", ["M5UXCR1", "m5uxcr1", "0000000", ""])
def test_it_accepts_sdi_codes(value: str) -> None:
    validate_sdi_code(value)


@pytest.mark.parametrize("value", ["M5UXCR", "M5UXCR12", "M5-XCR1"])
def test_it_rejects_malformed_sdi_codes(value: str) -> None:
    with pytest.raises(ValidationError, match="exactly 7"):
        validate_sdi_code(value)
