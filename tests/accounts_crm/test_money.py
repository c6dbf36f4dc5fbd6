from decimal import Decimal

import pytest
from django.utils import translation

from accounts_crm.money import format_money, quantize


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("2.675", "2.68"),  # half up, where binary floats would give 2.67
        ("2.665", "2.67"),
        ("-2.675", "-2.68"),
        ("10", "10.00"),
        (Decimal("0.005"), "0.01"),
    ],
)
def test_it_rounds_money_half_up_to_cents(amount, expected) -> None:
    assert quantize(amount) == Decimal(expected)


def test_it_formats_money_in_the_active_locale() -> None:
    with translation.override("it"):
        assert format_money(Decimal("1234567.891"), "EUR") == "1.234.567,89 EUR"
    with translation.override("en"):
        assert format_money(Decimal("1234567.891"), "EUR") == "1,234,567.89 EUR"


@pytest.mark.parametrize("language", ["it", "en", "de", "fr", "hi"])
def test_it_writes_what_djangos_number_format_writes(language: str) -> None:
    from django.utils.formats import number_format

    amounts = [Decimal("0"), Decimal("-0.004"), Decimal("0.5"), Decimal("999.995"),
               Decimal("1000"), Decimal("-1234567.891"), Decimal("123456789012.345")]  # fmt: skip
    with translation.override(language):
        for amount in amounts:
            expected = number_format(quantize(amount), 2, force_grouping=True)
            assert format_money(amount, "EUR") == f"{expected} EUR", amount
