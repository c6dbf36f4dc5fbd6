"""HTML pages for orders, contracts, opportunities and the catalogue: parse, call, render.

Same rules as the clients pages (clients/views.py; the shared helpers are accounts_crm/pages.py):
a row the person may not see is a 404, an action their role does not allow is a 403, what a
service refuses is a form error or an error message. htmx requests get a partial of the same
template as the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_filters
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_crm.access import get_visible_or_404
from accounts_crm.pages import (
    FAILED,
    change_history,
    csv_response,
    form_page,
    id_dropdowns,
    is_htmx_partial,
    page_links,
    page_panels,
    person_name,
    posted_data,
    require,
    run_action,
    save_form,
    sort_columns,
)
from clients import selectors as client_selectors
from clients.filters import client_scope_dropdowns
from clients.models import Client
from clients.policies import can_work_on_client
from orders import policies, selectors, services, suggestions
from orders.filters import ContractFilter, OpportunityFilter, OrderFilter, ProductFilter
from orders.forms import (
    ContractForm,
    ContractPriceForm,
    DeliveryForm,
    OpportunityForm,
    OrderForm,
    OrderLineForm,
    ProductForm,
    SuggestionForm,
)
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product

PAGE_SIZE = 25
SECTION_LIMIT = 10  # rows per section on the client page; the list behind it has the rest
PICKER_LIMIT = 8  # products offered while typing a SKU or name
DELIVERABLE = (Order.Status.CONFIRMED, Order.Status.IN_PROGRESS)

# The button each allowed transition shows on the order page.
TRANSITION_LABELS = {
    Order.Status.DRAFT: gettext_lazy("Back to draft"),
    Order.Status.SUBMITTED: gettext_lazy("Submit"),
    Order.Status.CONFIRMED: gettext_lazy("Confirm"),
    Order.Status.IN_PROGRESS: gettext_lazy("Start delivery"),
    Order.Status.CANCELLED: gettext_lazy("Cancel order"),
}


# Helpers -------------------------------------------------------------------------------------


def _client(request: HttpRequest, pk: int) -> Client:
    return get_visible_or_404(client_selectors.client_list(user=request.user), request.user, pk=pk)


def _order(request: HttpRequest, pk: int) -> Order:
    return selectors.order_detail(user=request.user, pk=pk)


def _order_url(order: Order, section: str = "top") -> str:
    return f"{reverse('orders:order_detail', args=[order.pk])}#{section}"


# Lists ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    """One list page: its shared FilterSet, template, sortable columns and CSV export."""

    filterset: type[django_filters.FilterSet]
    template: str
    columns: list[tuple[str, str | Promise]]  # (ordering key, label)
    csv_name: str
    csv_header: list[str | Promise]
    csv_row: Callable[[Any], list[Any]]
    # The model whose id filters (client, contract, owner) become dropdowns of visible rows.
    choices_of: type[Order] | type[Contract] | type[Opportunity] | None = None


def _list_page(
    request: HttpRequest, spec: ListSpec, queryset: QuerySet, **context: Any
) -> HttpResponse:
    filterset = spec.filterset(request.GET, queryset=queryset, request=request)
    if spec.choices_of is not None:
        _id_dropdowns(request, filterset, spec.choices_of)
    # A unique last key keeps pages stable when the chosen column has ties.
    rows = filterset.qs
    rows = rows.order_by(*rows.query.order_by, "pk")
    if request.GET.get("format") == "csv":
        return _csv(rows, spec)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context |= {
        "filter": filterset,
        "page": page,
        "columns": sort_columns(spec.columns, request.GET.get("ordering", "")),
    }
    template = spec.template
    response = render(
        request, f"{template}#results" if is_htmx_partial(request) else template, context
    )
    response["Vary"] = "HX-Request"
    return response


def _id_dropdowns(
    request: HttpRequest, filterset: django_filters.FilterSet, model: type[Any]
) -> None:
    """The HTML form offers the id filters as dropdowns of what the person sees; the FilterSet
    (shared with the API, which keeps taking ids) still receives an id."""
    choices = selectors.list_filter_choices(user=request.user, model=model, selected=request.GET)
    id_dropdowns(filterset.form, choices)
    client_scope_dropdowns(filterset.form, user=request.user)


def _csv(rows: QuerySet, spec: ListSpec) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed."""
    return csv_response(
        rows.iterator(chunk_size=500),
        filename=spec.csv_name,
        header=spec.csv_header,
        row=spec.csv_row,
    )


