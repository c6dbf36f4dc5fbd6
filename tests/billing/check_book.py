"""A small book of invoices for the invoice checks: every rule's error, and clean invoices.

`CheckWorld` holds one account (a fiscally complete client with its NAM, an active contract
with an agreed price and a billing cap, a confirmed order of two lines, a project with a
completed and an open milestone) and builds invoices on it with `invoice(...)`. Invoices are
written directly (factories and UPDATEs, the way a bulk loader would), not through the
services, so that any error can be seeded; their totals are the sums of their lines unless
`totals=` says otherwise.

`build_check_book(world_count)` makes `world_count` such accounts with one invoice per error
kind and two clean invoices each (15 invoices per account), and returns the invoices with the
rule codes each one must be flagged with. Used by tests/billing/test_checks.py (batch vs one by
one) and by the benchmark.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from billing.models import Invoice, InvoiceLine
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    ContractPriceFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    MilestoneFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ProjectFactory,
    UserFactory,
)

D = Decimal
JULY_1 = datetime.date(2026, 7, 1)
_vat_numbers = itertools.count(10_000_000_001)


def fiscal_client(**kwargs: object) -> object:
    """A client with the fiscal data an e-invoice needs (a unique VAT number, an SDI code)."""
    return ClientFactory(vat_number=f"{next(_vat_numbers):011d}", sdi_code="ABC1234", **kwargs)


@dataclass
class LineSpec:
    """One invoice line: of an order line (its product), a milestone, or a bare product."""

    order_line: object = None
    milestone: object = None
    product: object = None
    quantity: Decimal = Decimal("1")
    unit_price: Decimal | None = None
    discount: Decimal | None = None
    vat_rate: Decimal = Decimal("22.00")
    net_amount: Decimal | None = None  # None: by the rounding rule
    vat_amount: Decimal | None = None


class CheckWorld:
    """One account to invoice (see the module doc)."""

    def __init__(self, *, cap: Decimal = Decimal("100000.00"), finance: object = None) -> None:
        self.finance = finance or UserFactory(username="finance-book")
        self.client = fiscal_client()
        self.nam = AccountTeamMemberFactory(client=self.client, role="nam").user
        self.contract = ContractFactory(
            client=self.client, payment_terms_days=45, default_discount=D("10.00"),
            billing_cap=cap,
        )  # fmt: skip
        self.product_a = ProductFactory()
        self.product_b = ProductFactory(list_price=D("37.03"))
        # Agreed price of product A: 80.00 from 1 January.
        self.price_a = ContractPriceFactory(
            contract=self.contract, product=self.product_a, unit_price=D("80.00")
        )
        self.order = OrderFactory(client=self.client, contract=self.contract, status="confirmed")
        # A at its agreed price; B at list price less the contract's default discount.
        self.line_a = OrderLineFactory(
            order=self.order, product=self.product_a, quantity=D("10"), unit_price=D("80.00"),
            delivered_quantity=D("10"),
        )  # fmt: skip
        self.line_b = OrderLineFactory(
            order=self.order, product=self.product_b, quantity=D("100"), unit_price=D("37.03"),
            discount=D("10"), delivered_quantity=D("100"),
        )  # fmt: skip
        self.project = ProjectFactory(client=self.client, order=self.order)
        self.done = MilestoneFactory(project=self.project, completed_on=datetime.date(2026, 6, 20))
        self.open_milestone = MilestoneFactory(project=self.project)

    def a(self, quantity: str = "1", **kwargs: object) -> LineSpec:
        return LineSpec(order_line=self.line_a, quantity=D(quantity), **kwargs)

    def b(self, quantity: str = "1", **kwargs: object) -> LineSpec:
        return LineSpec(order_line=self.line_b, quantity=D(quantity), **kwargs)

    def invoice(
        self,
        lines: Sequence[LineSpec],
        *,
        issue_date: datetime.date | None = JULY_1,
        due_date: datetime.date | None = None,
        status: str = "issued",
        client: object = None,
        order: object = "default",
        contract: object = "default",
        totals: tuple[Decimal, Decimal] | None = None,
        kind: str = "invoice",
        credits: Invoice | None = None,
    ) -> Invoice:
        """An invoice with these lines; issued on `issue_date` (due by the contract's terms
        unless `due_date`) unless `status="draft"`."""
        invoice = InvoiceFactory(
            kind=kind,
            series="NC" if kind == "credit_note" else "FV",
            credits=credits,
            client=client or self.client,
            order=self.order if order == "default" else order,
            contract=self.contract if contract == "default" else contract,
            created_by=self.finance,
        )
        for position, spec in enumerate(lines, start=1):
            product = spec.product
            price, discount = spec.unit_price, spec.discount
            if spec.order_line is not None:
                product = spec.order_line.product
                price = spec.order_line.unit_price if price is None else price
                discount = spec.order_line.discount if discount is None else discount
            extra = {}
            if spec.net_amount is not None:
                extra["net_amount"] = spec.net_amount
            if spec.vat_amount is not None:
                extra["vat_amount"] = spec.vat_amount
            InvoiceLineFactory(
                invoice=invoice, order_line=spec.order_line, milestone=spec.milestone,
                product=product, quantity=spec.quantity,
                unit_price=price if price is not None else spec.milestone.billable_amount,
                discount=discount or D("0"), vat_rate=spec.vat_rate, position=position, **extra,
            )  # fmt: skip
        sums = InvoiceLine.objects.filter(invoice=invoice).aggregate(
            net=Sum("net_amount"), vat=Sum("vat_amount")
        )
        net, vat = totals or (sums["net"] or D("0"), sums["vat"] or D("0"))
        Invoice.objects.filter(pk=invoice.pk).update(
            net_total=net, vat_total=vat, gross_total=net + vat
        )
        if status != "draft":
            number = Invoice.objects.filter(series=invoice.series).count()
            terms = invoice.contract.payment_terms_days if invoice.contract else 30
            terms = terms if kind == "invoice" else 0
            Invoice.objects.filter(pk=invoice.pk).update(
                status=status, number=number, year=issue_date.year, issue_date=issue_date,
                due_date=due_date or issue_date + datetime.timedelta(days=terms),
                issued_by=self.finance,
            )  # fmt: skip
        elif issue_date is not None and due_date is not None:
            Invoice.objects.filter(pk=invoice.pk).update(issue_date=issue_date, due_date=due_date)
        return Invoice.objects.get(pk=invoice.pk)


@dataclass
class CheckBook:
    invoices: list[Invoice] = field(default_factory=list)
    expected: dict[int, set[str]] = field(default_factory=dict)

    def add(self, invoice: Invoice, *codes: str) -> Invoice:
        self.invoices.append(invoice)
        self.expected[invoice.pk] = set(codes)
        return invoice

    @property
    def ids(self) -> list[int]:
        return [invoice.pk for invoice in self.invoices]


def build_check_book(world_count: int = 2) -> CheckBook:
    """`world_count` accounts x 15 invoices: two clean, one per error kind (see the module doc)."""
    book = CheckBook()
    finance = UserFactory(username="finance-book")
    for _n in range(world_count):
        w = CheckWorld(finance=finance)
        book.add(w.invoice([w.a("2"), w.b("1")]))
        book.add(w.invoice([LineSpec(milestone=w.done)], status="draft", issue_date=None))
        book.add(w.invoice([w.a("1", unit_price=D("85.00"))]), "price_vs_contract",
                 "price_vs_order")  # fmt: skip
        book.add(w.invoice([w.b("1", discount=D("5"))]), "discount_vs_contract", "price_vs_order")
        # Over-billing: 2 + 1 above, + 8 here = 11 of the 10 ordered (and delivered).
        book.add(w.invoice([w.a("8")]), "quantity_vs_ordered", "quantity_vs_delivered")
        book.add(w.invoice([LineSpec(milestone=w.open_milestone)]), "milestone_not_completed")
        late = ContractFactory(
            client=w.client, starts_on=datetime.date(2025, 1, 1),
            ends_on=datetime.date(2025, 12, 31), default_discount=D("10"),
        )  # fmt: skip
        book.add(w.invoice([LineSpec(product=w.product_b, unit_price=D("33.33"),
                                     discount=D("10"))], contract=late, order=None),
                 "contract_validity")  # fmt: skip
        book.add(w.invoice([w.b("1")], due_date=datetime.date(2026, 10, 1)), "due_date_terms")
        book.add(w.invoice([w.b("1", net_amount=D("33.32"))], totals=(D("33.32"), D("7.33"))),
                 "line_arithmetic")  # fmt: skip
        book.add(w.invoice([w.b("1")], totals=(D("40.00"), D("7.33"))), "invoice_totals")
        other = fiscal_client()
        book.add(w.invoice([w.b("1")], client=other), "billed_outside_group")
        bare = ClientFactory()
        book.add(w.invoice([w.b("1")], client=bare), "missing_fiscal_data",
                 "billed_outside_group")  # fmt: skip
        draft_order = OrderFactory(client=w.client, contract=w.contract, status="submitted")
        book.add(w.invoice([], order=draft_order, totals=(D("10.00"), D("2.20"))),
                 "order_not_confirmed", "invoice_totals")  # fmt: skip
        # Two invoices of the same lines a week apart: each a likely duplicate of the other.
        first = w.invoice([LineSpec(product=w.product_b, unit_price=D("33.33"), discount=D("10"),
                                    quantity=D("2"))], order=None)  # fmt: skip
        second = w.invoice([LineSpec(product=w.product_b, unit_price=D("33.33"),
                                     discount=D("10"), quantity=D("2"))], order=None,
                           issue_date=JULY_1 + datetime.timedelta(days=7))  # fmt: skip
        book.add(first, "duplicate_invoice")
        book.add(second, "duplicate_invoice")
        capped = CheckWorld(cap=D("500.00"), finance=finance)
        book.add(capped.invoice([capped.a("4")]))
        book.add(capped.invoice([capped.a("3")]), "contract_cap")
        # The first capped invoice is flagged too: together they bill 560 of a 500 cap.
        book.expected[book.invoices[-2].pk] = {"contract_cap"}
        # The quantity invoices of w bill line A together: each one that bills it is flagged.
        for invoice in book.invoices:
            if invoice.lines.filter(order_line=w.line_a).exists():
                book.expected[invoice.pk] |= {"quantity_vs_ordered", "quantity_vs_delivered"}
    return book
