"""Reads of billing: lists, details, receivables aging, the review queue, uninvoiced quantities.

Everything a person sees starts from `visible_to(user)`. Aggregates are SQL (subqueries and
conditional sums), so a list costs the same few queries whatever its length.

What counts as invoiced (one rule, used by invoice_from_order, invoice_from_milestones and the
checks): the quantities on lines of invoices (kind invoice) that are not cancelled, drafts
included (a draft reserves what it bills, so two drafts do not bill the same thing), less the
quantities on lines of ISSUED credit notes of invoices that are not cancelled (a draft credit
note has not credited anything yet; a cancelled invoice and its full credit note both drop out).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts_crm.access import AnyUser
from billing.models import (
    ISSUED_STATUSES,
    OPEN_STATUSES,
    ZERO,
    CheckFinding,
    EInvoiceExport,
    FindingComment,
    Invoice,
    InvoiceLine,
    Payment,
)
from clients.models import AccountTeamMember, Client
from orders.models import Contract, Order, OrderLine
from projects.models import Milestone

MONEY = DecimalField(max_digits=16, decimal_places=2)
QTY = DecimalField(max_digits=14, decimal_places=3)

AGING_BUCKETS = ("current", "days_0_30", "days_31_60", "days_61_90", "days_over_90")


# What counts as invoiced -----------------------------------------------------------------------


def _billed_lines(prefix: str = "") -> tuple[Q, Q]:
    """Filters on invoice lines (reached through `prefix`) that bill / credit, by the one rule."""
    p = f"{prefix}invoice__"
    billed = Q(**{f"{p}kind": Invoice.Kind.INVOICE}) & ~Q(**{f"{p}status": "cancelled"})
    credited = (
        Q(**{f"{p}kind": Invoice.Kind.CREDIT_NOTE, f"{p}status__in": ISSUED_STATUSES})
        & ~Q(**{f"{p}credits__status": "cancelled"})
    )  # fmt: skip
    return billed, credited


def with_invoiced_quantity(order_lines: QuerySet[OrderLine]) -> QuerySet[OrderLine]:
    """Annotate order lines with `invoiced_quantity` (net of credit notes) and
    `uninvoiced_quantity` (ordered less invoiced, never below 0): one aggregate, set-based."""
    billed, credited = _billed_lines("invoice_lines__")
    return order_lines.annotate(
        invoiced_quantity=Coalesce(
            Sum("invoice_lines__quantity", filter=billed), Value(Decimal("0")), output_field=QTY
        )
        - Coalesce(
            Sum("invoice_lines__quantity", filter=credited), Value(Decimal("0")), output_field=QTY
        ),
        uninvoiced_quantity=Greatest(F("quantity") - F("invoiced_quantity"), Value(Decimal("0"))),
    )


def uninvoiced_quantities(*, order: Order) -> dict[int, Decimal]:
    """Order line id -> quantity not yet invoiced (0 when fully invoiced). A system read for the
    services and the checks: the caller has already checked that the order may be seen."""
    lines = with_invoiced_quantity(OrderLine.objects.filter(order=order))
    return dict(lines.values_list("pk", "uninvoiced_quantity"))


def with_invoiced_milestone(milestones: QuerySet[Milestone]) -> QuerySet[Milestone]:
    """Annotate milestones with `invoiced_quantity` (how many times billed, net of credit notes;
    a milestone is billed as quantity 1) and `is_invoiced`."""
    billed, credited = _billed_lines("invoice_lines__")
    return milestones.annotate(
        invoiced_quantity=Coalesce(
            Sum("invoice_lines__quantity", filter=billed), Value(Decimal("0")), output_field=QTY
        )
        - Coalesce(
            Sum("invoice_lines__quantity", filter=credited), Value(Decimal("0")), output_field=QTY
        ),
        is_invoiced=ExpressionWrapper(Q(invoiced_quantity__gt=0), output_field=BooleanField()),
    )


def billable_milestones(milestones: QuerySet[Milestone]) -> QuerySet[Milestone]:
    """Completed milestones with a billable amount that are not invoiced yet."""
    return with_invoiced_milestone(
        milestones.filter(completed_on__isnull=False, billable_amount__gt=0)
    ).filter(invoiced_quantity__lte=0)


# Lists and details -------------------------------------------------------------------------


def _credited_amount() -> Subquery:
    """Gross of the issued credit notes of the outer invoice."""
    return Subquery(
        Invoice.objects.filter(
            credits=OuterRef("pk"), kind=Invoice.Kind.CREDIT_NOTE, status__in=ISSUED_STATUSES
        )
        .order_by()
        .values("credits")
        .annotate(total=Sum("gross_total"))
        .values("total"),
        output_field=MONEY,
    )


def credited_amount(*, invoice: Invoice) -> Decimal:
    """Gross of the issued credit notes of `invoice` (system read for the services)."""
    return Invoice.objects.filter(
        credits=invoice, kind=Invoice.Kind.CREDIT_NOTE, status__in=ISSUED_STATUSES
    ).aggregate(total=Coalesce(Sum("gross_total"), Value(ZERO), output_field=MONEY))["total"]


def _open_findings(**filters: object) -> QuerySet:
    return (
        CheckFinding.objects.filter(invoice=OuterRef("pk"), status="open", **filters)
        .order_by()
        .values("invoice")
    )


def _active_nam_id() -> Subquery:
    return Subquery(
        AccountTeamMember.objects.active()
        .filter(client=OuterRef("client_id"), role=AccountTeamMember.Role.NAM)
        .values("user_id")[:1]
    )


def with_receivables(invoices: QuerySet[Invoice], today: datetime.date | None = None) -> QuerySet:
    """Annotate `credited`, `outstanding` (what the client still owes: open invoices only) and
    `overdue` (an open invoice past its due date; `Invoice.is_overdue()` is the same rule for
    one invoice in memory)."""
    today = today or timezone.localdate()
    is_open = Q(kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES)
    return invoices.annotate(
        credited=Coalesce(_credited_amount(), Value(ZERO), output_field=MONEY),
        outstanding=Case(
            When(
                is_open,
                then=Greatest(F("gross_total") - F("amount_paid") - F("credited"), Value(ZERO)),
            ),
            default=Value(ZERO),
            output_field=MONEY,
        ),
        overdue=Case(
            When(is_open & Q(due_date__lt=today), then=Value(True)),
            default=Value(False),
        ),
    )


def invoice_list(*, user: AnyUser, today: datetime.date | None = None) -> QuerySet[Invoice]:
    """Visible invoices with what a list row shows: client, order, open findings and errors,
    amount at stake, `outstanding`, `overdue`, the client's NAM (`nam_id`). One query."""
    invoices = Invoice.objects.visible_to(user).select_related("client", "order", "contract")
    return with_receivables(invoices, today).annotate(
        open_findings=Coalesce(
            Subquery(_open_findings().annotate(n=Count("pk")).values("n")), Value(0)
        ),
        open_errors=Coalesce(
            Subquery(_open_findings(severity="error").annotate(n=Count("pk")).values("n")),
            Value(0),
        ),
        amount_at_stake=Coalesce(
            Subquery(_open_findings().annotate(s=Sum("amount_at_stake")).values("s")),
            Value(ZERO),
            output_field=MONEY,
        ),
        nam_id=_active_nam_id(),
    )