ORDER_LIST = ListSpec(
    OrderFilter,
    "orders/order_list.html",
    [
        ("number", gettext_lazy("Number")),
        ("order_date", gettext_lazy("Date")),
        ("client", gettext_lazy("Client")),
        ("status", gettext_lazy("Status")),
        ("net_total", gettext_lazy("Net total")),
    ],
    "orders.csv",
    [gettext_lazy("Number"), gettext_lazy("Date"), gettext_lazy("Client"),
     gettext_lazy("Contract"), gettext_lazy("Kind"), gettext_lazy("Status"),
     gettext_lazy("Owner"), gettext_lazy("Client PO"), gettext_lazy("Net total"),
     gettext_lazy("Currency")],
    lambda o: [o.number, o.order_date.isoformat(), o.client.name,
               o.contract.number if o.contract else "", o.get_kind_display(),
               o.get_status_display(), person_name(o.owner), o.client_po, o.net_total, o.currency],
    choices_of=Order,
)  # fmt: skip

CONTRACT_LIST = ListSpec(
    ContractFilter,
    "orders/contract_list.html",
    [
        ("number", gettext_lazy("Number")),
        ("client", gettext_lazy("Client")),
        ("starts_on", gettext_lazy("Start")),
        ("ends_on", gettext_lazy("End")),
        ("status", gettext_lazy("Status")),
    ],
    "contracts.csv",
    [gettext_lazy("Number"), gettext_lazy("Client"), gettext_lazy("Status"),
     gettext_lazy("Start"), gettext_lazy("End"), gettext_lazy("Auto-renew"),
     gettext_lazy("Default discount %"), gettext_lazy("Currency")],
    lambda c: [c.number, c.client.name, c.get_status_display(), c.starts_on.isoformat(),
               c.ends_on.isoformat(), c.auto_renew, c.default_discount, c.currency],
    choices_of=Contract,
)  # fmt: skip

OPPORTUNITY_LIST = ListSpec(
    OpportunityFilter,
    "orders/opportunity_list.html",
    [
        ("title", gettext_lazy("Title")),
        ("client", gettext_lazy("Client")),
        ("value", gettext_lazy("Value")),
        ("expected_close", gettext_lazy("Expected close")),
        ("stage", gettext_lazy("Stage")),
    ],
    "opportunities.csv",
    [gettext_lazy("Title"), gettext_lazy("Client"), gettext_lazy("Stage"),
     gettext_lazy("Value"), gettext_lazy("Currency"), gettext_lazy("Probability %"),
     gettext_lazy("Expected close"), gettext_lazy("Owner"), gettext_lazy("Order")],
    lambda o: [o.title, o.client.name, o.get_stage_display(), o.value, o.currency,
               o.probability, o.expected_close.isoformat() if o.expected_close else "",
               person_name(o.owner), o.order.number if o.order else ""],
    choices_of=Opportunity,
)  # fmt: skip

PRODUCT_LIST = ListSpec(
    ProductFilter,
    "orders/product_list.html",
    [
        ("sku", gettext_lazy("SKU")),
        ("name", gettext_lazy("Name")),
        ("family", gettext_lazy("Family")),
        ("list_price", gettext_lazy("List price")),
    ],
    "products.csv",
    [gettext_lazy("SKU"), gettext_lazy("Name"), gettext_lazy("Family"), gettext_lazy("Kind"),
     gettext_lazy("Unit"), gettext_lazy("List price"), gettext_lazy("Currency"),
     gettext_lazy("VAT rate"), gettext_lazy("Active")],
    lambda p: [p.sku, p.name, p.family, p.get_kind_display(), p.unit, p.list_price, p.currency,
               p.vat_rate, p.is_active],
)  # fmt: skip


