"""HTML pages for clients and what hangs off them: parse with a form, call a service or selector.

Access: a client the person may not see is a 404 (the selectors start from `visible_to`); an
action their role does not allow on a client they see is a 403 (clients/policies.py, checked
again by the services). htmx requests get a partial of the same template as the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_crm.access import Role, get_visible_or_404, has_role
from accounts_crm.errors import DomainError, NotAllowedError
from accounts_crm.pages import (
    HISTORY_LIMIT,
    csv_response,
    described_events,
    form_page,
    is_htmx_partial,
    posted_data,
    require,
    save_form,
    sort_columns,
)
from clients import policies, selectors, services
from clients.filters import ClientFilter
from clients.forms import (
    AccountPlanForm,
    AccountTeamMemberEndForm,
    AccountTeamMemberForm,
    ActivityForm,
    ClientForm,
    ContactForm,
    QuickActivityForm,
    SiteForm,
    TeamForm,
)
from clients.import_views import IMPORTERS
from clients.models import AccountPlan, AccountTeamMember, Activity, Client, Contact, Site, Team

PAGE_SIZE = 25
# Buying roles whose missing relationship is a risk to the account (stakeholder map).
KEY_BUYING_ROLES = (Contact.BuyingRole.DECISION_MAKER, Contact.BuyingRole.ECONOMIC_BUYER)
WEAK_RELATIONSHIP = Contact.Strength.WEAK


# Sections of the client page --------------------------------------------------------------------


@dataclass(frozen=True)
class ClientSection:
    """One section of the client page: an anchor, a title and a template included in place.

    Later apps (orders, projects, billing, dashboards) add theirs with `add_client_sections(...)`
    from their AppConfig.ready(); a `context` callable adds what their template needs, in a fixed
    number of queries.
    """

    slug: str
    title: str | Promise
    template: str
    context: Callable[[HttpRequest, Client], dict[str, Any]] | None = None


CLIENT_SECTIONS: list[ClientSection] = [
    ClientSection("activities", gettext_lazy("Activities"), "clients/_section_activities.html"),
    ClientSection("account-team", gettext_lazy("Account team"), "clients/_section_team.html"),
    ClientSection("contacts", gettext_lazy("Contacts"), "clients/_section_contacts.html"),
    ClientSection(
        "stakeholders", gettext_lazy("Stakeholder map"), "clients/_section_stakeholders.html"
    ),
    ClientSection("sites", gettext_lazy("Sites"), "clients/_section_sites.html"),
    ClientSection("plans", gettext_lazy("Account plans"), "clients/_section_plans.html"),
    ClientSection("history", gettext_lazy("History"), "clients/_section_history.html"),
]


def add_client_sections(*sections: ClientSection) -> None:
    """Add an app's sections to the client page, before its history, once (an app's
    AppConfig.ready() calls it; ready() may run twice, in tests)."""
    known = {section.slug for section in CLIENT_SECTIONS}
    new = [section for section in sections if section.slug not in known]
    history = next(
        (i for i, section in enumerate(CLIENT_SECTIONS) if section.slug == "history"),
        len(CLIENT_SECTIONS),
    )
    CLIENT_SECTIONS[history:history] = new


# Helpers -------------------------------------------------------------------------------------


def _client(request: HttpRequest, pk: int) -> Client:
    """A client the person sees (else 404), with its team, for forms and policy checks."""
    return get_visible_or_404(selectors.client_list(user=request.user), request.user, pk=pk)


def _child[M: Model](request: HttpRequest, model: type[M], client: Client, pk: int) -> M:
    """A site/contact/activity/plan/member of this client that the person sees, else 404."""
    row = get_object_or_404(
        selectors.child_list(model, user=request.user).filter(client=client), pk=pk
    )
    row.client = client  # the policy checks read the client's team, already loaded
    return row


def _back_to(client: Client, section: str) -> str:
    return f"{reverse('clients:client_detail', args=[client.pk])}#{section}"


# Lists ---------------------------------------------------------------------------------------

SORTABLE_COLUMNS = [
    ("name", gettext_lazy("Name")),
    ("nam", gettext_lazy("NAM")),
    ("team", gettext_lazy("Team")),
    ("city", gettext_lazy("City")),
    ("status", gettext_lazy("Status")),
    ("tier", gettext_lazy("Tier")),
]
CSV_COLUMNS = [
    gettext_lazy("Name"),
    gettext_lazy("Legal name"),
    gettext_lazy("VAT number"),
    gettext_lazy("City"),
    gettext_lazy("Team"),
    gettext_lazy("NAM"),
    gettext_lazy("Parent company"),
    gettext_lazy("Subsidiaries"),
    gettext_lazy("Status"),
    gettext_lazy("Tier"),
]


def _client_filter(request: HttpRequest, queryset: QuerySet[Client]) -> ClientFilter:
    """The shared FilterSet, with team and NAM choices limited to what the person sees."""
    filterset = ClientFilter(request.GET, queryset=queryset, request=request)
    visible = Client.objects.visible_to(request.user)
    fields = filterset.form.fields
    fields["team"].queryset = Team.objects.filter(clients__in=visible).distinct()
    fields["nam"].queryset = (
        User.objects.filter(
            account_memberships__role="nam",
            account_memberships__ends_on__isnull=True,
            account_memberships__client__in=visible,
        )
        .distinct()
        .order_by("last_name", "first_name")
    )
    fields["nam"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
    return filterset


def _sort_columns(current: str) -> list[dict[str, Any]]:
    return sort_columns(SORTABLE_COLUMNS, current)


def _client_list_page(
    request: HttpRequest, queryset: QuerySet[Client], *, title: str, empty: str
) -> HttpResponse:
    filterset = _client_filter(request, queryset)
    # A unique last key keeps pages stable when the chosen column has ties.
    clients = filterset.qs
    clients = clients.order_by(*clients.query.order_by, "pk")
    if request.GET.get("format") == "csv":
        return _client_csv(clients)
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "title": title,
        "empty": empty,
        "filter": filterset,
        "page": page,
        "columns": _sort_columns(request.GET.get("ordering", "")),
        "can_create": policies.can_create_client(request.user),
        "can_import": has_role(request.user, Role.ADMIN, *IMPORTERS),
    }
    template = "clients/client_list.html"
    response = render(
        request, f"{template}#results" if is_htmx_partial(request) else template, context
    )
    response["Vary"] = "HX-Request"
    return response


def _client_csv(clients: QuerySet[Client]) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed: the export of a large book does not sit in memory."""
    return csv_response(
        clients.iterator(chunk_size=500),
        filename="clients.csv",
        header=CSV_COLUMNS,
        row=lambda client: [
            client.name,
            client.legal_name,
            client.vat_number,
            client.city,
            client.team.name,
            client.nam_name or "",
            client.parent.name if client.parent else "",
            client.subsidiary_count,
            client.get_status_display(),
            client.get_tier_display(),
        ],
    )


