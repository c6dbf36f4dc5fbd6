from accounts_crm.errors import DomainError


class OrderError(DomainError):
    code = "order_error"


class ContractNotApplicableError(OrderError):
    code = "contract_not_applicable"


class TransitionNotAllowedError(OrderError):
    code = "transition_not_allowed"
