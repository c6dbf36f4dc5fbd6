"""Billing's domain errors, each with a stable code for the HTML and API layers."""

from __future__ import annotations

from accounts_crm.errors import DomainError


class InvoiceError(DomainError):
    code = "invoice_error"


class InvoiceImmutableError(InvoiceError):
    """The invoice is issued (or cancelled): its document no longer changes."""

    code = "invoice_immutable"


class InvoiceNotIssuableError(InvoiceError):
    """The draft cannot be issued yet: no lines, open error findings, a bad credit note."""

    code = "invoice_not_issuable"


class NothingToInvoiceError(InvoiceError):
    code = "nothing_to_invoice"


class CreditNoteError(InvoiceError):
    code = "credit_note_error"


class PaymentError(InvoiceError):
    code = "payment_error"


class FindingError(DomainError):
    code = "finding_error"
