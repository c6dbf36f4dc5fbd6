"""Who may do what in billing (DESIGN.md "Access rules"):

- Finance and admin create, edit and issue invoices and credit notes, record and delete
  payments, and override check findings.
- The account's NAM and its team lead read their accounts' invoices (visible_to) and may comment
  on findings; so may finance and admin.
- Everyone else who sees the client reads its invoices, and does nothing else.

Seeing is `Invoice.objects.visible_to(user)` (accounts_crm/access.py); these answer the next
question, for a row the person already sees.
"""

from __future__ import annotations

from accounts_crm.access import AnyUser, Role, has_role
from clients.models import Client
from clients.policies import account_roles, leads_team_of


def can_manage_invoices(user: AnyUser) -> bool:
    """Create, edit, issue, credit; record payments."""
    return has_role(user, Role.FINANCE, Role.ADMIN)


def can_override_findings(user: AnyUser) -> bool:
    return has_role(user, Role.FINANCE, Role.ADMIN)


def can_comment_on_findings(user: AnyUser, client: Client) -> bool:
    return (
        has_role(user, Role.FINANCE, Role.ADMIN)
        or leads_team_of(user, client)
        or "nam" in account_roles(user, client)
    )


def can_export_einvoices(user: AnyUser) -> bool:
    """Export issued invoices and credit notes as FatturaPA files (billing/fatturapa.py)."""
    return has_role(user, Role.FINANCE, Role.ADMIN)