@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, ORDER_LIST, selectors.order_list(user=request.user))


@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, CONTRACT_LIST, selectors.contract_list(user=request.user))


@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.opportunity_list(user=request.user).prefetch_related(None)
    return _list_page(request, OPPORTUNITY_LIST, queryset)


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue; with `?order=<pk>` over htmx, the products offered while typing a line,
    priced as that order would price them (services.price_for)."""
    order_pk = request.GET.get("order", "")
    if order_pk.isdigit() and is_htmx_partial(request):
        order = _order(request, int(order_pk))
        context = {"options": _priced_products(request, order), "order": order}
        return render(request, "orders/product_list.html#options", context)
    return _list_page(
        request,
        PRODUCT_LIST,
        selectors.product_list(user=request.user),
        can_manage_catalogue=policies.can_manage_catalogue(request.user),
    )


def _priced_products(request: HttpRequest, order: Order) -> list[tuple[Any, services.Price]]:
    """Active products matching what was typed, each with the price `order` would give it."""
    text = request.GET.get("product", "").strip()
    if not text:
        return []
    catalogue = selectors.product_list(user=request.user)
    found = ProductFilter({"q": text, "is_active": True}, queryset=catalogue).qs[:PICKER_LIMIT]
    return [
        (product, services.price_for(product=product, contract=order.contract, on=order.order_date))
        for product in found
    ]


# Catalogue ----------------------------------------------------------------------------------


@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One product, with the agreed prices on the contracts the person sees."""
    product = get_object_or_404(selectors.product_list(user=request.user), pk=pk)
    context = {
        "product": product,
        "prices": selectors.product_contract_prices(user=request.user, product=product),
        "can_manage_catalogue": policies.can_manage_catalogue(request.user),
    }
    return render(request, "orders/product_detail.html", context)


