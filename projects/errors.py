"""Domain errors of delivery work, each with a stable `code` the API and pages can branch on."""

from accounts_crm.errors import DomainError


class ProjectError(DomainError):
    code = "project_error"


class PredecessorsOpenError(ProjectError):
    """A milestone cannot be completed before its predecessors are."""

    code = "predecessors_open"


class DependencyCycleError(ProjectError):
    """The predecessors asked for would make a milestone wait, in the end, for itself."""

    code = "dependency_cycle"


class ServiceCaseError(DomainError):
    code = "service_case_error"


class CaseTransitionError(ServiceCaseError):
    code = "transition_not_allowed"
