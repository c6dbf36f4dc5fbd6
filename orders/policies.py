"""Who may change contracts, orders and opportunities: the role on the account decides.

- The NAM and sales take orders and work opportunities; the team lead and admin may too.
- Contracts and their prices are managed by the account's NAM, its team lead and admin.
- Everyone else who sees the account (project managers, customer service, finance) reads.
- The catalogue (products, list prices) is shared by every account, so no role on one account
  may change it: admin only, in the HTML pages, the API and the catalogue import alike. A team
  lead negotiates prices per contract (can_manage_contracts), not the list price everyone gets.
"""

from __future__ import annotations

from accounts_crm.access import AnyUser, is_admin
from clients.models import Client
from clients.policies import account_roles, leads_team_of

ORDER_TAKERS = frozenset({"nam", "sales"})


def can_take_orders(user: AnyUser, client: Client) -> bool:
    return (
        is_admin(user)
        or leads_team_of(user, client)
        or bool(account_roles(user, client) & ORDER_TAKERS)
    )


def can_manage_contracts(user: AnyUser, client: Client) -> bool:
    return is_admin(user) or leads_team_of(user, client) or "nam" in account_roles(user, client)


def can_manage_catalogue(user: AnyUser) -> bool:
    return is_admin(user)