@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no `pk`) or edit a catalogue product: admin only (orders/policies.py)."""
    if pk is None:
        product, title = Product(), _("New product")
    else:
        product = get_object_or_404(selectors.product_list(user=request.user), pk=pk)
        title = _("Edit %(product)s") % {"product": product}
    require(policies.can_manage_catalogue(request.user))
    crumbs = [(_("Products"), reverse("orders:product_list"))]
    if pk is not None:  # read before the form is bound: a rejected rename stays out of the trail
        crumbs.append((product.sku, reverse("orders:product_detail", args=[pk])))
    form = ProductForm(posted_data(request), instance=product)
    if form.is_valid() and save_form(form, services.product_save, by=request.user, product=product):
        messages.success(request, _("Product %(product)s saved.") % {"product": product})
        return redirect("orders:product_detail", pk=product.pk)
    return form_page(request, form, title=title, back=crumbs[-1][1], breadcrumbs=crumbs)


# Orders --------------------------------------------------------------------------------------


def _order_context(
    request: HttpRequest, order: Order, line_form: OrderLineForm | None = None
) -> dict[str, Any]:
    lines = list(order.lines.all())
    for line in lines:
        line.gross_amount = line.net_amount + line.vat_amount
    can_take = policies.can_take_orders(request.user, order.client)
    can_edit = can_take and order.status == Order.Status.DRAFT
    if line_form is None and can_edit:
        line_form = OrderLineForm(line=OrderLine(order=order), auto_id="line_%s")
    transitions = services.allowed_transitions(user=request.user, order=order)
    return {
        "order": order,
        "lines": lines,
        "totals": services.order_totals(lines),
        "transitions": [(status, TRANSITION_LABELS[status]) for status in transitions],
        "can_take_orders": can_take,
        "can_edit": can_edit,
        "line_form": line_form if can_edit else None,
        # Deliveries are recorded by anyone working on the account, once the order is confirmed.
        "can_deliver": order.status in DELIVERABLE
        and can_work_on_client(request.user, order.client),
        # Buttons apps to the right of orders add (billing: "Invoice this order").
        "page_links": page_links(request, "orders.order", order),
    }


@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    context = _order_context(request, order)
    context["history"] = change_history(order, models=["orders.OrderLine"])
    return render(request, "orders/order_detail.html", context)


@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest, client_pk: int) -> HttpResponse:
    """A draft order for a client, on the contract in force today unless another is chosen."""
    client = _client(request, client_pk)
    require(policies.can_take_orders(request.user, client))
    today = timezone.localdate()
    order = Order(client=client, owner=request.user, order_date=today)
    if request.method == "GET":
        order.contract = services.applicable_contract(client=client, on=today)
    form = OrderForm(posted_data(request), instance=order)
    if form.is_valid() and save_form(form, services.order_create, by=request.user, order=order):
        messages.success(request, _("Order %(order)s created: add its lines.") % {"order": order})
        return redirect(_order_url(order, "lines"))
    back = reverse("clients:client_detail", args=[client.pk]) + "#orders"
    return form_page(request, form, title=_("New order"), client=client, back=back)


@require_http_methods(["GET", "POST"])
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    require(policies.can_take_orders(request.user, order.client))
    number = order.number
    form = OrderForm(posted_data(request), instance=order)
    if form.is_valid() and save_form(
        form,
        services.order_update,
        by=request.user,
        order=order,
        version=form.cleaned_data["version"] or 0,
    ):
        messages.success(request, _("Changes to %(order)s saved.") % {"order": order})
        return redirect(_order_url(order))
    crumbs = [(_("Orders"), reverse("orders:order_list")), (number, _order_url(order))]
    title = _("Edit %(order)s") % {"order": number}
    return form_page(request, form, title=title, back=_order_url(order), breadcrumbs=crumbs)


@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Fast order entry: a line by SKU or name, priced by the service; htmx swaps the lines."""
    order = _order(request, pk)
    require(policies.can_take_orders(request.user, order.client))
    form = OrderLineForm(request.POST, line=OrderLine(order=order), auto_id="line_%s")
    if form.is_valid() and save_form(
        form,
        services.order_line_save,
        by=request.user,
        line=form.apply(),
        version=form.cleaned_data["version"] or 0,
        manual_price=form.manual_price,
    ):
        messages.success(request, _("%(line)s added.") % {"line": form.line.product})
        if not is_htmx_partial(request):
            return redirect(_order_url(order, "lines"))
        form = None
    order = _order(request, pk)
    context = _order_context(request, order, form)
    if is_htmx_partial(request):
        context["oob_messages"] = True
        return render(request, "orders/order_detail.html#order-lines", context)
    return render(request, "orders/order_detail.html", context, status=400)


def _line(request: HttpRequest, order: Order, line_pk: int) -> OrderLine:
    line = get_object_or_404(order.lines.select_related("product"), pk=line_pk)
    line.order = order
    return line


