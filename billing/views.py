"""HTML pages for billing: invoices and credit notes, payments, the invoice checks' findings, the
finance review queue and receivables. Parse, call a service or selector, render.

Same rules as the orders pages (orders/views.py; the shared helpers are accounts_crm/pages.py):
an invoice the person may not see is a 404, an action their role does not allow is a 403 (only
finance and admin manage invoices, record payments and override findings; the NAM, the team lead
and finance comment on findings), what a service refuses is a form error or an error message.
htmx requests get a partial of the same template as the page.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts_crm.access import get_visible_or_404
from accounts_crm.errors import DomainError, NotAllowedError
from accounts_crm.pages import (
    FAILED,
    PageLink,
    change_history,
    csv_response,
    form_page,
    id_dropdowns,
    is_htmx_partial,
    posted_data,
    require,
    run_action,
    safe_next,
    save_form,
    sort_columns,
)
from billing import checks, fatturapa, policies, selectors, services
from billing.filters import FindingFilter, InvoiceFilter
from billing.forms import (
    CommentForm,
    CreditNoteForm,
    InvoiceForm,
    InvoiceLineForm,
    IssueForm,
    OverrideForm,
    PaymentForm,
)
from billing.models import ISSUED_STATUSES, CheckFinding, EInvoiceExport, Invoice, InvoiceLine
from clients.filters import client_scope_dropdowns
from clients.models import Client
from orders import selectors as order_selectors
from orders.models import Contract, ContractPrice, OrderLine
from projects import selectors as project_selectors
from projects.models import Milestone

PAGE_SIZE = 25
SECTION_LIMIT = 10  # rows per section on the client page; the list behind it has the rest
# How long the "check now" progress polls. A check that changes nothing (a clean invoice stays
# clean) leaves no trace to wait for, so after this the page says so instead of spinning.
CHECK_POLL_SECONDS = 2
CHECK_WAIT_SECONDS = 30
# The most invoices one "Export filtered (ZIP)" exports: the export runs in the request, in one
# transaction, and keeps every file; a larger book goes a filter (a month, a client) at a time.
EINVOICE_BATCH_LIMIT = 500
# SdI findings listed one message each after a refused export; the rest are counted.
EINVOICE_FINDINGS_SHOWN = 20
XML_CONTENT_TYPE = "application/xml"
ZIP_CONTENT_TYPE = "application/zip"


# Helpers -------------------------------------------------------------------------------------


def _invoice(request: HttpRequest, pk: int) -> Invoice:
    try:
        return selectors.invoice_detail(user=request.user, pk=pk)
    except Invoice.DoesNotExist:
        raise Http404(_("No invoice matches the given query.")) from None


def _invoice_url(invoice: Invoice | int, section: str = "top") -> str:
    pk = invoice if isinstance(invoice, int) else invoice.pk
    return f"{reverse('billing:invoice_detail', args=[pk])}#{section}"


def _version(request: HttpRequest) -> int:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else 0


def _id_dropdowns(request: HttpRequest, filterset: Any, names: tuple[str, ...]) -> None:
    """The HTML form offers client, NAM, contract and rule as dropdowns of what the person
    sees; the FilterSet (shared with the API, which keeps taking ids and codes) still receives
    them."""
    choices = selectors.invoice_filter_choices(user=request.user)
    id_dropdowns(
        filterset.form, {name: choices[name] for name in names if name in ("client", "nam")}
    )
    if "contract" in names:
        contracts = selectors.invoice_contract_choices(
            user=request.user, selected=request.GET.get("contract")
        )
        id_dropdowns(filterset.form, {"contract": contracts})
    client_scope_dropdowns(filterset.form, user=request.user, names=("team",))
    if "rule" in names:  # rule codes are strings, shown by their titles
        options = [(code, checks.rule_label(code)) for code, _label in choices["rule"]]
        filterset.form.fields["rule"] = forms.ChoiceField(
            label=filterset.form.fields["rule"].label,
            choices=[("", _("All")), *options],
            required=False,
        )


# Compared with: where a finding's expected value comes from ----------------------------------


def _compared_links(findings: list[CheckFinding]) -> None:
    """Set `compared_url` and `compared_label` on each finding: the contract price, order line,
    milestone, contract or invoice its expected value was read from. One query per kind of row
    present (at most four), whatever the number of findings."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for finding in findings:
        if finding.compared_to_type_id:
            wanted[finding.compared_to_type.model].add(finding.compared_to_id)
    urls: dict[tuple[str, int], tuple[str, str]] = {}
    if ids := wanted.get("contractprice"):
        for pk, contract_id, number in ContractPrice.objects.filter(pk__in=ids).values_list(
            "pk", "contract_id", "contract__number"
        ):
            url = reverse("orders:contract_detail", args=[contract_id]) + "#prices"
            urls["contractprice", pk] = (url, _("Contract price on %(c)s") % {"c": number})
    if ids := wanted.get("orderline"):
        for pk, order_id, number in OrderLine.objects.filter(pk__in=ids).values_list(
            "pk", "order_id", "order__number"
        ):
            url = reverse("orders:order_detail", args=[order_id]) + "#lines"
            urls["orderline", pk] = (url, _("Order line of %(o)s") % {"o": number})
    if ids := wanted.get("milestone"):
        for pk, project_id, name in Milestone.objects.filter(pk__in=ids).values_list(
            "pk", "project_id", "name"
        ):
            url = reverse("projects:project_detail", args=[project_id]) + f"#milestone-{pk}"
            urls["milestone", pk] = (url, _("Milestone %(m)s") % {"m": name})
    if ids := wanted.get("contract"):
        for pk, number in Contract.objects.filter(pk__in=ids).values_list("pk", "number"):
            url = reverse("orders:contract_detail", args=[pk])
            urls["contract", pk] = (url, _("Contract %(c)s") % {"c": number})
    if ids := wanted.get("invoice"):
        for row in Invoice.objects.filter(pk__in=ids).only("pk", "series", "year", "number"):
            urls["invoice", row.pk] = (_invoice_url(row), str(row.display_number))
    for finding in findings:
        key = (
            (finding.compared_to_type.model, finding.compared_to_id)
            if (finding.compared_to_type_id)
            else None
        )
        finding.compared_url, finding.compared_label = urls.get(key, (None, None))


