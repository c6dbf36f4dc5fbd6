"""accounts_crm.pages' panels: what one app shows on another app's detail page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from accounts_crm import pages


@pytest.fixture
def panels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PAGE_PANELS", type(pages.PAGE_PANELS)(list))


def first(request: Any, row: Any) -> str:
    return f"<p>first {row}</p>"


def only_even(request: Any, row: Any) -> str | None:
    return "<p>even</p>" if row % 2 == 0 else None


def test_it_renders_the_panels_of_a_page_in_registration_order(panels: None) -> None:
    pages.register_page_panel("orders.contract", first)
    pages.register_page_panel("orders.contract", only_even)
    pages.register_page_panel("orders.contract", first)  # a second ready() adds nothing
    request = RequestFactory().get("/")
    assert pages.page_panels(request, "orders.contract", 2) == ["<p>first 2</p>", "<p>even</p>"]
    assert pages.page_panels(request, "orders.contract", 3) == ["<p>first 3</p>"]
    assert pages.page_panels(request, "orders.order", 2) == []
