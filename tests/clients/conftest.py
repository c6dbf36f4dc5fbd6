from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Service and model messages are asserted in English; the product's default is Italian.

    Only the test's own thread: HTTP requests still pick their language from the cookie or the
    browser (LocaleMiddleware), and tests of the Italian messages ask for Italian explicitly.
    """
    with translation.override("en"):
        yield