def _decorate(findings: list[CheckFinding]) -> list[CheckFinding]:
    for finding in findings:
        finding.display_message = checks.finding_message(finding)
        finding.expected_display, finding.actual_display = checks.localized_values(finding)
        finding.rule_label = checks.rule_label(finding.rule)
    _compared_links(findings)
    return findings


# Invoice list --------------------------------------------------------------------------------

LIST_COLUMNS = [
    ("number", gettext_lazy("Number")),
    ("issue_date", gettext_lazy("Issued")),
    ("client", gettext_lazy("Client")),
    ("status", gettext_lazy("Status")),
    ("due_date", gettext_lazy("Due")),
    ("gross_total", gettext_lazy("Total")),
    ("outstanding", gettext_lazy("Outstanding")),
    ("amount_at_stake", gettext_lazy("At stake")),
]
CSV_HEADER = [
    gettext_lazy("Number"), gettext_lazy("Kind"), gettext_lazy("Client"), gettext_lazy("Order"),
    gettext_lazy("Status"), gettext_lazy("Check status"), gettext_lazy("Issue date"),
    gettext_lazy("Due date"), gettext_lazy("Net total"), gettext_lazy("VAT total"),
    gettext_lazy("Gross total"), gettext_lazy("Outstanding"), gettext_lazy("Overdue"),
    gettext_lazy("Open findings"), gettext_lazy("Amount at stake"), gettext_lazy("Currency"),
]  # fmt: skip


def _csv_row(i: Invoice) -> list[Any]:
    return [
        i.display_number, i.get_kind_display(), i.client.name, i.order.number if i.order else "",
        i.get_status_display(), i.get_check_status_display(),
        i.issue_date.isoformat() if i.issue_date else "",
        i.due_date.isoformat() if i.due_date else "", i.net_total, i.vat_total, i.gross_total,
        i.outstanding, i.overdue, i.open_findings, i.amount_at_stake, i.currency,
    ]  # fmt: skip


