from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts_crm.access import Role, roles_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The user's roles, for templates to show only what the role may use."""
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else frozenset()
    return {
        "user_roles": {role.value for role in roles},
        "Role": Role,
    }
