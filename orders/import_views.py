"""Pages of the catalogue and contract-price import: the clients' import pages
(clients/import_views.py, templates/clients/import_*.html) mounted for the "orders" group.

Admin imports products; NAMs and team leads import the prices of the contracts they manage
(checked row by row); finance and everyone else are refused.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from accounts_crm.access import Role, role_required
from clients import import_views
from orders.imports import GROUP  # importing it registers the group

IMPORTERS = (Role.TEAM_LEAD, Role.ACCOUNT_STAFF)  # and admin, as orders.imports.can_import says


@role_required(*IMPORTERS)
def import_upload(request: HttpRequest) -> HttpResponse:
    return import_views.group_upload(request, group=GROUP)


@role_required(*IMPORTERS)
def import_job(request: HttpRequest, pk: int, *, partial: bool = False) -> HttpResponse:
    return import_views.group_job(request, pk, group=GROUP, partial=partial)


@require_POST
@role_required(*IMPORTERS)
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    return import_views.group_apply(request, pk, group=GROUP)


@role_required(*IMPORTERS)
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    return import_views.group_template(request, kind, group=GROUP)