@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    """Every invoice the person sees: search, filters, sort, pages and CSV (InvoiceFilter)."""
    filterset = InvoiceFilter(
        request.GET, queryset=selectors.invoice_list(user=request.user), request=request
    )
    _id_dropdowns(request, filterset, ("client", "contract", "nam", "rule"))
    rows = filterset.qs
    # A unique last key keeps pages stable when the chosen column has ties.
    rows = rows.order_by(*(rows.query.order_by or Invoice._meta.ordering), "pk")
    if request.GET.get("format") == "csv":
        return csv_response(
            rows.iterator(chunk_size=500), filename="invoices.csv", header=CSV_HEADER,
            row=_csv_row,
        )  # fmt: skip
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "columns": sort_columns(LIST_COLUMNS, request.GET.get("ordering", "")),
        "can_manage": policies.can_manage_invoices(request.user),
        "can_export_einvoices": policies.can_export_einvoices(request.user),
        "einvoice_batch_limit": EINVOICE_BATCH_LIMIT,
    }
    template = "billing/invoice_list.html"
    response = render(
        request, f"{template}#results" if is_htmx_partial(request) else template, context
    )
    response["Vary"] = "HX-Request"
    return response


# Invoice detail ------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, invoice: Invoice, **forms_: Any) -> dict[str, Any]:
    user = request.user
    can_manage = policies.can_manage_invoices(user)
    can_override = policies.can_override_findings(user)
    can_comment = policies.can_comment_on_findings(user, invoice.client)
    findings = _decorate(list(invoice.findings.all()))
    for finding in findings:
        finding.override_error = (forms_.get("override_errors") or {}).get(finding.pk)
        finding.comment_error = (forms_.get("comment_errors") or {}).get(finding.pk)
    findings.sort(key=lambda f: (f.status != "open", f.severity != "error", f.rule, f.key))
    lines = list(invoice.lines.all())
    for line in lines:
        line.gross_amount = line.net_amount + line.vat_amount
    is_draft = invoice.is_draft
    can_edit = can_manage and is_draft
    can_export = policies.can_export_einvoices(user)
    open_errors = [f for f in findings if f.status == "open" and f.severity == "error"]
    context = {
        "invoice": invoice,
        "lines": lines,
        "payments": list(invoice.payments.all()),
        "credit_notes": list(invoice.credit_notes.all()),
        "findings": findings,
        "open_errors": open_errors,
        "can_manage": can_manage,
        "can_edit": can_edit,
        "can_override": can_override,
        "can_comment": can_comment,
        "can_issue": can_manage and is_draft,
        "can_pay": can_manage
        and invoice.kind == Invoice.Kind.INVOICE
        and invoice.status in ("issued", "partially_paid"),
        "can_credit": can_manage
        and invoice.kind == Invoice.Kind.INVOICE
        and invoice.status in ("issued", "partially_paid", "paid"),
        "can_export_einvoice": can_export and invoice.status in ISSUED_STATUSES,
        # Finance only (they alone download the files): one query, whatever their number.
        "einvoice_exports": (
            selectors.einvoice_exports(invoice=invoice) if can_export and not is_draft else None
        ),
        "line_form": forms_.get("line_form") or (
            InvoiceLineForm(line=InvoiceLine(invoice=invoice), auto_id="line_%s")
            if can_edit else None
        ),
        "issue_form": forms_.get("issue_form") or IssueForm(initial={"version": invoice.version}),
        "payment_form": forms_.get("payment_form") or PaymentForm(
            initial={"paid_on": timezone.localdate(), "amount": invoice.outstanding}
        ),
    }  # fmt: skip
    return context


@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    context = _detail_context(request, invoice)
    context["history"] = change_history(
        invoice,
        models=["billing.InvoiceLine", "billing.Payment", "billing.CheckFinding",
                "billing.FindingComment"],
    )  # fmt: skip
    return render(request, "billing/invoice_detail.html", context)