@require_http_methods(["GET", "POST"])
def line_edit(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    order = _order(request, pk)
    line = _line(request, order, line_pk)
    require(policies.can_take_orders(request.user, order.client))
    form = OrderLineForm(posted_data(request), line=line)
    if form.is_valid() and save_form(
        form,
        services.order_line_save,
        by=request.user,
        line=form.apply(),
        version=form.cleaned_data["version"] or 0,
        manual_price=form.manual_price,
    ):
        messages.success(request, _("%(line)s saved.") % {"line": line.product})
        return redirect(_order_url(order, "lines"))
    crumbs = [(_("Orders"), reverse("orders:order_list")), (order.number, _order_url(order))]
    return form_page(
        request,
        form,
        title=str(line.product),
        back=_order_url(order, "lines"),
        breadcrumbs=crumbs,
    )


@require_POST
def line_delete(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    order = _order(request, pk)
    line = _line(request, order, line_pk)
    require(policies.can_take_orders(request.user, order.client))
    version = request.POST.get("version", "")
    if (
        run_action(
            request,
            services.order_line_delete,
            by=request.user,
            line=line,
            version=int(version) if version.isdigit() else 0,
        )
        is not FAILED
    ):
        messages.success(request, _("%(line)s removed.") % {"line": line.product})
    return redirect(_order_url(order, "lines"))


@require_POST
def line_delivery(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """How much of a line is delivered so far; the order moves on by itself (the service)."""
    order = _order(request, pk)
    line = _line(request, order, line_pk)
    require(can_work_on_client(request.user, order.client))
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["delivered_quantity"]))
    elif (
        run_action(
            request,
            services.order_record_delivery,
            by=request.user,
            line=line,
            delivered_quantity=form.cleaned_data["delivered_quantity"],
        )
        is not FAILED
    ):
        messages.success(request, _("Delivery of %(line)s recorded.") % {"line": line.product})
    return redirect(_order_url(order, "lines"))


@require_POST
def order_transition(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    require(policies.can_take_orders(request.user, order.client))
    to = request.POST.get("to", "")
    if to not in Order.Status.values:
        messages.error(request, _("Choose the status the order moves to."))
    elif (
        run_action(request, services.order_transition, by=request.user, order=order, to=to)
        is not FAILED
    ):
        messages.success(
            request,
            _("Order %(order)s is now %(status)s.")
            % {"order": order, "status": Order.Status(to).label.lower()},
        )
    return redirect(_order_url(order))


@require_POST
def order_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """One click: a draft copy of this order at today's prices, opened for editing."""
    order = _order(request, pk)
    require(policies.can_take_orders(request.user, order.client))
    copy = run_action(request, services.order_reorder, by=request.user, order=order)
    if copy is FAILED:
        return redirect(_order_url(order))
    messages.success(
        request,
        _("Reorder %(copy)s created from %(order)s at today's prices: check it and submit it.")
        % {"copy": copy, "order": order},
    )
    return redirect(_order_url(copy, "lines"))


# Contracts -----------------------------------------------------------------------------------


def _contract(request: HttpRequest, pk: int) -> Contract:
    return selectors.contract_detail(user=request.user, pk=pk)


def _contract_url(contract: Contract, section: str = "top") -> str:
    return f"{reverse('orders:contract_detail', args=[contract.pk])}#{section}"


@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk)
    context = {
        "contract": contract,
        "prices": contract.prices.all(),
        "can_manage": policies.can_manage_contracts(request.user, contract.client),
        "history": change_history(contract, models=["orders.ContractPrice"]),
        # Panels of the apps to the right (dashboards: contract compliance).
        "page_panels": page_panels(request, "orders.contract", contract),
    }
    return render(request, "orders/contract_detail.html", context)


@require_http_methods(["GET", "POST"])
def contract_edit(
    request: HttpRequest, pk: int | None = None, client_pk: int | None = None
) -> HttpResponse:
    """Create (with `client_pk`) or edit (with `pk`) a contract."""
    if pk is None:
        client = _client(request, client_pk)
        contract = Contract(client=client)
        title, back = _("New contract"), reverse("clients:client_detail", args=[client_pk])
        back += "#contracts"
    else:
        contract = _contract(request, pk)
        client = contract.client
        title, back = _("Edit %(contract)s") % {"contract": contract}, _contract_url(contract)
    require(policies.can_manage_contracts(request.user, client))
    form = ContractForm(posted_data(request), instance=contract)
    if form.is_valid() and save_form(
        form,
        services.contract_save,
        by=request.user,
        contract=contract,
        version=form.cleaned_data["version"] or 0,
    ):
        messages.success(request, _("Contract %(contract)s saved.") % {"contract": contract})
        return redirect(_contract_url(contract))
    return form_page(request, form, title=title, client=client, back=back)


@require_http_methods(["GET", "POST"])
def contract_price_edit(request: HttpRequest, pk: int, price_pk: int | None = None) -> HttpResponse:
    """Add (no `price_pk`) or change an agreed price of a contract."""
    contract = _contract(request, pk)
    require(policies.can_manage_contracts(request.user, contract.client))
    if price_pk is None:
        price, title = ContractPrice(contract=contract), _("New contract price")
    else:
        price = get_object_or_404(contract.prices.select_related("product"), pk=price_pk)
        price.contract = contract
        title = _("Edit %(price)s") % {"price": price}
    form = ContractPriceForm(posted_data(request), instance=price)
    if form.is_valid() and save_form(
        form, services.contract_price_save, by=request.user, price=price
    ):
        messages.success(request, _("Price of %(product)s saved.") % {"product": price.product})
        return redirect(_contract_url(contract, "prices"))
    crumbs = [(_("Contracts"), reverse("orders:contract_list")),
              (contract.number, _contract_url(contract))]  # fmt: skip
    return form_page(
        request, form, title=title, back=_contract_url(contract, "prices"), breadcrumbs=crumbs
    )


# Opportunities -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def opportunity_edit(
    request: HttpRequest, pk: int | None = None, client_pk: int | None = None
) -> HttpResponse:
    """Create (with `client_pk`) or edit (with `pk`) an opportunity."""
    if pk is None:
        client = _client(request, client_pk)
        opportunity = Opportunity(client=client)
        title = _("New opportunity")
    else:
        opportunity = get_visible_or_404(
            selectors.opportunity_list(user=request.user), request.user, pk=pk
        )
        client = opportunity.client
        title = _("Edit %(opportunity)s") % {"opportunity": opportunity}
    require(policies.can_take_orders(request.user, client))
    form = OpportunityForm(posted_data(request), instance=opportunity)
    if form.is_valid() and save_form(
        form,
        services.opportunity_save,
        by=request.user,
        opportunity=opportunity,
        products=list(form.cleaned_data["products"]),
    ):
        messages.success(request, _("Opportunity %(title)s saved.") % {"title": opportunity})
        return redirect(reverse("clients:client_detail", args=[client.pk]) + "#opportunities")
    back = reverse("clients:client_detail", args=[client.pk]) + "#opportunities"
    return form_page(request, form, title=title, client=client, back=back)


