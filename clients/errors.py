from django.utils.translation import gettext_lazy as _

from accounts_crm.errors import DomainError, NotAllowedError


class ClientError(DomainError):
    code = "client_error"


class ClientHierarchyError(ClientError):
    """The change would make a company its own ancestor, or a contact their own manager."""

    code = "hierarchy_cycle"


def not_allowed() -> NotAllowedError:
    return NotAllowedError(str(_("Your role on this account does not allow this change.")))
