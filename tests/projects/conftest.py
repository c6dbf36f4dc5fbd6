from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Messages are asserted in English; the Italian catalogue is tested elsewhere."""
    with translation.override("en"):
        yield