@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    return _client_list_page(
        request,
        selectors.client_list(user=request.user),
        title=_("Clients"),
        empty=_("No client matches these filters."),
    )


@require_GET
def my_accounts(request: HttpRequest) -> HttpResponse:
    return _client_list_page(
        request,
        selectors.my_accounts(user=request.user),
        title=_("My accounts"),
        empty=_("You are not on the account team of any client matching these filters."),
    )


@require_GET
def team_accounts(request: HttpRequest) -> HttpResponse:
    return _client_list_page(
        request,
        selectors.team_accounts(user=request.user),
        title=_("My team's accounts"),
        empty=_("No client of the teams you lead matches these filters."),
    )


# Client page ---------------------------------------------------------------------------------


def _coverage_gaps(roots: list[selectors.StakeholderNode]) -> list[Contact]:
    """Decision makers and economic buyers we have a weak relationship with, or none."""
    gaps, stack = [], list(roots)
    while stack:
        node = stack.pop()
        stack.extend(node.reports)
        contact = node.contact
        if (
            contact.buying_role in KEY_BUYING_ROLES
            and contact.relationship_strength <= WEAK_RELATIONSHIP
        ):
            contact.coverage_gap = True
            gaps.append(contact)
    return sorted(gaps, key=lambda contact: (contact.last_name, contact.first_name))


