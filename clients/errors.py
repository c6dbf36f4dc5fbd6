from accounts_crm.errors import DomainError


class ClientError(DomainError):
    code = "client_error"


class ClientHierarchyError(ClientError):
    """The change would make a company its own ancestor."""

    code = "client_hierarchy_cycle"