@require_GET
def invoice_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice as a document: A4, no navigation (static/css/billing_print.css)."""
    invoice = _invoice(request, pk)
    lines = list(invoice.lines.all())
    for line in lines:
        line.gross_amount = line.net_amount + line.vat_amount
    return render(request, "billing/invoice_print.html", {"invoice": invoice, "lines": lines})


# E-invoices (FatturaPA: billing/fatturapa.py) --------------------------------------------------


def _download(content: bytes, *, file_name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return response


def _einvoice_refused(request: HttpRequest, error: DomainError | ValidationError) -> None:
    """Why nothing was exported, as messages: the refusal, then each SdI finding on its own."""
    if isinstance(error, ValidationError):  # the seller profile does not pass its own rules
        messages.error(
            request,
            _("The seller fiscal profile is not valid: %(errors)s")
            % {"errors": " ".join(error.messages)},
        )
        return
    findings = list(getattr(error, "findings", []))
    if not findings:
        messages.error(request, error.message)
        return
    messages.error(
        request,
        ngettext(
            "Nothing was exported: the exchange system (SdI) would reject it for %(count)s "
            "finding. Fix the invoice, then export again.",
            "Nothing was exported: the exchange system (SdI) would reject it for %(count)s "
            "findings. Fix the invoices, then export again.",
            len(findings),
        )
        % {"count": len(findings)},
    )
    for finding in findings[:EINVOICE_FINDINGS_SHOWN]:
        messages.error(request, str(finding))
    if len(findings) > EINVOICE_FINDINGS_SHOWN:
        more = len(findings) - EINVOICE_FINDINGS_SHOWN
        messages.error(
            request,
            ngettext("... and %(count)s more finding.", "... and %(count)s more findings.", more)
            % {"count": more},
        )


def _visible_invoice(request: HttpRequest, pk: int) -> Invoice:
    """The invoice without the page's prefetches: an export reads what it needs itself."""
    return get_visible_or_404(Invoice.objects, request.user, pk=pk)


@require_POST
def invoice_einvoice(request: HttpRequest, pk: int) -> HttpResponse:
    """Export the issued invoice or credit note as a FatturaPA file and download it (finance)."""
    invoice = _visible_invoice(request, pk)
    require(policies.can_export_einvoices(request.user))
    try:
        export = fatturapa.einvoice_export(by=request.user, invoice=invoice)
    except NotAllowedError as error:
        raise PermissionDenied(error.message) from error
    except (DomainError, ValidationError) as error:
        _einvoice_refused(request, error)
        return redirect(_invoice_url(invoice, "einvoice"))
    return _download(
        export.xml.encode("utf-8"), file_name=export.file_name, content_type=XML_CONTENT_TYPE
    )


@require_GET
def einvoice_download(request: HttpRequest, pk: int, export_pk: int) -> HttpResponse:
    """A file exported before, exactly as it was exported (finance)."""
    invoice = _visible_invoice(request, pk)
    require(policies.can_export_einvoices(request.user))
    export = EInvoiceExport.objects.filter(invoice=invoice, pk=export_pk).first()
    if export is None:
        raise Http404(_("No e-invoice export of this invoice matches the given query."))
    return _download(
        export.xml.encode("utf-8"), file_name=export.file_name, content_type=XML_CONTENT_TYPE
    )


@require_POST
def einvoice_batch(request: HttpRequest) -> HttpResponse:
    """Export the issued invoices and credit notes of the list's current filters (the query
    string, InvoiceFilter) as one zip: drafts are skipped and counted, more than
    EINVOICE_BATCH_LIMIT is refused, and one refused invoice exports nothing (the core's rule)."""
    require(policies.can_export_einvoices(request.user))
    back = reverse("billing:invoice_list")
    query = request.GET.copy()
    query.pop("page", None)
    if query:
        back = f"{back}?{query.urlencode()}"
    filterset = InvoiceFilter(
        request.GET, queryset=selectors.invoice_list(user=request.user), request=request
    )
    if not filterset.is_valid():
        messages.error(request, _("Correct the filters before exporting."))
        return redirect(back)
    rows = filterset.qs
    ids = list(
        rows.filter(status__in=ISSUED_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)[: EINVOICE_BATCH_LIMIT + 1]
    )
    if len(ids) > EINVOICE_BATCH_LIMIT:
        messages.error(
            request,
            _(
                "More than %(limit)s issued invoices match these filters: narrow them (a period, "
                "a client) and export again."
            )
            % {"limit": EINVOICE_BATCH_LIMIT},
        )
        return redirect(back)
    if not ids:
        messages.error(request, _("No issued invoice or credit note matches these filters."))
        return redirect(back)
    invoices = list(Invoice.objects.filter(pk__in=ids).order_by("pk"))
    try:
        batch = fatturapa.einvoice_export_batch(by=request.user, invoices=invoices)
    except NotAllowedError as error:
        raise PermissionDenied(error.message) from error
    except (DomainError, ValidationError) as error:
        _einvoice_refused(request, error)
        return redirect(back)
    if drafts := rows.exclude(status__in=ISSUED_STATUSES).count():
        messages.info(
            request,
            ngettext(
                "%(count)s draft matching the filters was skipped: only issued invoices and "
                "credit notes are exported.",
                "%(count)s drafts matching the filters were skipped: only issued invoices and "
                "credit notes are exported.",
                drafts,
            )
            % {"count": drafts},
        )
    response = _download(batch.zip_bytes, file_name=batch.zip_name, content_type=ZIP_CONTENT_TYPE)
    response["X-Skipped-Drafts"] = str(drafts)
    return response