def _history(client: Client) -> list[Any]:
    """The account's audit trail with models, field names and authors resolved (two queries)."""
    return described_events(list(selectors.client_history(client=client)[:HISTORY_LIMIT]))


def _activities_context(
    request: HttpRequest, client: Client, log_form: QuickActivityForm | None = None
) -> dict[str, Any]:
    can_work = policies.can_work_on_client(request.user, client)
    if log_form is None and can_work:
        log_form = QuickActivityForm(instance=Activity(client=client), auto_id="log_%s")
    return {
        "client": client,
        "can_work": can_work,
        "log_form": log_form,
        "timeline": selectors.activity_timeline(user=request.user, client=client),
    }


def _detail_context(
    request: HttpRequest, client: Client, log_form: QuickActivityForm | None = None
) -> dict[str, Any]:
    user = request.user
    stakeholders = selectors.stakeholder_map(user=user, client=client)
    context = _activities_context(request, client, log_form) | {
        "can_manage": policies.can_manage_client(user, client),
        "can_delete": policies.can_delete_client(user),
        "group": selectors.client_group_tree(user=user, client=client),
        "stakeholders": stakeholders,
        "coverage_gaps": _coverage_gaps(stakeholders),
        "buying_roles": Contact.BuyingRole.choices,
        "history": _history(client),
        "end_member_form": AccountTeamMemberEndForm(),
        "sections": CLIENT_SECTIONS,
    }
    for section in CLIENT_SECTIONS:
        if section.context is not None:
            context |= section.context(request, client)
    return context


@require_GET
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = selectors.client_detail(user=request.user, pk=pk)
    return render(request, "clients/client_detail.html", _detail_context(request, client))


