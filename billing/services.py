"""Writes on invoices, credit notes, payments and check findings: atomic, policy-checked,
audited by triggers, and each invoice change enqueues its check on commit (`enqueue_check`).

Decisions worth knowing:

- Totals follow billing/models.py's rounding rule; every line write recomputes the invoice's
  totals in SQL from its lines, under the invoice's row lock.
- Creating from an order refuses a CANCELLED order (nothing there is owed). Draft, submitted or
  confirmed orders are accepted: invoicing an unconfirmed order is something the checks flag
  (with the reason visible to finance), not something the service hides.
- A number is given only by `invoice_issue`, from the InvoiceCounter row of (series, year),
  incremented by INSERT ... ON CONFLICT DO UPDATE ... RETURNING in the issuing transaction:
  concurrent issuers queue on that row and a rollback gives the number back (no gaps).
- Issued invoices are immutable; the status, payments and check status still move.
- A credit note is a draft document of kind credit_note with positive lines, issued through
  `invoice_issue` like an invoice (series "NC"). Once the issued credit notes of an invoice
  reach its gross total, the invoice becomes cancelled ("cancelled only by a credit note").
  What a client owes on an invoice is gross - paid - credited.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts_crm.access import AnyUser
from accounts_crm.errors import ConcurrentEditError, NotAllowedError
from billing import policies, selectors
from billing.errors import (
    CreditNoteError,
    FindingError,
    InvoiceError,
    InvoiceImmutableError,
    InvoiceNotIssuableError,
    NothingToInvoiceError,
    PaymentError,
)
from billing.models import (
    ISSUED_STATUSES,
    OPEN_STATUSES,
    SERIES_BY_KIND,
    ZERO,
    CheckFinding,
    FindingComment,
    Invoice,
    InvoiceLine,
    Payment,
)
from clients.services import _save
from orders.models import Order
from projects.models import Milestone, Project

# Without a contract, an invoice is due this many days after its issue date.
DEFAULT_PAYMENT_TERMS_DAYS = 30
# The VAT rate of a milestone line (services have no product to take it from).
MILESTONE_VAT_RATE = Decimal("22.00")


def _not_allowed() -> NotAllowedError:
    return NotAllowedError(_("Only finance may change invoices, payments and check findings."))


def _require_manager(by: AnyUser) -> None:
    if not policies.can_manage_invoices(by):
        raise _not_allowed()


# The check hook ----------------------------------------------------------------------------


def enqueue_check(invoice: Invoice | int) -> None:
    """After this transaction commits, run the invoice checks on `invoice` in the background."""
    invoice_id = invoice if isinstance(invoice, int) else invoice.pk

    def send() -> None:
        from billing.tasks import invoice_check

        invoice_check.delay([invoice_id])

    transaction.on_commit(send)


def invoice_refresh_check_status(invoice_ids: Iterable[int]) -> None:
    """Set each invoice's check status from its findings (an UPDATE per status): flagged with an
    open finding, approved when only overridden ones are left, clean otherwise. For invoices that
    have been checked (the rules engine calls it after upserting findings)."""
    invoice_ids = list(invoice_ids)
    counts = (
        CheckFinding.objects.filter(invoice_id__in=invoice_ids)
        .order_by()
        .values("invoice_id")
        .annotate(
            open=Count("pk", filter=Q(status="open")),
            overridden=Count("pk", filter=Q(status="overridden")),
        )
    )
    by_invoice = {row["invoice_id"]: row for row in counts}
    for status, ids in _group_check_status(invoice_ids, by_invoice).items():
        Invoice.objects.filter(pk__in=ids).exclude(check_status=status).update(
            check_status=status, updated_at=timezone.now()
        )


def _group_check_status(invoice_ids: Iterable[int], by_invoice: dict) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for pk in invoice_ids:
        row = by_invoice.get(pk, {"open": 0, "overridden": 0})
        if row["open"]:
            status = Invoice.CheckStatus.FLAGGED
        elif row["overridden"]:
            status = Invoice.CheckStatus.APPROVED
        else:
            status = Invoice.CheckStatus.CLEAN
        groups.setdefault(status, []).append(pk)
    return groups


# Drafts ------------------------------------------------------------------------------------


def _lock_invoice(invoice: Invoice, *, version: int | None = None) -> Invoice:
    """Re-read the invoice under a row lock; refuse if it changed since `version` was read."""
    current = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if version is not None and current.version != version:
        raise ConcurrentEditError(
            _(
                "Someone else changed this invoice after you opened it. "
                "Reload it to see their changes."
            )
        )
    return current


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != Invoice.Status.DRAFT:
        raise InvoiceImmutableError(
            _("Invoice %(number)s is %(status)s: an issued invoice cannot be changed.")
            % {"number": invoice.display_number, "status": invoice.get_status_display().lower()}
        )


def _recompute_totals(invoice: Invoice) -> None:
    """Totals = sums of the lines (the rounding rule is applied per line); bumps the version."""
    sums = InvoiceLine.objects.filter(invoice=invoice).aggregate(
        net=Coalesce(Sum("net_amount"), Value(ZERO)),
        vat=Coalesce(Sum("vat_amount"), Value(ZERO)),
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        net_total=sums["net"],
        vat_total=sums["vat"],
        gross_total=sums["net"] + sums["vat"],
        check_status=Invoice.CheckStatus.UNCHECKED,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )


@transaction.atomic
def invoice_create(*, by: AnyUser, invoice: Invoice) -> Invoice:
    """A new draft invoice (no lines yet). Series from its kind unless given; currency from the
    contract when there is one."""
    _require_manager(by)
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        raise CreditNoteError(_("Create a credit note from the invoice it corrects."))
    invoice.status = Invoice.Status.DRAFT
    invoice.number = invoice.year = None
    invoice.series = invoice.series or SERIES_BY_KIND[invoice.kind]
    if invoice.contract_id:
        invoice.currency = invoice.contract.currency
    invoice.created_by = by
    _save(invoice)
    enqueue_check(invoice)
    return invoice


@transaction.atomic
def invoice_update(*, by: AnyUser, invoice: Invoice, version: int) -> Invoice:
    """Save the header of a draft edited from `version` (client, order, contract, dates, notes,
    currency). Status, number, totals and payments are not edited here."""
    _require_manager(by)
    current = _lock_invoice(invoice, version=version)
    _require_draft(current)
    for field in ("kind", "credits_id", "status", "number", "year", "series", "net_total",
                  "vat_total", "gross_total", "amount_paid", "created_by_id", "issued_by_id",
                  "issued_at", "check_status", "created_at"):  # fmt: skip
        setattr(invoice, field, getattr(current, field))
    invoice.version = current.version + 1
    _save(invoice)
    enqueue_check(invoice)
    return invoice


@transaction.atomic
def invoice_delete(*, by: AnyUser, invoice: Invoice) -> None:
    """Delete a draft (an issued invoice is corrected by a credit note, never deleted)."""
    _require_manager(by)
    current = _lock_invoice(invoice)
    _require_draft(current)
    current.delete()


@transaction.atomic
def invoice_line_save(*, by: AnyUser, line: InvoiceLine, version: int | None = None) -> InvoiceLine:
    """Add or change a line of a draft; its amounts follow the rounding rule and the invoice's
    totals are recomputed. A new line of a product takes the product's VAT rate and nature
    unless given."""
    _require_manager(by)
    invoice = _lock_invoice(line.invoice, version=version)
    _require_draft(invoice)
    if line.pk is not None:
        stored_invoice_id = InvoiceLine.objects.filter(pk=line.pk).values_list(
            "invoice_id", flat=True
        )
        if stored_invoice_id.first() != invoice.pk:
            raise InvoiceError(_("A line cannot move to another invoice."))
    if line.pk is None and line.product_id is not None:
        if line.vat_rate is None:
            line.vat_rate, line.vat_nature = line.product.vat_rate, line.product.vat_nature
        line.description = line.description or line.product.name
    if line.vat_rate is None:
        raise ValidationError({"vat_rate": _("Give the VAT rate of the line.")})
    if line.quantity is not None and line.unit_price is not None:
        line.compute_amounts()
    if line.pk is None and not line.position:
        line.position = invoice.lines.count() + 1
    _save(line)
    _recompute_totals(invoice)
    enqueue_check(invoice)
    return line


@transaction.atomic
def invoice_line_delete(*, by: AnyUser, line: InvoiceLine, version: int | None = None) -> None:
    _require_manager(by)
    invoice = _lock_invoice(line.invoice, version=version)
    _require_draft(invoice)
    line.delete()
    _recompute_totals(invoice)
    enqueue_check(invoice)


def _add_lines(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    for position, line in enumerate(lines, start=1):
        line.invoice = invoice
        line.position = position
        line.compute_amounts()
        line.full_clean()
    InvoiceLine.objects.bulk_create(lines)
    _recompute_totals(invoice)


@transaction.atomic
def invoice_from_order(*, by: AnyUser, order: Order) -> Invoice:
    """A draft invoice of what is not yet invoiced on `order` (see selectors: what counts as
    invoiced), at the order's prices, discounts and VAT. Refused for a cancelled order and when
    everything is already invoiced."""
    _require_manager(by)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == Order.Status.CANCELLED:
        raise InvoiceError(
            _("Order %(number)s is cancelled: there is nothing to invoice.")
            % {"number": order.number}
        )
    remaining = selectors.uninvoiced_quantities(order=order)
    order_lines = [
        line
        for line in order.lines.select_related("product").order_by("pk")
        if remaining.get(line.pk, ZERO) > 0
    ]
    if not order_lines:
        raise NothingToInvoiceError(
            _("Everything on order %(number)s is already invoiced.") % {"number": order.number}
        )
    invoice = Invoice(
        kind=Invoice.Kind.INVOICE, client=order.client, order=order, contract=order.contract,
        currency=order.currency, series=SERIES_BY_KIND["invoice"], created_by=by,
    )  # fmt: skip
    _save(invoice)
    _add_lines(
        invoice,
        [
            InvoiceLine(
                order_line=line,
                product=line.product,
                description=line.description or line.product.name,
                quantity=remaining[line.pk],
                unit_price=line.unit_price,
                discount=line.discount,
                vat_rate=line.vat_rate,
                vat_nature=line.vat_nature,
            )
            for line in order_lines
        ],
    )
    enqueue_check(invoice)
    return Invoice.objects.get(pk=invoice.pk)


@transaction.atomic
def invoice_from_milestones(
    *,
    by: AnyUser,
    project: Project | None = None,
    milestones: Sequence[Milestone] | None = None,
) -> Invoice:
    """A draft invoice of a project's completed billable milestones not invoiced yet (or of the
    given milestones of one project, each of which must be completed, billable and not yet
    invoiced). One line per milestone: quantity 1 at its billable amount."""
    _require_manager(by)
    if (project is None) == (milestones is None):
        raise InvoiceError(_("Give a project or some milestones of one project."))
    if milestones is not None:
        project_ids = {m.project_id for m in milestones}
        if len(project_ids) != 1:
            raise InvoiceError(_("The milestones must belong to one project."))
        project = Project.objects.get(pk=project_ids.pop())
        chosen = Milestone.objects.filter(pk__in=[m.pk for m in milestones])
        eligible = {m.pk for m in selectors.billable_milestones(chosen)}
        for milestone in chosen:
            if milestone.pk not in eligible:
                raise InvoiceError(
                    _(
                        "Milestone %(name)s cannot be invoiced: it must be completed, have a "
                        "billable amount and not be invoiced already."
                    )
                    % {"name": milestone.name}
                )
        to_bill = list(chosen.order_by("position", "due_on", "pk"))
    else:
        to_bill = list(
            selectors.billable_milestones(project.milestones.all()).order_by(
                "position", "due_on", "pk"
            )
        )
    if not to_bill:
        raise NothingToInvoiceError(
            _("Project %(name)s has no completed billable milestone left to invoice.")
            % {"name": project.name}
        )
    order = project.order
    invoice = Invoice(
        kind=Invoice.Kind.INVOICE, client=project.client, order=order,
        contract=order.contract if order else None,
        currency=order.currency if order else Invoice._meta.get_field("currency").default,
        series=SERIES_BY_KIND["invoice"], created_by=by,
    )  # fmt: skip
    _save(invoice)
    _add_lines(
        invoice,
        [
            InvoiceLine(
                milestone=m,
                description=f"{project.name}: {m.name}",
                quantity=Decimal("1"),
                unit_price=m.billable_amount,
                discount=Decimal("0"),
                vat_rate=MILESTONE_VAT_RATE,
            )
            for m in to_bill
        ],
    )
    enqueue_check(invoice)
    return Invoice.objects.get(pk=invoice.pk)


# Issuing -----------------------------------------------------------------------------------


def _next_number(series: str, year: int) -> int:
    """The next number of (series, year), taken on the counter row in THIS transaction: other
    issuers wait on the row until it commits, and a rollback gives the number back."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_invoicecounter (series, year, last_number) VALUES (%s, %s, 1)
            ON CONFLICT (series, year)
            DO UPDATE SET last_number = billing_invoicecounter.last_number + 1
            RETURNING last_number
            """,
            [series, year],
        )
        return cursor.fetchone()[0]


def _due_date(invoice: Invoice, issue_date: datetime.date) -> datetime.date:
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return issue_date
    days = invoice.contract.payment_terms_days if invoice.contract_id else None
    return issue_date + datetime.timedelta(
        days=DEFAULT_PAYMENT_TERMS_DAYS if days is None else days
    )


@transaction.atomic
def invoice_issue(
    *,
    by: AnyUser,
    invoice: Invoice,
    version: int | None = None,
    issue_date: datetime.date | None = None,
) -> Invoice:
    """Issue a draft: number it, date it (today unless the draft or `issue_date` says
    otherwise), set its due date (the contract's payment terms unless the draft has one).

    Refused when the draft has no lines or has open ERROR findings. A credit note must credit an
    issued invoice and no more than what is left of it; issuing the one that credits the rest
    cancels that invoice.
    """
    _require_manager(by)
    current = _lock_invoice(invoice, version=version)
    _require_draft(current)
    if not current.lines.exists():
        raise InvoiceNotIssuableError(_("Add at least one line before issuing the invoice."))
    errors = selectors.invoices_with_open_errors([current.pk])
    if errors:
        raise InvoiceNotIssuableError(
            _(
                "This invoice has open error findings: fix the invoice or override them "
                "with a reason before issuing it."
            )
        )
    original = None
    if current.kind == Invoice.Kind.CREDIT_NOTE:
        original = _lock_invoice(current.credits)
        _check_creditable(original, current.gross_total)
    issued_on = issue_date or current.issue_date or timezone.localdate()
    due = current.due_date or _due_date(current, issued_on)
    if due < issued_on:
        raise InvoiceNotIssuableError(
            _("The due date %(due)s is before the issue date %(issued)s.")
            % {"due": due, "issued": issued_on}
        )
    number = _next_number(current.series, issued_on.year)
    Invoice.objects.filter(pk=current.pk).update(
        status=Invoice.Status.ISSUED, number=number, year=issued_on.year, issue_date=issued_on,
        due_date=due, issued_by=by, issued_at=timezone.now(), version=F("version") + 1,
        updated_at=timezone.now(),
    )  # fmt: skip
    if original is not None:
        _settle(original)
    enqueue_check(current)
    return Invoice.objects.get(pk=current.pk)


def _check_creditable(original: Invoice, amount: Decimal) -> None:
    if original.kind != Invoice.Kind.INVOICE or original.status not in (
        Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID
    ):  # fmt: skip
        raise CreditNoteError(
            _("Only an issued invoice can be credited; %(number)s is %(status)s.")
            % {"number": original.display_number,
               "status": original.get_status_display().lower()}
        )  # fmt: skip
    left = original.gross_total - selectors.credited_amount(invoice=original)
    if amount > left:
        raise CreditNoteError(
            _("The credit note (%(amount)s) exceeds what is left to credit on %(number)s "
              "(%(left)s).")
            % {"amount": amount, "number": original.display_number, "left": left}
        )  # fmt: skip


def _settle(invoice: Invoice) -> Invoice:
    """Move an issued invoice's status from what it was paid and credited: cancelled once
    credited in full; paid when paid + credited covers it; partially paid; issued."""
    credited = selectors.credited_amount(invoice=invoice)
    paid = invoice.amount_paid
    if credited >= invoice.gross_total:
        status = Invoice.Status.CANCELLED
    elif paid + credited >= invoice.gross_total:
        status = Invoice.Status.PAID
    elif paid > 0:
        status = Invoice.Status.PARTIALLY_PAID
    else:
        status = Invoice.Status.ISSUED
    Invoice.objects.filter(pk=invoice.pk).update(
        status=status, amount_paid=paid, version=F("version") + 1, updated_at=timezone.now()
    )
    invoice.status = status
    return invoice


# Credit notes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditLine:
    """What to credit of one line of the invoice: `quantity` of it (all of it by default) at
    `unit_price` (its price by default; a lower one credits a price difference)."""

    line: InvoiceLine
    quantity: Decimal | None = None
    unit_price: Decimal | None = None


@transaction.atomic
def credit_note_create(
    *, by: AnyUser, invoice: Invoice, lines: Sequence[CreditLine] | None = None, notes: str = ""
) -> Invoice:
    """A draft credit note of the issued `invoice`: all of its lines in full by default, or the
    given quantities / prices. Positive lines, which copy the order line or milestone they bill
    (so uninvoiced quantities rise back once the credit note is issued)."""
    _require_manager(by)
    original = _lock_invoice(invoice)
    _check_creditable(original, ZERO)
    originals = {line.pk: line for line in original.lines.all()}
    wanted = lines if lines is not None else [CreditLine(line) for line in originals.values()]
    if not wanted:
        raise CreditNoteError(_("Choose at least one line to credit."))
    credit_lines = []
    for item in wanted:
        source = originals.get(item.line.pk)
        if source is None:
            raise CreditNoteError(_("A credited line must belong to the credited invoice."))
        quantity = source.quantity if item.quantity is None else Decimal(item.quantity)
        price = source.unit_price if item.unit_price is None else Decimal(item.unit_price)
        if not 0 < quantity <= source.quantity:
            raise CreditNoteError(
                _("Credit between 0 and %(max)s of line %(line)s.")
                % {"max": source.quantity, "line": source.description}
            )
        if not 0 < price <= source.unit_price:
            raise CreditNoteError(
                _("The credited price of line %(line)s must be positive and at most %(max)s.")
                % {"max": source.unit_price, "line": source.description}
            )
        credit_lines.append(
            InvoiceLine(
                order_line=source.order_line,
                milestone=source.milestone,
                product=source.product,
                description=source.description,
                quantity=quantity,
                unit_price=price,
                discount=source.discount,
                vat_rate=source.vat_rate,
                vat_nature=source.vat_nature,
            )
        )
    note = Invoice(
        kind=Invoice.Kind.CREDIT_NOTE, credits=original, client=original.client,
        order=original.order, contract=original.contract, currency=original.currency,
        series=SERIES_BY_KIND["credit_note"], created_by=by, notes=notes,
    )  # fmt: skip
    _save(note)
    _add_lines(note, credit_lines)
    note.refresh_from_db()
    _check_creditable(original, note.gross_total)
    enqueue_check(note)
    return note


# Payments ----------------------------------------------------------------------------------


@transaction.atomic
def payment_record(
    *,
    by: AnyUser,
    invoice: Invoice,
    amount: Decimal,
    paid_on: datetime.date,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
) -> Payment:
    """Record a payment on an issued invoice: partial -> partially paid, the rest -> paid.
    Refused on drafts, credit notes, cancelled or paid invoices, and beyond what is owed."""
    _require_manager(by)
    current = _lock_invoice(invoice)
    if current.kind != Invoice.Kind.INVOICE or current.status not in OPEN_STATUSES:
        raise PaymentError(
            _("Payments are recorded on issued invoices that are not paid; %(number)s is "
              "%(status)s.")
            % {"number": current.display_number, "status": current.get_status_display().lower()}
        )  # fmt: skip
    amount = Decimal(amount)
    if amount <= 0:
        raise PaymentError(_("A payment amount must be positive."))
    owed = current.gross_total - current.amount_paid - selectors.credited_amount(invoice=current)
    if amount > owed:
        raise PaymentError(
            _("%(amount)s is more than the %(owed)s still owed on %(number)s.")
            % {"amount": amount, "owed": owed, "number": current.display_number}
        )
    payment = _save(
        Payment(invoice=current, amount=amount, paid_on=paid_on, method=method,
                reference=reference, recorded_by=by)
    )  # fmt: skip
    current.amount_paid += amount
    _settle(current)
    enqueue_check(current)
    return payment


@transaction.atomic
def payment_delete(*, by: AnyUser, payment: Payment) -> None:
    """Remove a payment recorded by mistake; the invoice's status follows."""
    _require_manager(by)
    current = _lock_invoice(payment.invoice)
    if current.status == Invoice.Status.CANCELLED:
        raise PaymentError(_("The invoice is cancelled: its payments are kept as they were."))
    payment = Payment.objects.get(pk=payment.pk, invoice=current)
    current.amount_paid -= payment.amount
    payment.delete()
    _settle(current)
    enqueue_check(current)


# Findings ----------------------------------------------------------------------------------


@transaction.atomic
def finding_override(*, by: AnyUser, finding: CheckFinding, reason: str) -> CheckFinding:
    """Finance accepts an open finding with a mandatory reason (kept, audited, shown)."""
    if not policies.can_override_findings(by):
        raise _not_allowed()
    reason = (reason or "").strip()
    if not reason:
        raise FindingError(_("Give the reason for overriding this finding."), code="reason")
    finding = CheckFinding.objects.select_for_update().get(pk=finding.pk)
    if finding.status != CheckFinding.Status.OPEN:
        raise FindingError(
            _("Only an open finding can be overridden; this one is %(status)s.")
            % {"status": finding.get_status_display().lower()}
        )
    finding.status = CheckFinding.Status.OVERRIDDEN
    finding.override_reason = reason
    finding.overridden_by = by
    finding.overridden_at = timezone.now()
    _save(finding)
    invoice_refresh_check_status([finding.invoice_id])
    return finding


@transaction.atomic
def finding_comment(*, by: AnyUser, finding: CheckFinding, text: str) -> FindingComment:
    """A note on a finding by the account's NAM, its team lead, or finance."""
    if not policies.can_comment_on_findings(by, finding.invoice.client):
        raise NotAllowedError(
            _("Only the account's NAM, its team lead and finance comment on findings.")
        )
    text = (text or "").strip()
    if not text:
        raise FindingError(_("Write a comment first."), code="empty")
    return _save(FindingComment(finding=finding, author=by, text=text))


__all__ = [
    "ISSUED_STATUSES",
    "CreditLine",
    "credit_note_create",
    "enqueue_check",
    "finding_comment",
    "finding_override",
    "invoice_create",
    "invoice_delete",
    "invoice_from_milestones",
    "invoice_from_order",
    "invoice_issue",
    "invoice_line_delete",
    "invoice_line_save",
    "invoice_refresh_check_status",
    "invoice_update",
    "payment_delete",
    "payment_record",
]