def invoice_detail(*, user: AnyUser, pk: int) -> Invoice:
    """One visible invoice with its lines, payments, findings (and their comments) prefetched.
    Raises Invoice.DoesNotExist when the user may not see it (views answer 404)."""
    findings = CheckFinding.objects.select_related(
        "line", "overridden_by", "compared_to_type"
    ).prefetch_related(
        Prefetch("comments", queryset=FindingComment.objects.select_related("author"))
    )
    return (
        invoice_list(user=user)
        .select_related("credits", "created_by", "issued_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.select_related("product", "order_line", "milestone"),
            ),
            Prefetch("payments", queryset=Payment.objects.select_related("recorded_by")),
            Prefetch("findings", queryset=findings),
            "credit_notes",
        )
        .get(pk=pk)
    )


def review_queue(*, user: AnyUser) -> QuerySet[CheckFinding]:
    """Open findings on visible invoices, the largest amount at stake first, with the invoice,
    its client, the line and the client's NAM; filter with FindingFilter (rule, client, NAM,
    amount at stake)."""
    return (
        CheckFinding.objects.visible_to(user)
        .filter(status=CheckFinding.Status.OPEN)
        .select_related("invoice__client", "line", "compared_to_type")
        .annotate(
            nam_id=Subquery(
                AccountTeamMember.objects.active()
                .filter(client=OuterRef("invoice__client_id"), role=AccountTeamMember.Role.NAM)
                .values("user_id")[:1]
            )
        )
        .order_by("-amount_at_stake", "invoice_id", "rule", "key")
    )


