"""Dashboard pages: read-only, they compose the selectors of the other apps (dashboards/*.py).

`index` is the dashboards' home for team leads, finance and admin (the navbar's rule, in
accounts_crm/context_processors.py). For now every one of them gets the finance dashboard;
its figures start from `visible_to(user)`, so a team lead sees it restricted to the accounts
they may see (their team's). Account staff without one of those roles get 403, the same as the
navbar not offering the entry: the page is about a role, not about a row.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts_crm.access import Role, role_required
from dashboards import finance


@require_GET
@role_required(Role.TEAM_LEAD, Role.FINANCE)
def index(request: HttpRequest) -> HttpResponse:
    context = finance.finance_dashboard(user=request.user)
    context["charts"] = finance.chart_data(context)
    return render(request, "dashboards/finance.html", context)