# Creating and editing drafts -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invoice_create(request: HttpRequest) -> HttpResponse:
    """A draft invoice from an order (`?order=<id>`: what is not invoiced yet) or from a
    project's completed billable milestones (`?project=<id>`). GET shows what it will bill."""
    source = request.GET.get("order") or request.POST.get("order")
    project_id = request.GET.get("project") or request.POST.get("project")
    if source and source.isdigit():
        order = order_selectors.order_detail(user=request.user, pk=int(source))
        lines = list(selectors.with_invoiced_quantity(order.lines.select_related("product")))
        pending = [line for line in lines if line.uninvoiced_quantity > 0]
        context = {"order": order, "order_lines": lines, "pending": pending}
        service, kwargs = services.invoice_from_order, {"order": order}
        back = reverse("orders:order_detail", args=[order.pk])
    elif project_id and project_id.isdigit():
        project = project_selectors.project_detail(user=request.user, pk=int(project_id))
        pending = list(selectors.billable_milestones(project.milestones.all()))
        context = {"project": project, "pending": pending}
        service, kwargs = services.invoice_from_milestones, {"project": project}
        back = reverse("projects:project_detail", args=[project.pk])
    else:
        raise Http404(_("Open this page from an order or a project."))
    # After the lookups: an order or project the person may not see is a 404, not a 403.
    require(policies.can_manage_invoices(request.user))
    if request.method == "POST":
        invoice = run_action(request, service, by=request.user, **kwargs)
        if invoice is not FAILED:
            messages.success(
                request,
                _("Draft %(invoice)s created: check it, then issue it.") % {"invoice": invoice},
            )
            return redirect(_invoice_url(invoice))
    context["back"] = back
    return render(request, "billing/invoice_create.html", context)


def invoice_order_link(request: HttpRequest, order: Any) -> PageLink | None:
    """ "Invoice this order" on the order page: for finance, once the order is past draft."""
    if not policies.can_manage_invoices(request.user) or order.status in ("draft", "cancelled"):
        return None
    url = f"{reverse('billing:invoice_create')}?order={order.pk}"
    return PageLink(gettext_lazy("Invoice this order"), url)


def invoice_project_link(request: HttpRequest, project: Any) -> PageLink | None:
    """ "Invoice completed milestones" on the project page: for finance."""
    if not policies.can_manage_invoices(request.user):
        return None
    url = f"{reverse('billing:invoice_create')}?project={project.pk}"
    return PageLink(gettext_lazy("Invoice completed milestones"), url)