@require_POST
def activity_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The two-click activity form: htmx swaps the activities section, or POST + redirect."""
    client = _client(request, pk)
    require(policies.can_work_on_client(request.user, client))
    activity = Activity(client=client, author=request.user)
    form = QuickActivityForm(request.POST, instance=activity, auto_id="log_%s")
    saved = form.is_valid() and save_form(
        form,
        services.activity_log,
        by=request.user,
        activity=form.instance,
        contacts=form.cleaned_data["contacts"],
    )
    if saved:
        messages.success(request, _("Activity logged: %(subject)s") % {"subject": activity})
        if not is_htmx_partial(request):
            return redirect(_back_to(client, "activities"))
        form = None
    if is_htmx_partial(request):
        context = _activities_context(request, client, form) | {"oob_messages": True}
        return render(request, "clients/_section_activities.html#activities", context)
    client = selectors.client_detail(user=request.user, pk=pk)
    return render(request, "clients/client_detail.html", _detail_context(request, client, form))


# Client create / edit / delete -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    require(policies.can_create_client(request.user))
    form = ClientForm(posted_data(request), user=request.user)
    if form.is_valid() and save_form(
        form, services.client_create, by=request.user, client=form.instance
    ):
        messages.success(request, _("Client %(client)s created.") % {"client": form.instance})
        return redirect("clients:client_detail", pk=form.instance.pk)
    return form_page(request, form, title=_("New client"), back=reverse("clients:client_list"))


@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    require(policies.can_manage_client(request.user, client))
    form = ClientForm(posted_data(request), instance=client, user=request.user)
    if form.is_valid() and save_form(
        form,
        services.client_update,
        by=request.user,
        client=form.instance,
        version=form.cleaned_data["version"] or 0,
    ):
        messages.success(request, _("Changes to %(client)s saved.") % {"client": client})
        return redirect("clients:client_detail", pk=client.pk)
    return form_page(
        request,
        form,
        title=_("Edit %(client)s") % {"client": client},
        client=client,
        back=_back_to(client, "top"),
        delete_url=reverse("clients:client_delete", args=[client.pk])
        if policies.can_delete_client(request.user)
        else None,
    )


def _delete_page(
    request: HttpRequest, *, client: Client, row: Model, back: str, delete: Callable[[], None]
) -> HttpResponse:
    """Confirm on GET; on POST delete, or show why it cannot be deleted."""
    error = None
    if request.method == "POST":
        try:
            delete()
        except NotAllowedError as exc:
            raise PermissionDenied(exc.message) from exc
        except (ValidationError, DomainError) as exc:
            error = exc.messages[0] if isinstance(exc, ValidationError) else exc.message
        else:
            messages.success(request, _("%(object)s deleted.") % {"object": row})
            return redirect(back)
    context = {"client": client, "object": row, "back": back, "error": error}
    return render(request, "clients/confirm_delete.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def client_delete(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    require(policies.can_delete_client(request.user))
    return _delete_page(
        request,
        client=client,
        row=client,
        back=reverse("clients:client_list"),
        delete=lambda: services.client_delete(by=request.user, client=client),
    )


# Sites, contacts, activities, plans --------------------------------------------------------


@dataclass(frozen=True)
class ChildKind:
    """How one kind of row under a client is edited: its form, service, policy and section."""

    name: str  # URL names: <name>_create, <name>_edit, <name>_delete
    model: type[Model]
    form: type[BaseForm]
    section: str
    new_title: str | Promise
    manage: bool  # needs can_manage_client (else can_work_on_client)

    def allowed(self, request: HttpRequest, client: Client) -> bool:
        check = policies.can_manage_client if self.manage else policies.can_work_on_client
        return check(request.user, client)

    def save(self, request: HttpRequest, form: BaseForm) -> bool:
        row, by = form.instance, request.user
        if isinstance(row, Site):
            return save_form(form, services.site_save, by=by, site=row)
        if isinstance(row, Contact):
            return save_form(form, services.contact_save, by=by, contact=row)
        if isinstance(row, Activity):
            contacts = form.cleaned_data["contacts"]
            return save_form(form, services.activity_log, by=by, activity=row, contacts=contacts)
        return save_form(form, services.account_plan_save, by=by, plan=row)


CHILDREN = {
    "sites": ChildKind("site", Site, SiteForm, "sites", gettext_lazy("New site"), manage=False),
    "contacts": ChildKind(
        "contact", Contact, ContactForm, "contacts", gettext_lazy("New contact"), manage=False
    ),
    "activities": ChildKind(
        "activity", Activity, ActivityForm, "activities", gettext_lazy("New activity"), False
    ),
    "plans": ChildKind(
        "plan", AccountPlan, AccountPlanForm, "plans", gettext_lazy("New account plan"), True
    ),
}


@require_http_methods(["GET", "POST"])
def child_edit(
    request: HttpRequest, pk: int, kind: str, child_pk: int | None = None
) -> HttpResponse:
    """Create (no `child_pk`) or edit a site, contact, activity or account plan of a client."""
    spec, client = CHILDREN[kind], _client(request, pk)
    require(spec.allowed(request, client))
    if child_pk is None:
        row = spec.model(client=client)
        if isinstance(row, Activity):
            row.author = request.user
    else:
        row = _child(request, spec.model, client, child_pk)
    form = spec.form(posted_data(request), instance=row)
    if form.is_valid() and spec.save(request, form):
        messages.success(request, _("%(object)s saved.") % {"object": row})
        return redirect(_back_to(client, spec.section))
    delete_url = (
        reverse(f"clients:{spec.name}_delete", args=[client.pk, row.pk]) if row.pk else None
    )
    title = str(spec.new_title) if row.pk is None else _("Edit %(object)s") % {"object": row}
    return form_page(
        request,
        form,
        title=title,
        client=client,
        back=_back_to(client, spec.section),
        delete_url=delete_url,
    )


@require_http_methods(["GET", "POST"])
def child_delete(request: HttpRequest, pk: int, kind: str, child_pk: int) -> HttpResponse:
    spec, client = CHILDREN[kind], _client(request, pk)
    row = _child(request, spec.model, client, child_pk)
    require(spec.allowed(request, client))
    return _delete_page(
        request,
        client=client,
        row=row,
        back=_back_to(client, spec.section),
        delete=lambda: services.child_delete(by=request.user, row=row),
    )


# Account team ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    require(policies.can_manage_client(request.user, client))
    form = AccountTeamMemberForm(posted_data(request), instance=AccountTeamMember(client=client))
    if form.is_valid() and save_form(
        form, services.account_team_member_add, by=request.user, member=form.instance
    ):
        messages.success(
            request, _("%(member)s joined the account team.") % {"member": _person(form.instance)}
        )
        return redirect(_back_to(client, "account-team"))
    return form_page(
        request,
        form,
        title=_("Add someone to the account team"),
        client=client,
        back=_back_to(client, "account-team"),
    )


@require_http_methods(["GET", "POST"])
def member_end(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    client = _client(request, pk)
    # Only a current member can leave; an ended membership is history, not a row to act on.
    member = get_object_or_404(
        selectors.child_list(AccountTeamMember, user=request.user)
        .active()
        .filter(client=client)
        .select_related("user"),
        pk=member_pk,
    )
    member.client = client
    require(policies.can_manage_client(request.user, client))
    form = AccountTeamMemberEndForm(posted_data(request))
    if form.is_valid() and save_form(
        form,
        services.account_team_member_end,
        by=request.user,
        member=member,
        on=form.cleaned_data["on"],
    ):
        messages.success(
            request, _("%(member)s left the account team.") % {"member": _person(member)}
        )
        return redirect(_back_to(client, "account-team"))
    return form_page(
        request,
        form,
        title=_("%(member)s leaves the account team") % {"member": _person(member)},
        client=client,
        back=_back_to(client, "account-team"),
    )


def _person(member: AccountTeamMember) -> str:
    return member.user.get_full_name() or member.user.get_username()


# Teams ---------------------------------------------------------------------------------------


@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    context = {
        "teams": selectors.team_book(user=request.user),
        "can_manage_teams": policies.can_manage_teams(request.user),
    }
    return render(request, "clients/team_list.html", context)


@require_GET
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_detail(user=request.user, pk=pk)
    context = {
        "team": team,
        "clients": selectors.team_clients(user=request.user, team=team),
        "can_manage_teams": policies.can_manage_teams(request.user),
    }
    return render(request, "clients/team_detail.html", context)


@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no `pk`) or edit a team: name, lead and members."""
    team = Team() if pk is None else selectors.team_detail(user=request.user, pk=pk)
    require(policies.can_manage_teams(request.user))
    # Read before the form is bound: a rejected rename must not show in the title or trail.
    crumbs = [(_("Teams"), reverse("clients:team_list"))]
    if pk is None:
        title, back = _("New team"), reverse("clients:team_list")
    else:
        title, back = _("Edit %(team)s") % {"team": team}, reverse("clients:team_detail", args=[pk])
        crumbs.append((team.name, back))
    form = TeamForm(posted_data(request), instance=team)
    if form.is_valid() and save_form(
        form, services.team_save, by=request.user, team=team, members=form.cleaned_data["members"]
    ):
        messages.success(request, _("Team %(team)s saved.") % {"team": team})
        return redirect("clients:team_detail", pk=team.pk)
    return form_page(request, form, title=title, back=back, breadcrumbs=crumbs)
