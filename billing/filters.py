"""FilterSets shared by the HTML lists and the API (billing)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from billing.models import CheckFinding, Invoice, Payment
from clients.filters import ClientScopeFilters, StableOrderingFilter

# Invoices and credit notes that count in revenue: issued, partially paid or paid, and a credit
# note only while the invoice it credits is not cancelled. A cancelled invoice (cancelled by
# credit notes reaching its gross) is left out with its credit notes: together they net to 0.
REVENUE_STATUSES = ("issued", "partially_paid", "paid")


def in_revenue() -> Q:
    """The invoices and credit notes that revenue sums (REVENUE_STATUSES): the dashboards'
    revenue figures and the invoice list's `in_revenue` filter behind them."""
    cancelled = Invoice.objects.filter(pk=OuterRef("credits_id"), status=Invoice.Status.CANCELLED)
    # An EXISTS looked up for credit notes only, not a join of every invoice to its credited one.
    return Q(status__in=REVENUE_STATUSES) & (Q(kind=Invoice.Kind.INVOICE) | ~Exists(cancelled))


def on_contract(contracts: object) -> Q:
    """Invoices and credit notes of `contracts` (ids or a subquery of ids): through their own
    contract or, without one, through their order's. What contract compliance's "billed" sums
    (dashboards/compliance.py) and the list's `contract` filter shows."""
    return Q(contract__in=contracts) | Q(contract__isnull=True, order__contract__in=contracts)


class InvoiceFilter(ClientScopeFilters):
    """For `selectors.invoice_list` (it annotates overdue, open_findings, ...). `nam`, `team`,
    `region`, `industry` and `mine` are on the client (clients.filters.ClientScopeFilters)."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client"))
    contract = django_filters.NumberFilter(method="filter_contract", label=_("Contract"))
    overdue = django_filters.BooleanFilter(field_name="overdue", label=_("Overdue"))
    # Issued, partially paid or paid: what the dashboards' net invoiced (revenue) adds up.
    in_revenue = django_filters.BooleanFilter(method="filter_in_revenue", label=_("Revenue"))
    has_open_findings = django_filters.BooleanFilter(
        method="filter_has_open_findings", label=_("Has open findings")
    )
    rule = django_filters.CharFilter(method="filter_rule", label=_("Rule"))
    issued_after = django_filters.DateFilter(
        field_name="issue_date", lookup_expr="gte", label=_("Issued from")
    )
    issued_before = django_filters.DateFilter(
        field_name="issue_date", lookup_expr="lte", label=_("Issued to")
    )
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label=_("Due from")
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label=_("Due to")
    )
    # Invoices with a payment received in the period (the finance dashboard's collected bars).
    paid_after = django_filters.DateFilter(method="filter_paid", label=_("Paid from"))
    paid_before = django_filters.DateFilter(method="filter_paid", label=_("Paid to"))
    ordering = StableOrderingFilter(
        fields=(("issue_date", "issue_date"), ("due_date", "due_date"), ("number", "number"),
                ("client__name", "client"), ("gross_total", "gross_total"),
                ("outstanding", "outstanding"), ("amount_at_stake", "amount_at_stake"),
                ("status", "status")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = Invoice
        fields = ["q", "status", "check_status", "kind", "client", "contract", "nam", "overdue",
                  "in_revenue", "has_open_findings", "rule", "issued_after", "issued_before",
                  "due_after", "due_before", "paid_after", "paid_before"]  # fmt: skip

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        condition = (
            Q(client__name__icontains=value)
            | Q(order__number__icontains=value)
            | Q(notes__icontains=value)
        )
        # "FV-2026/00012", "2026/12" or "12" find the numbered invoice.
        digits = value.rsplit("/", 1)[-1].lstrip("0")
        if digits.isdigit():
            condition |= Q(number=int(digits))
        return queryset.filter(condition)

    def filter_contract(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(on_contract([value]))

    def filter_in_revenue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        revenue = in_revenue()
        return queryset.filter(revenue if value else ~revenue)

    def filter_has_open_findings(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(open_findings__gt=0) if value else queryset.filter(open_findings=0)

    def filter_paid(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        # Both ends in one EXISTS: "a payment in [after, before]", not two separate payments.
        bounds = {
            "paid_on__gte": self.form.cleaned_data.get("paid_after"),
            "paid_on__lte": self.form.cleaned_data.get("paid_before"),
        }
        if name == "paid_before" and bounds["paid_on__gte"] is not None:
            return queryset  # paid_after already applied both ends
        payments = Payment.objects.filter(
            invoice=OuterRef("pk"), **{k: v for k, v in bounds.items() if v is not None}
        )
        return queryset.filter(Exists(payments))

    def filter_rule(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Exists(CheckFinding.objects.filter(invoice=OuterRef("pk"), rule=value, status="open"))
        )


class FindingFilter(ClientScopeFilters):
    """For `selectors.review_queue`; `nam`, `team`, ... are on the invoice's client."""

    client_path = "invoice__client"

    rule = django_filters.CharFilter(field_name="rule", label=_("Rule"))
    client = django_filters.NumberFilter(field_name="invoice__client_id", label=_("Client"))
    invoice = django_filters.NumberFilter(field_name="invoice_id", label=_("Invoice"))
    min_amount_at_stake = django_filters.NumberFilter(
        field_name="amount_at_stake", lookup_expr="gte", label=_("Amount at stake from")
    )
    ordering = StableOrderingFilter(
        fields=(("amount_at_stake", "amount_at_stake"), ("rule", "rule"),
                ("first_seen_at", "first_seen_at"), ("invoice__client__name", "client")),
        label=_("Sort by"),
    )  # fmt: skip

    class Meta:
        model = CheckFinding
        fields = ["rule", "severity", "status", "client", "invoice", "nam", "min_amount_at_stake"]
