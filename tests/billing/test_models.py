"""Every constraint of billing/models.py, violated once."""

from __future__ import annotations

import pytest

from tests.factories import InvoiceLineFactory


@pytest.mark.django_db
def test_it_creates_a_line_with_the_rounding_rule() -> None:
    line = InvoiceLineFactory(quantity="3", unit_price="33.33", discount="10")
    assert str(line.net_amount) == "89.99"