@require_POST
def opportunity_win(request: HttpRequest, pk: int) -> HttpResponse:
    """Won: the opportunity becomes a draft order, opened for editing."""
    opportunity = get_visible_or_404(
        selectors.opportunity_list(user=request.user), request.user, pk=pk
    )
    require(policies.can_take_orders(request.user, opportunity.client))
    order = run_action(request, services.opportunity_win, by=request.user, opportunity=opportunity)
    if order is FAILED:
        return redirect(reverse("clients:client_detail", args=[opportunity.client_id]))
    messages.success(
        request,
        _("%(title)s won: draft order %(order)s created.") % {"title": opportunity, "order": order},
    )
    return redirect(_order_url(order, "lines"))


# Sections of the client page (registered in orders/apps.py) ----------------------------------


def client_orders_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    orders = selectors.order_list(user=request.user).filter(client=client)
    return {
        "client_orders": orders[:SECTION_LIMIT],
        "can_take_orders": policies.can_take_orders(request.user, client),
    }


def client_contracts_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    contracts = selectors.contract_list(user=request.user).filter(client=client)
    return {
        "client_contracts": contracts[:SECTION_LIMIT],
        "can_manage_contracts": policies.can_manage_contracts(request.user, client),
    }


def client_opportunities_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    opportunities = (
        selectors.opportunity_list(user=request.user)
        .filter(client=client)
        .exclude(stage__in=[Opportunity.Stage.WON, Opportunity.Stage.LOST])
    )
    return {"client_opportunities": opportunities[:SECTION_LIMIT]}


# Selling more: reorders due and whitespace on the client page --------------------------------
#
# Decision (issue 4): comparable clients are evidence by number only. The whitespace selector
# counts peers across the whole book, visible or not, and never returns who they are; these
# sections show "bought by N of M comparable clients" and never a name, so a NAM learns that a
# family sells in their client's industry without learning anything about another account.


