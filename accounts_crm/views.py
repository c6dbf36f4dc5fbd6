from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts_crm.access import Role, roles_of

# A person with several roles lands on the home page of the widest one.
HOME_PRECEDENCE = (Role.ADMIN, Role.FINANCE, Role.TEAM_LEAD, Role.ACCOUNT_STAFF)


def primary_role(roles: frozenset[Role]) -> Role | None:
    return next((role for role in HOME_PRECEDENCE if role in roles), None)


def home(request: HttpRequest) -> HttpResponse:
    role = primary_role(roles_of(request.user))
    if role == Role.ACCOUNT_STAFF:
        # Account staff's home is the NAM home (dashboards/, mounted at /my-book/); by URL name,
        # since accounts_crm may not import dashboards.
        return redirect("nam:home")
    template = f"home/{role.value}.html" if role else "home/no_role.html"
    return render(request, template, {"role": role})