def review_queue_by_rule(*, user: AnyUser) -> QuerySet:
    """The review queue grouped by rule: open findings, invoices and amount at stake per rule."""
    return (
        CheckFinding.objects.visible_to(user)
        .filter(status=CheckFinding.Status.OPEN)
        .order_by()
        .values("rule")
        .annotate(
            findings=Count("pk"),
            invoices=Count("invoice", distinct=True),
            amount_at_stake=Sum("amount_at_stake"),
        )
        .order_by("-amount_at_stake", "rule")
    )


def invoices_with_open_errors(invoice_ids: list[int]) -> set[int]:
    """Which of these invoices have open error findings (cannot be issued)."""
    return set(
        CheckFinding.objects.filter(
            invoice_id__in=invoice_ids, status="open", severity="error"
        ).values_list("invoice_id", flat=True)
    )


# Receivables -------------------------------------------------------------------------------


def _aging_buckets(today: datetime.date) -> dict[str, Q]:
    """The open invoices' buckets by days past due: `current` not yet due (or no due date),
    `days_0_30` 0 to 30 days late ... `days_over_90`."""
    return {
        "current": Q(due_date__gte=today) | Q(due_date__isnull=True),
        "days_0_30": Q(due_date__lt=today, due_date__gte=today - datetime.timedelta(days=30)),
        "days_31_60": Q(
            due_date__lt=today - datetime.timedelta(days=30),
            due_date__gte=today - datetime.timedelta(days=60),
        ),
        "days_61_90": Q(
            due_date__lt=today - datetime.timedelta(days=60),
            due_date__gte=today - datetime.timedelta(days=90),
        ),
        "days_over_90": Q(due_date__lt=today - datetime.timedelta(days=90)),
    }


def _open_receivables(*, user: AnyUser, today: datetime.date) -> QuerySet[Invoice]:
    return with_receivables(
        Invoice.objects.visible_to(user).filter(
            kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES
        ),
        today,
    )


def receivables_aging(*, user: AnyUser, today: datetime.date | None = None) -> QuerySet[Client]:
    """Per visible client with something outstanding: the outstanding amount by days past due
    (`current` not yet due, `days_0_30` 0 to 30 days late ... `days_over_90`) and `total`.

    One grouped query over the open invoices (credit notes subtract through their invoice).
    """
    today = today or timezone.localdate()
    rows = (
        _open_receivables(user=user, today=today)
        .order_by()
        .values("client_id", "client__name", "currency")
        .annotate(
            **{
                name: Coalesce(Sum("outstanding", filter=cond), Value(ZERO), output_field=MONEY)
                for name, cond in _aging_buckets(today).items()
            },
            total=Coalesce(Sum("outstanding"), Value(ZERO), output_field=MONEY),
        )
        .filter(total__gt=0)
        .order_by("-total", "client__name")
    )
    return rows


def receivables_by_bucket(
    *, user: AnyUser, today: datetime.date | None = None
) -> dict[str, Decimal]:
    """The visible book's outstanding amount per bucket of `receivables_aging` (the same
    buckets and amounts, summed over the clients), and `total`.

    One query grouped by bucket: each open invoice's outstanding amount (which reads its credit
    notes) is computed once, where a sum per bucket column computed it once per column.
    """
    today = today or timezone.localdate()
    buckets = _aging_buckets(today)
    bucket = Case(*(When(cond, then=Value(name)) for name, cond in buckets.items()))
    totals = dict.fromkeys(buckets, ZERO)
    for row in (
        _open_receivables(user=user, today=today)
        .annotate(bucket=bucket)
        .order_by()
        .values("bucket")
        .annotate(amount=Coalesce(Sum("outstanding"), Value(ZERO), output_field=MONEY))
    ):
        totals[row["bucket"]] = row["amount"]
    totals["total"] = sum(totals.values(), ZERO)
    return totals


