"""Dashboard pages: read-only, they compose the selectors of the other apps (dashboards/*.py).

`index` is the dashboards' home for team leads, finance and admin: finance and admin get the
finance dashboard, a team lead who is neither gets the team lead dashboard, which is at `team`
for team leads and admin (the navbar, accounts_crm/context_processors.py, offers `index` to
finance and admin and `team` to team leads and admin). Figures
start from `visible_to(user)`, so a team lead sees only the accounts they may see. Account
staff without one of those roles get 403, the same as the navbar not offering the entry: the
page is about a role, not about a row.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts_crm.access import Role, has_role, role_required
from dashboards import compliance_views, finance, team


@require_GET
@role_required(Role.TEAM_LEAD, Role.FINANCE)
def index(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.FINANCE, Role.ADMIN):
        return _team_page(request)
    context = finance.finance_dashboard(user=request.user)
    context["charts"] = finance.chart_data(context)
    return render(request, "dashboards/finance.html", context)


@require_GET
@role_required(Role.TEAM_LEAD)
def team_lead(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


def _team_page(request: HttpRequest) -> HttpResponse:
    form = team.TeamDashboardForm(
        request.GET or None, options=team.filter_options(user=request.user)
    )
    filters = form.filters() if form.is_bound else {"period": team.DEFAULT_PERIOD}
    context = team.team_dashboard(user=request.user, filters=filters)
    context["form"] = form
    context["charts"] = team.chart_data(context)
    # Contract compliance (issue 7) of the same filtered accounts, on the same day.
    context |= compliance_views.team_compliance_context(
        user=request.user, filters=filters, today=context["today"]
    )
    return render(request, "dashboards/team.html", context)
