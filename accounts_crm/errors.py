"""The product's domain errors. Services raise them; views and the API turn them into messages.

Each app adds its own subclasses (`OrderError`, `InvoiceError`, ...) with a stable `code`, so that
the HTML and API layers show one clear message and integrators can branch on the code.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConcurrentEditError(DomainError):
    """Someone else saved the same record after this user loaded it."""

    code = "concurrent_edit"


class NotAllowedError(DomainError):
    """The person may see the record but their role on the account does not let them do this."""

    code = "not_allowed"
