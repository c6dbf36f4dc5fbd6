"""The invoice list's `contract` filter (billing/filters.py InvoiceFilter, `on_contract`): an
invoice or credit note belongs to a contract through its own contract or, without one, through
its order's, as contract compliance's "billed" counts it. HTML (a dropdown of what the person
sees) and API (ids), and bad ids."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from billing.filters import InvoiceFilter
from billing.models import Invoice
from orders.models import Contract
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    InvoiceFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db


class Book:
    """Alfa (NAM nam) with contracts A and B; Beta (another team, not the NAM's) with C.

    Of A: `own` (its contract is A), `via_order` (no contract, its order's is A), `credit` (a
    credit note of `own`). Not of A: `own_wins` (its contract is B, its order's A: B's),
    `no_contract` (neither), `of_b` (B), `of_c` (Beta's, contract C)."""

    def __init__(self) -> None:
        self.alfa = ClientFactory(name="Alfa")
        self.nam = AccountTeamMemberFactory(client=self.alfa, role="nam").user
        self.a = ContractFactory(client=self.alfa, number="CTR-A")
        self.b = ContractFactory(client=self.alfa, number="CTR-B")
        self.empty = ContractFactory(client=self.alfa, number="CTR-EMPTY")  # nothing billed
        self.beta = ClientFactory(name="Beta")
        self.c = ContractFactory(client=self.beta, number="CTR-C")
        on_a = OrderFactory(client=self.alfa, contract=self.a)
        self.own = InvoiceFactory(client=self.alfa, contract=self.a)
        self.via_order = InvoiceFactory(client=self.alfa, order=on_a)
        self.credit = InvoiceFactory(
            client=self.alfa, contract=self.a, kind="credit_note", series="NC", credits=self.own
        )
        self.own_wins = InvoiceFactory(client=self.alfa, contract=self.b, order=on_a)
        self.no_contract = InvoiceFactory(client=self.alfa)
        self.of_b = InvoiceFactory(client=self.alfa, contract=self.b)
        self.of_c = InvoiceFactory(client=self.beta, contract=self.c)


@pytest.fixture
def book() -> Book:
    return Book()


def filtered(**data: object) -> set[int]:
    return set(InvoiceFilter(data, queryset=Invoice.objects.all()).qs.values_list("pk", flat=True))


def test_an_invoice_belongs_to_its_own_contract_or_else_its_orders(book: Book) -> None:
    assert filtered(contract=book.a.pk) == {book.own.pk, book.via_order.pk, book.credit.pk}
    assert filtered(contract=book.b.pk) == {book.own_wins.pk, book.of_b.pk}
    assert filtered(contract=book.empty.pk) == set()


def test_the_html_list_filters_by_a_contract_from_a_dropdown_of_what_the_person_sees(
    book: Book, login: Callable[[User], HttpClient]
) -> None:
    http = login(book.nam)
    response = http.get(reverse("billing:invoice_list"), {"contract": book.a.pk})
    rows = {invoice.pk for invoice in response.context["page"].object_list}
    assert rows == {book.own.pk, book.via_order.pk, book.credit.pk}
    field = response.context["filter"].form.fields["contract"]
    # The contracts of the NAM's invoices (Beta's C is not theirs); an empty one only when the
    # URL names it (a link from a contract that has billed nothing yet).
    assert [value for value, _label in field.choices] == ["", book.a.pk, book.b.pk]
    assert dict(field.choices)[book.a.pk] == "CTR-A (Alfa)"
    response = http.get(reverse("billing:invoice_list"), {"contract": book.empty.pk})
    assert book.empty.pk in dict(response.context["filter"].form.fields["contract"].choices)
    assert list(response.context["page"].object_list) == []
    assert 'name="contract"' in response.content.decode()


def test_the_html_list_refuses_a_contract_the_person_does_not_see(
    book: Book, login: Callable[[User], HttpClient]
) -> None:
    http = login(book.nam)
    for bad in (book.c.pk, "abc", 10**12):
        response = http.get(reverse("billing:invoice_list"), {"contract": bad})
        assert response.status_code == 200
        assert "contract" in response.context["filter"].form.errors, bad
        # The bad filter filters nothing and reveals nothing: the NAM's own invoices.
        rows = {invoice.pk for invoice in response.context["page"].object_list}
        assert book.of_c.pk not in rows
        assert book.no_contract.pk in rows


def test_the_api_filters_by_contract_and_refuses_a_bad_id(
    book: Book, login: Callable[[User], HttpClient], finance: User
) -> None:
    http = login(finance)
    response = http.get("/api/v1/invoices/", {"contract": book.a.pk})
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {book.own.pk, book.via_order.pk, book.credit.pk}
    assert http.get("/api/v1/invoices/", {"contract": "abc"}).status_code == 400
    huge = http.get("/api/v1/invoices/", {"contract": 10**20})
    assert (huge.status_code, huge.json()["results"]) == (200, [])  # no such contract
    # Another person's contract: only what the person sees of it (nothing).
    http = login(book.nam)
    response = http.get("/api/v1/invoices/", {"contract": book.c.pk})
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert Contract.objects.filter(pk=book.c.pk).exists()