@require_http_methods(["GET", "POST"])
def invoice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The header of a draft."""
    invoice = _invoice(request, pk)
    require(policies.can_manage_invoices(request.user))
    number = invoice.display_number
    form = InvoiceForm(posted_data(request), instance=invoice, user=request.user)
    if form.is_valid() and save_form(
        form, services.invoice_update, by=request.user, invoice=invoice,
        version=form.cleaned_data["version"] or 0,
    ):  # fmt: skip
        messages.success(request, _("Changes to %(invoice)s saved.") % {"invoice": number})
        return redirect(_invoice_url(invoice))
    crumbs = [(_("Invoices"), reverse("billing:invoice_list")), (number, _invoice_url(invoice))]
    title = _("Edit %(invoice)s") % {"invoice": number}
    return form_page(request, form, title=title, back=_invoice_url(invoice), breadcrumbs=crumbs)


@require_POST
def invoice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    require(policies.can_manage_invoices(request.user))
    number = invoice.display_number
    if run_action(request, services.invoice_delete, by=request.user, invoice=invoice) is FAILED:
        return redirect(_invoice_url(invoice))
    messages.success(request, _("Draft %(invoice)s deleted.") % {"invoice": number})
    return redirect("billing:invoice_list")


def _lines_response(
    request: HttpRequest, pk: int, line_form: InvoiceLineForm | None, status: int = 200
) -> HttpResponse:
    """The lines partial (htmx) or the whole page (a refused form without JavaScript)."""
    invoice = _invoice(request, pk)
    context = _detail_context(request, invoice, line_form=line_form)
    if is_htmx_partial(request):
        context["oob_messages"] = True
        return render(request, "billing/invoice_detail.html#invoice-lines", context)
    context["history"] = []
    return render(request, "billing/invoice_detail.html", context, status=status)


@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a line to a draft; htmx swaps the lines and totals."""
    invoice = _invoice(request, pk)
    require(policies.can_manage_invoices(request.user))
    form = InvoiceLineForm(request.POST, line=InvoiceLine(invoice=invoice), auto_id="line_%s")
    if form.is_valid() and save_form(
        form, services.invoice_line_save, by=request.user, line=form.apply(),
        version=form.cleaned_data["version"] or 0,
    ):  # fmt: skip
        messages.success(request, _("Line %(line)s added.") % {"line": form.line.description})
        if not is_htmx_partial(request):
            return redirect(_invoice_url(invoice, "lines"))
        return _lines_response(request, pk, None)
    return _lines_response(request, pk, form, status=400)


def _line(invoice: Invoice, line_pk: int) -> InvoiceLine:
    for line in invoice.lines.all():
        if line.pk == line_pk:
            line.invoice = invoice
            return line
    raise Http404(_("No line of this invoice matches the given query."))