def client_billing_summary(*, user: AnyUser, client: Client) -> dict[str, object]:
    """For the client page: open balance, overdue amount and open findings of one client."""
    today = timezone.localdate()
    invoices = with_receivables(Invoice.objects.visible_to(user).filter(client=client), today)
    late = Q(kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES, due_date__lt=today)
    totals = invoices.aggregate(
        open_balance=Coalesce(Sum("outstanding"), Value(ZERO), output_field=MONEY),
        overdue=Coalesce(Sum("outstanding", filter=late), Value(ZERO), output_field=MONEY),
    )
    totals["open_findings"] = (
        CheckFinding.objects.visible_to(user).filter(invoice__client=client, status="open").count()
    )
    return totals


# Choices of the HTML filters ---------------------------------------------------------------


def invoice_filter_choices(*, user: AnyUser) -> dict[str, list[tuple[object, str]]]:
    """The id filters of the HTML invoice list and review queue as choices of what the person
    sees: the clients of visible invoices, their NAMs, and the rules with open findings. Three
    queries, whatever the size of the book; the API keeps taking plain ids and codes."""
    invoices = Invoice.objects.visible_to(user)
    clients = Client.objects.filter(pk__in=invoices.values("client_id")).order_by("name", "pk")
    nams = (
        AccountTeamMember.objects.active()
        .filter(role=AccountTeamMember.Role.NAM, client_id__in=invoices.values("client_id"))
        .order_by("user__last_name", "user__first_name", "user__username", "user_id")
        .values_list("user_id", "user__first_name", "user__last_name", "user__username")
        .distinct()
    )
    rules = (
        CheckFinding.objects.visible_to(user)
        .filter(status=CheckFinding.Status.OPEN)
        .order_by("rule")
        .values_list("rule", flat=True)
        .distinct()
    )
    return {
        "client": list(clients.values_list("pk", "name")),
        "nam": [(pk, f"{first} {last}".strip() or username) for pk, first, last, username in nams],
        "rule": [(rule, rule) for rule in rules],
    }


def invoice_contract_choices(*, user: AnyUser, selected: object = None) -> list[tuple[object, str]]:
    """The invoice list's contract filter as choices: the visible contracts of visible invoices
    (their own contract or, without one, their order's), plus the one `selected` already names
    if the person sees it (a link from a contract that has billed nothing yet). One query."""
    invoices = Invoice.objects.visible_to(user)
    value = str(selected or "")
    chosen = Q(pk=int(value)) if value.isdigit() and len(value) < 10 else Q(pk__in=[])
    contracts = Contract.objects.visible_to(user).filter(
        Q(pk__in=invoices.values("contract_id"))
        | Q(pk__in=invoices.filter(contract__isnull=True).values("order__contract_id"))
        | chosen
    )
    return [
        (pk, f"{number} ({client})")
        for pk, number, client in contracts.order_by("number", "pk").values_list(
            "pk", "number", "client__name"
        )
    ]


def client_findings(*, user: AnyUser, client: Client) -> QuerySet[CheckFinding]:
    """The open findings on one client's visible invoices (the client page), largest amount at
    stake first, with their comments and authors prefetched."""
    return (
        review_queue(user=user)
        .filter(invoice__client=client)
        .prefetch_related(
            Prefetch("comments", queryset=FindingComment.objects.select_related("author"))
        )
    )


def einvoice_exports(*, invoice: Invoice) -> list[EInvoiceExport]:
    """The invoice's exported e-invoice files, newest first, with who exported them; their XML
    is left out (it is read only when a file is downloaded). Two tables, one query."""
    return list(
        EInvoiceExport.objects.filter(invoice=invoice)
        .select_related("created_by")
        .defer("xml")
        .order_by("-created_at", "-pk")
    )
