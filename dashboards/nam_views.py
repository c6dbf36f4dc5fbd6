"""The NAM home ("my book"): the accounts on whose account team the person is now, with health,
revenue vs target and what needs doing. Any signed-in person with a CRM role may open it; it only
ever shows their own accounts (an empty book for someone on no account team)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts_crm.access import Role, role_required
from dashboards import nam


@require_GET
@role_required(Role.ACCOUNT_STAFF, Role.TEAM_LEAD, Role.FINANCE)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboards/nam_home.html", nam.nam_home(user=request.user))