@require_http_methods(["GET", "POST"])
def line_edit(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    line = _line(invoice, line_pk)
    require(policies.can_manage_invoices(request.user))
    initial = {"sku": line.product.sku if line.product else ""}
    form = InvoiceLineForm(posted_data(request), line=line, initial=initial)
    if form.is_valid() and save_form(
        form, services.invoice_line_save, by=request.user, line=form.apply(),
        version=form.cleaned_data["version"] or 0,
    ):  # fmt: skip
        messages.success(request, _("Line %(line)s saved.") % {"line": line.description})
        return redirect(_invoice_url(invoice, "lines"))
    number = invoice.display_number
    crumbs = [(_("Invoices"), reverse("billing:invoice_list")), (number, _invoice_url(invoice))]
    return form_page(
        request, form, title=line.description, back=_invoice_url(invoice, "lines"),
        breadcrumbs=crumbs,
    )  # fmt: skip


@require_POST
def line_delete(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    line = _line(invoice, line_pk)
    require(policies.can_manage_invoices(request.user))
    result = run_action(
        request, services.invoice_line_delete, by=request.user, line=line,
        version=_version(request),
    )  # fmt: skip
    if result is not FAILED:
        messages.success(request, _("Line %(line)s removed.") % {"line": line.description})
    if is_htmx_partial(request):
        return _lines_response(request, pk, None)
    return redirect(_invoice_url(invoice, "lines"))


# Checks, issuing, payments, credit notes -----------------------------------------------------


def _check_state(request: HttpRequest, invoice: Invoice, since: datetime.datetime | None) -> dict:
    """Where the background check requested at `since` is: waiting, done or not answered."""
    state = "idle"
    if since is not None:
        last_seen = max((f.last_seen_at for f in invoice.findings.all()), default=None)
        answered = invoice.updated_at >= since or (last_seen is not None and last_seen >= since)
        if answered and invoice.check_status != Invoice.CheckStatus.UNCHECKED:
            state = "done"
        elif timezone.now() - since > datetime.timedelta(seconds=CHECK_WAIT_SECONDS):
            state = "late"
        else:
            state = "waiting"
    return {
        "invoice": invoice,
        "check_state": state,
        "since": since.isoformat() if since else "",
        "poll_seconds": CHECK_POLL_SECONDS,
        "can_manage": policies.can_manage_invoices(request.user),
    }


@require_http_methods(["GET", "POST"])
def invoice_check(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: run the checks now (in the background). GET: the check's progress (htmx polls it
    until the worker has answered; the page then reloads its findings)."""
    invoice = _invoice(request, pk)
    if request.method == "POST":
        require(policies.can_manage_invoices(request.user))
        since = timezone.now()
        services.enqueue_check(invoice)
        if not is_htmx_partial(request):
            messages.info(request, _("The check of %(invoice)s is queued.") % {"invoice": invoice})
            return redirect(_invoice_url(invoice, "findings"))
    else:
        since = parse_datetime(request.GET.get("since", ""))
    context = _check_state(request, invoice, since)
    response = render(request, "billing/_check_state.html", context)
    if context["check_state"] == "done" and request.method == "GET":
        response["HX-Refresh"] = "true"  # the new findings are on the page, read them
    return response


@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    require(policies.can_manage_invoices(request.user))
    form = IssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a valid issue date."))
        return redirect(_invoice_url(invoice))
    issued = run_action(
        request, services.invoice_issue, by=request.user, invoice=invoice,
        version=form.cleaned_data["version"] or 0, issue_date=form.cleaned_data["issue_date"],
    )  # fmt: skip
    if issued is not FAILED:
        messages.success(
            request,
            _("Invoice issued with number %(number)s, due %(due)s.")
            % {"number": issued.display_number, "due": issued.due_date},
        )
    return redirect(_invoice_url(invoice))


@require_POST
def payment_add(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    require(policies.can_manage_invoices(request.user))
    form = PaymentForm(request.POST)
    if form.is_valid() and save_form(
        form, services.payment_record, by=request.user, invoice=invoice, **form.cleaned_data
    ):
        messages.success(request, _("Payment recorded."))
        return redirect(_invoice_url(invoice, "payments"))
    invoice = _invoice(request, pk)
    context = _detail_context(request, invoice, payment_form=form)
    context["history"] = []
    return render(request, "billing/invoice_detail.html", context, status=400)


@require_POST
def payment_delete(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    payment = next((p for p in invoice.payments.all() if p.pk == payment_pk), None)
    if payment is None:
        raise Http404(_("No payment of this invoice matches the given query."))
    require(policies.can_manage_invoices(request.user))
    payment.invoice = invoice
    if run_action(request, services.payment_delete, by=request.user, payment=payment) is not FAILED:
        messages.success(request, _("Payment removed."))
    return redirect(_invoice_url(invoice, "payments"))


@require_http_methods(["GET", "POST"])
def credit_note_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft credit note of an issued invoice: which lines, how many, at what price."""
    invoice = _invoice(request, pk)
    require(policies.can_manage_invoices(request.user))
    form = CreditNoteForm(posted_data(request), lines=list(invoice.lines.all()))
    if form.is_valid():
        chosen = [
            services.CreditLine(line=line, quantity=quantity, unit_price=price)
            for line, quantity, price in form.chosen()
        ]
        try:
            note = services.credit_note_create(
                by=request.user, invoice=invoice, lines=chosen, notes=form.cleaned_data["notes"]
            )
        except NotAllowedError as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Draft credit note %(note)s of %(invoice)s created: check it, then issue it.")
                % {"note": note, "invoice": invoice},
            )
            return redirect(_invoice_url(note))
    return render(request, "billing/credit_note_form.html", {"invoice": invoice, "form": form})


# Findings: override and comments -------------------------------------------------------------


def _finding(request: HttpRequest, pk: int) -> CheckFinding:
    return get_visible_or_404(
        CheckFinding.objects.select_related("invoice__client"), request.user, pk=pk
    )


def _finding_url(finding: CheckFinding) -> str:
    return _invoice_url(finding.invoice_id, f"finding-{finding.pk}")


def _finding_refused(
    request: HttpRequest, finding: CheckFinding, key: str, errors: list[str]
) -> HttpResponse:
    """The invoice page again with the refused override or comment's error at its finding."""
    messages.error(request, " ".join(errors))
    invoice = _invoice(request, finding.invoice_id)
    context = _detail_context(request, invoice, **{key: {finding.pk: errors}})
    context["history"] = []
    return render(request, "billing/invoice_detail.html", context, status=400)


@require_POST
def finding_override(request: HttpRequest, pk: int) -> HttpResponse:
    """Finance accepts a finding with a mandatory reason (kept and shown with who and when)."""
    finding = _finding(request, pk)
    require(policies.can_override_findings(request.user))
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _finding_refused(request, finding, "override_errors", form.errors["reason"])
    try:
        services.finding_override(
            by=request.user, finding=finding, reason=form.cleaned_data["reason"]
        )
    except NotAllowedError as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        return _finding_refused(request, finding, "override_errors", [error.message])
    messages.success(request, _("Finding overridden; the reason is kept with it."))
    return redirect(safe_next(request, _finding_url(finding)))


@require_POST
def finding_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """A note on a finding by the NAM, the team lead or finance."""
    finding = _finding(request, pk)
    require(policies.can_comment_on_findings(request.user, finding.invoice.client))
    form = CommentForm(request.POST)
    back = safe_next(request, _finding_url(finding))
    if not form.is_valid():
        return _finding_refused(request, finding, "comment_errors", form.errors["text"])
    result = run_action(
        request, services.finding_comment, by=request.user, finding=finding,
        text=form.cleaned_data["text"],
    )  # fmt: skip
    if result is not FAILED:
        messages.success(request, _("Comment added."))
    return redirect(back)


# Finance review queue ------------------------------------------------------------------------


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Open findings on the invoices the person sees, largest amount at stake first; counts per
    rule; filter by rule, client, NAM, amount at stake; one click to the finding."""
    filterset = FindingFilter(
        request.GET, queryset=selectors.review_queue(user=request.user), request=request
    )
    _id_dropdowns(request, filterset, ("client", "nam", "rule"))
    for name in ("status", "invoice", "severity"):
        filterset.form.fields.pop(name, None)
    rows = filterset.qs
    rows = rows.order_by(*(rows.query.order_by or ["-amount_at_stake"]), "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _decorate(list(page))
    by_rule = list(selectors.review_queue_by_rule(user=request.user))
    for row in by_rule:
        row["label"] = checks.rule_label(row["rule"])
    columns = [("amount_at_stake", _("At stake")), ("rule", _("Rule")),
               ("client", _("Client")), ("first_seen_at", _("First seen"))]  # fmt: skip
    context = {
        "filter": filterset,
        "page": page,
        "by_rule": by_rule,
        "columns": sort_columns(columns, request.GET.get("ordering", "")),
    }
    template = "billing/review_queue.html"
    response = render(
        request, f"{template}#results" if is_htmx_partial(request) else template, context
    )
    response["Vary"] = "HX-Request"
    return response


# Receivables ---------------------------------------------------------------------------------


@require_GET
def receivables(request: HttpRequest) -> HttpResponse:
    """Aging per client (not yet due, 0-30, 31-60, 61-90, over 90 days late) and the overdue
    invoices, oldest due date first."""
    aging = list(selectors.receivables_aging(user=request.user))
    overdue = (
        selectors.invoice_list(user=request.user).filter(overdue=True).order_by("due_date", "pk")
    )
    if request.GET.get("format") == "csv":
        return csv_response(
            aging,
            filename="receivables.csv",
            header=[_("Client"), _("Currency"), _("Not yet due"), _("0-30 days"),
                    _("31-60 days"), _("61-90 days"), _("Over 90 days"), _("Total")],
            row=lambda r: [r["client__name"], r["currency"], r["current"], r["days_0_30"],
                           r["days_31_60"], r["days_61_90"], r["days_over_90"], r["total"]],
        )  # fmt: skip
    page = Paginator(overdue, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for invoice in page:
        invoice.days_late = (today - invoice.due_date).days
    template = "billing/receivables.html"
    response = render(
        request,
        f"{template}#results" if is_htmx_partial(request) else template,
        {"aging": aging, "page": page},
    )
    response["Vary"] = "HX-Request"
    return response


# Sections of the client page (registered in billing/apps.py) ---------------------------------


def client_invoices_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    invoices = selectors.invoice_list(user=request.user).filter(client=client)
    return {
        "client_invoices": invoices[:SECTION_LIMIT],
        "billing_summary": selectors.client_billing_summary(user=request.user, client=client),
        # The balance sums the client's open invoices as the book records them.
        "billing_currency": settings.DEFAULT_CURRENCY,
    }


def client_findings_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    findings = selectors.client_findings(user=request.user, client=client)
    return {
        "client_findings": _decorate(list(findings[:SECTION_LIMIT])),
        "can_comment_on_findings": policies.can_comment_on_findings(request.user, client),
    }