def _open_suggestions(request: HttpRequest, client: Client) -> suggestions.OpenSuggestions:
    """The client's open suggestion opportunities, read once per request for both sections."""
    cache = request.__dict__.setdefault("_open_suggestions", {})
    if client.pk not in cache:
        cache[client.pk] = suggestions.open_suggestions(client=client)
    return cache[client.pk]


def client_reorders_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    due = suggestions.reorders_due(user=request.user, client=client)
    found = _open_suggestions(request, client)
    return {
        "reorders_due": [(row, found.for_reorder(row.product)) for row in due],
        "can_take_orders": policies.can_take_orders(request.user, client),
    }


def client_whitespace_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    matrix = suggestions.whitespace(user=request.user, client=client)
    found = _open_suggestions(request, client)
    suggested = {suggestion.family for suggestion in matrix.suggestions}
    return {
        "whitespace": matrix,
        # The matrix sums net amounts as the book records them, in the house currency.
        "whitespace_currency": settings.DEFAULT_CURRENCY,
        # Column headers: a family the group does not buy but its peers do is marked as such.
        "whitespace_families": [(family, family in suggested) for family in matrix.families],
        # Without an industry there is no comparable client to learn from.
        "whitespace_has_industry": any(company.industry for company in matrix.companies),
        "whitespace_suggestions": [
            (suggestion, found.for_family(suggestion.family)) for suggestion in matrix.suggestions
        ],
        "can_take_orders": policies.can_take_orders(request.user, client),
    }


def _not_suggested(request: HttpRequest, client: Client, data: dict[str, Any]) -> str | None:
    """Why this is not (or no longer) a suggestion for the client, or None when it is: the
    button may sit on a page opened before the client reordered."""
    if data["source"] == Opportunity.Source.REORDER_DUE:
        due = suggestions.reorders_due(user=request.user, client=client)
        if data["product"].pk not in {row.product.pk for row in due}:
            return _("%(product)s is no longer due for a reorder.") % {"product": data["product"]}
        return None
    matrix = suggestions.whitespace(user=request.user, client=client)
    if data["family"] not in {suggestion.family for suggestion in matrix.suggestions}:
        return _("%(family)s is not a whitespace suggestion for this group.") % {
            "family": data["family"]
        }
    return None


@require_POST
def suggestion_opportunity(request: HttpRequest, client_pk: int) -> HttpResponse:
    """One click: a reorder due or a whitespace family becomes an opportunity (the same one when
    clicked again). Over htmx the button is swapped for a link to it."""
    client = _client(request, client_pk)
    require(policies.can_take_orders(request.user, client))
    form = SuggestionForm(request.POST)
    opportunity = FAILED
    if not form.is_valid():
        messages.error(request, " ".join(message for ms in form.errors.values() for message in ms))
    elif error := _not_suggested(request, client, form.cleaned_data):
        messages.error(request, error)
    else:
        whitespace = form.cleaned_data["source"] == Opportunity.Source.WHITESPACE
        opportunity = run_action(
            request, suggestions.suggestion_to_opportunity, by=request.user, client=client,
            source=form.cleaned_data["source"],
            product=None if whitespace else form.cleaned_data["product"],
            family=form.cleaned_data["family"] if whitespace else None,
        )  # fmt: skip
    section = "whitespace" if request.POST.get("source") == "whitespace" else "reorders"
    if is_htmx_partial(request):
        # Refused: the button again (same values), the reason in the page's messages.
        failed = opportunity is FAILED
        context = {"client": client, "can_take_orders": True, "oob_messages": failed}
        context |= {key: request.POST.get(key, "") for key in ("source", "product", "family")}
        context["opportunity"] = None if failed else opportunity
        return render(request, "orders/_suggestion_action.html", context)
    if opportunity is not FAILED:
        messages.success(request, _("Opportunity %(title)s opened.") % {"title": opportunity})
    return redirect(_client_url(client, section))


def _client_url(client: Client, section: str) -> str:
    return f"{reverse('clients:client_detail', args=[client.pk])}#{section}"
