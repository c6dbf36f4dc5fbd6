"""DRF endpoints for billing under /api/v1/: invoices and credit notes, invoice lines, payments,
check findings and receivables aging.

Same selectors, FilterSets and services as the pages: rows come from `visible_to` (a row the
caller may not see answers 404 and is never listed), writes go through billing/services.py, and
who may change what is billing/policies.py (a visible row the caller may not change answers
403): only finance (and admin) create, edit, issue and credit invoices, record payments and
override findings; the account's NAM, its team lead and finance comment on findings.

Invoices are created empty (`POST /invoices/`), from what an order has not invoiced yet
(`from-order`) or from completed milestones (`from-milestones`). A draft changes with the
`version` read (409 if stale); its lines change through `/invoice-lines/` with the invoice's
`invoice_version`. `issue` numbers it; `credit-note` drafts a credit note of an issued invoice
(all of it by default: issuing that note cancels the invoice); `check-now` re-runs its checks.
Finance exports issued invoices and credit notes as FatturaPA files: `einvoice` (one, the XML)
and `einvoice-batch` (the list's filters, a zip), both refused as a whole with 400 and the
exchange system's findings.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.serializers import BaseSerializer

from accounts_crm.access import AnyUser
from accounts_crm.api import ErrorSerializer, PolicyPermission, ServiceViewSetMixin
from billing import fatturapa, filters, policies, selectors, services
from billing.models import (
    ISSUED_STATUSES,
    CheckFinding,
    FindingComment,
    Invoice,
    InvoiceLine,
    Payment,
)
from billing.serializers import (
    AgingSerializer,
    CommentSerializer,
    CreditNoteSerializer,
    FindingSerializer,
    FromMilestonesSerializer,
    FromOrderSerializer,
    InvoiceDetailSerializer,
    InvoiceLineReadSerializer,
    InvoiceLineSerializer,
    InvoiceSerializer,
    IssueSerializer,
    OverrideSerializer,
    PaymentSerializer,
)
from clients.models import AccountTeamMember
from clients.services import apply_fields
from orders.api import stale

router = SimpleRouter()

# The most invoices one `einvoice-batch` call exports (the pages' limit, for the same reasons).
EINVOICE_BATCH_LIMIT = 500


class FileRenderer(renderers.BaseRenderer):
    """Lets a caller ask for a file action's media type (`Accept: application/xml`); the file
    itself leaves as an HttpResponse, so only an error body reaches here: it stays JSON."""

    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data, "application/json", renderer_context)


class XMLFileRenderer(FileRenderer):
    media_type = "application/xml"
    format = "xml"


class ZipFileRenderer(FileRenderer):
    media_type = "application/zip"
    format = "zip"


def file_response(content: bytes, *, file_name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return response


def einvoice_refused(error: Exception) -> Response:
    """400 in the one error shape; an SdI refusal lists each finding under `fields.findings`."""
    if isinstance(error, DjangoValidationError):
        message = " ".join(error.messages)
        return Response(
            {"code": "invalid", "message": message, "fields": {}}, status.HTTP_400_BAD_REQUEST
        )
    findings = [str(finding) for finding in getattr(error, "findings", [])]
    body = {
        "code": getattr(error, "code", "einvoice_error"),
        "message": getattr(error, "message", str(error)),
        "fields": {"findings": findings} if findings else {},
    }
    return Response(body, status.HTTP_400_BAD_REQUEST)


# The file renderers would add a `format` query parameter; the Accept header is enough.
NO_FORMAT = OpenApiParameter("format", exclude=True)
EINVOICE_ERRORS = OpenApiResponse(
    ErrorSerializer,
    description=(
        "Nothing was exported: code `einvoice_error` (a draft, no seller profile, a text "
        "outside Latin-1, the file fails the schema, too many invoices, none matching) or "
        "`einvoice_refused` (the exchange system's checks: `message` lists every finding, "
        "and `fields.findings` has one entry each)."
    ),
)


class BillingViewSet(ServiceViewSetMixin):
    """Shared plumbing: finance-only writes, and answers shaped like the detail endpoint."""

    detail_serializer: type[BaseSerializer]

    def may_create(self, user: AnyUser) -> bool:
        return policies.can_manage_invoices(user)

    def may_change(self, user: AnyUser, obj: Any) -> bool:
        return policies.can_manage_invoices(user)

    def require(self, allowed: bool) -> None:
        """403 before a body is parsed, for actions without a row (PolicyPermission's rule)."""
        if not allowed:
            self.permission_denied(  # type: ignore[attr-defined]
                self.request,  # type: ignore[attr-defined]
                message=PolicyPermission.message,
                code=PolicyPermission.code,
            )

    def action_input(self) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def answer(self, row: Any, code: int = status.HTTP_200_OK) -> Response:
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        body = self.detail_serializer(self.reread(row), context=context)
        return Response(body.data, status=code)


# Invoices ----------------------------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(responses={200: InvoiceDetailSerializer, 409: stale("invoice")}),
    partial_update=extend_schema(responses={200: InvoiceDetailSerializer, 409: stale("invoice")}),
)
class InvoiceViewSet(BillingViewSet, viewsets.ModelViewSet):
    """Invoices and credit notes of the clients the caller sees. The list shows headers with
    totals, what is still owed and open findings; one invoice shows its lines, payments,
    findings (with comments) and credit notes.

    Only a draft's header changes, with the `version` read (409 if stale); only a draft is
    deleted (an issued invoice is corrected by a credit note).
    """

    filterset_class = filters.InvoiceFilter
    # InvoiceFilter sorts itself (its `ordering` parameter is the HTML list's).
    filter_backends = [DjangoFilterBackend]
    detail_serializer = InvoiceDetailSerializer

    def get_serializer_class(self) -> type[BaseSerializer]:
        return {
            "list": InvoiceSerializer,
            "issue": IssueSerializer,
            "from_order": FromOrderSerializer,
            "from_milestones": FromMilestonesSerializer,
            "credit_note": CreditNoteSerializer,
        }.get(self.action or "", InvoiceDetailSerializer)

    def get_queryset(self) -> QuerySet[Invoice]:
        invoices = selectors.invoice_list(user=self.request.user)
        if self.action in ("list", "einvoice", "einvoice_batch"):
            return invoices
        # What selectors.invoice_detail fetches.
        findings = finding_rows(CheckFinding.objects.all())
        return invoices.select_related("credits", "created_by", "issued_by").prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.select_related("product", "order_line", "milestone"),
            ),
            Prefetch("payments", queryset=Payment.objects.select_related("recorded_by")),
            Prefetch("findings", queryset=findings),
            Prefetch("credit_notes", queryset=Invoice.objects.only("pk", "credits_id")),
        )

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        invoice = services.invoice_create(by=self.request.user, invoice=Invoice(**data))
        serializer.instance = self.reread(invoice)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version")
        invoice = services.invoice_update(
            by=self.request.user, invoice=apply_fields(serializer.instance, data), version=version
        )
        serializer.instance = self.reread(invoice)

    def perform_destroy(self, instance: Invoice) -> None:
        services.invoice_delete(by=self.request.user, invoice=instance)

    @extend_schema(
        request=FromOrderSerializer,
        responses={201: InvoiceDetailSerializer},
        description=(
            "A draft invoice of what the order has not invoiced yet, at its prices. Refused "
            "with 400 and code `nothing_to_invoice` when everything is invoiced already."
        ),
    )
    @action(detail=False, methods=["post"], url_path="from-order")
    def from_order(self, request: Request) -> Response:
        self.require(policies.can_manage_invoices(request.user))
        order = self.action_input()["order"]
        invoice = services.invoice_from_order(by=request.user, order=order)
        return self.answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(
        request=FromMilestonesSerializer,
        responses={201: InvoiceDetailSerializer},
        description=(
            "A draft invoice of a project's completed billable milestones not invoiced yet, or "
            "of the given milestones (one project). Refused with 400 and code "
            "`nothing_to_invoice` when none is left."
        ),
    )
    @action(detail=False, methods=["post"], url_path="from-milestones")
    def from_milestones(self, request: Request) -> Response:
        self.require(policies.can_manage_invoices(request.user))
        data = self.action_input()
        invoice = services.invoice_from_milestones(
            by=request.user, project=data.get("project"), milestones=data.get("milestones")
        )
        return self.answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(
        request=IssueSerializer,
        responses={200: InvoiceDetailSerializer, 409: stale("invoice")},
        description=(
            "Number and date the draft, and set its due date from the contract's payment terms. "
            "Refused with 400 and code `invoice_not_issuable` without lines or with open error "
            "findings (override them with a reason first)."
        ),
    )
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str | None = None) -> Response:
        invoice = self.get_object()
        data = self.action_input()
        issued = services.invoice_issue(
            by=request.user,
            invoice=invoice,
            version=data["version"],
            issue_date=data.get("issue_date"),
        )
        return self.answer(issued)

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                InvoiceDetailSerializer,
                description="The checks run in the background; findings follow shortly.",
            )
        },
        description="Run the invoice checks again now (in the background).",
    )
    @action(detail=True, methods=["post"], url_path="check-now")
    def check_now(self, request: Request, pk: str | None = None) -> Response:
        invoice = self.get_object()
        services.enqueue_check(invoice)
        return self.answer(invoice, status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=CreditNoteSerializer,
        responses={201: InvoiceDetailSerializer},
        description=(
            "A draft credit note of this issued invoice: every line in full when `lines` is "
            "left out (issuing it cancels the invoice), or the given quantities and prices. "
            "Issue it with `issue` on the credit note."
        ),
    )
    @action(detail=True, methods=["post"], url_path="credit-note")
    def credit_note(self, request: Request, pk: str | None = None) -> Response:
        invoice = self.get_object()
        data = self.action_input()
        wanted = data.get("lines")
        lines = (
            None
            if wanted is None
            else [
                services.CreditLine(
                    line=item["line"],
                    quantity=item.get("quantity"),
                    unit_price=item.get("unit_price"),
                )
                for item in wanted
            ]
        )
        note = services.credit_note_create(
            by=request.user, invoice=invoice, lines=lines, notes=data["notes"]
        )
        return self.answer(note, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        parameters=[NO_FORMAT],
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=(
                    "The FatturaPA file (FPR12), named in Content-Disposition "
                    "(IT<seller VAT>_<progressive>.xml); it is kept and listed on the invoice."
                ),
            ),
            400: EINVOICE_ERRORS,
        },
        description=(
            "Export this issued invoice or credit note as a FatturaPA XML file (finance and "
            "admin). Refused with 400 and nothing kept when the exchange system would reject it."
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="einvoice",
        renderer_classes=[renderers.JSONRenderer, XMLFileRenderer],
    )
    def einvoice(self, request: Request, pk: str | None = None) -> Response | HttpResponse:
        invoice = self.get_object()
        self.require(policies.can_export_einvoices(request.user))
        try:
            export = fatturapa.einvoice_export(by=request.user, invoice=invoice)
        except (fatturapa.EInvoiceError, DjangoValidationError) as error:
            return einvoice_refused(error)
        return file_response(
            export.xml.encode("utf-8"), file_name=export.file_name, content_type="application/xml"
        )

    @extend_schema(
        request=None,
        filters=True,
        parameters=[NO_FORMAT],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="One FatturaPA file per invoice, zipped, named in Content-Disposition.",
            ),
            400: EINVOICE_ERRORS,
        },
        description=(
            "Export the issued invoices and credit notes matching the list's filters (same "
            "query parameters as the list; drafts are skipped and counted in the "
            f"X-Skipped-Drafts header) as a zip, at most {EINVOICE_BATCH_LIMIT}: all of them "
            "or none (finance and admin)."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="einvoice-batch",
        renderer_classes=[renderers.JSONRenderer, ZipFileRenderer],
    )
    def einvoice_batch(self, request: Request) -> Response | HttpResponse:
        self.require(policies.can_export_einvoices(request.user))
        rows = self.filter_queryset(self.get_queryset())
        issued = rows.filter(status__in=ISSUED_STATUSES).order_by("pk")
        ids = list(issued.values_list("pk", flat=True)[: EINVOICE_BATCH_LIMIT + 1])
        if len(ids) > EINVOICE_BATCH_LIMIT:
            message = _(
                "More than %(limit)s issued invoices match these filters: narrow them (a period, "
                "a client) and export again."
            ) % {"limit": EINVOICE_BATCH_LIMIT}
            return einvoice_refused(fatturapa.EInvoiceError(str(message)))
        if not ids:
            message = _("No issued invoice or credit note matches these filters.")
            return einvoice_refused(fatturapa.EInvoiceError(str(message)))
        invoices = list(Invoice.objects.filter(pk__in=ids).order_by("pk"))
        try:
            batch = fatturapa.einvoice_export_batch(by=request.user, invoices=invoices)
        except (fatturapa.EInvoiceError, DjangoValidationError) as error:
            return einvoice_refused(error)
        response = file_response(
            batch.zip_bytes, file_name=batch.zip_name, content_type="application/zip"
        )
        response["X-Skipped-Drafts"] = str(rows.exclude(status__in=ISSUED_STATUSES).count())
        return response


# Invoice lines -----------------------------------------------------------------------------------


class InvoiceLineFilter(django_filters.FilterSet):
    # Plain ids, not model choices: an invoice the caller does not see filters to nothing,
    # exactly like one that does not exist.
    invoice = django_filters.NumberFilter(field_name="invoice_id", label=_("Invoice"))
    order_line = django_filters.NumberFilter(field_name="order_line_id", label=_("Order line"))
    milestone = django_filters.NumberFilter(field_name="milestone_id", label=_("Milestone"))

    class Meta:
        model = InvoiceLine
        fields = ["invoice", "order_line", "milestone"]


INVOICE_VERSION = OpenApiParameter(
    "invoice_version",
    int,
    required=True,
    description=str(_("The version of the invoice you read (409 when someone changed it since).")),
)


class InvoiceVersionQuery(serializers.Serializer):
    invoice_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


@extend_schema_view(
    create=extend_schema(responses={201: InvoiceLineReadSerializer, 409: stale("invoice")}),
    update=extend_schema(responses={200: InvoiceLineReadSerializer, 409: stale("invoice")}),
    partial_update=extend_schema(responses={200: InvoiceLineReadSerializer, 409: stale("invoice")}),
    destroy=extend_schema(
        parameters=[INVOICE_VERSION], responses={204: None, 409: stale("invoice")}
    ),
)
class InvoiceLineViewSet(BillingViewSet, viewsets.ModelViewSet):
    """Lines of the invoices the caller sees; only a draft's lines change, each change with the
    `invoice_version` read (409 if stale). The invoice's totals follow every change."""

    serializer_class = InvoiceLineSerializer
    filterset_class = InvoiceLineFilter
    filter_backends = [DjangoFilterBackend]

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action in ("list", "retrieve"):
            return InvoiceLineReadSerializer
        return InvoiceLineSerializer

    def get_queryset(self) -> QuerySet[InvoiceLine]:
        return InvoiceLine.objects.visible_to(self.request.user).order_by(
            "invoice", "position", "pk"
        )

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("invoice_version")
        line = services.invoice_line_save(
            by=self.request.user, line=InvoiceLine(**data), version=version
        )
        serializer.instance = self.reread(line)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("invoice_version")
        line = services.invoice_line_save(
            by=self.request.user, line=apply_fields(serializer.instance, data), version=version
        )
        serializer.instance = self.reread(line)

    def perform_destroy(self, instance: InvoiceLine) -> None:
        query = InvoiceVersionQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        services.invoice_line_delete(
            by=self.request.user, line=instance, version=query.validated_data["invoice_version"]
        )


# Payments ----------------------------------------------------------------------------------------


class PaymentFilter(django_filters.FilterSet):
    invoice = django_filters.NumberFilter(field_name="invoice_id", label=_("Invoice"))
    client = django_filters.NumberFilter(field_name="invoice__client_id", label=_("Client"))
    paid_after = django_filters.DateFilter(
        field_name="paid_on", lookup_expr="gte", label=_("Paid from")
    )
    paid_before = django_filters.DateFilter(
        field_name="paid_on", lookup_expr="lte", label=_("Paid to")
    )

    class Meta:
        model = Payment
        fields = ["invoice", "client", "method", "paid_after", "paid_before"]


class PaymentViewSet(BillingViewSet, viewsets.ModelViewSet):
    """Payments on the invoices the caller sees. Finance records them (the invoice becomes
    partially paid or paid) and deletes one recorded by mistake; a payment is not edited."""

    serializer_class = detail_serializer = PaymentSerializer
    filterset_class = PaymentFilter
    filter_backends = [DjangoFilterBackend]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Payment]:
        return Payment.objects.visible_to(self.request.user).order_by("-paid_on", "-pk")

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        payment = services.payment_record(
            by=self.request.user,
            invoice=data["invoice"],
            amount=data["amount"],
            paid_on=data["paid_on"],
            method=data.get("method", Payment.Method.BANK_TRANSFER),
            reference=data.get("reference", ""),
        )
        serializer.instance = self.reread(payment)

    def perform_destroy(self, instance: Payment) -> None:
        services.payment_delete(by=self.request.user, payment=instance)


# Findings ----------------------------------------------------------------------------------------


def finding_rows(findings: QuerySet[CheckFinding]) -> QuerySet[CheckFinding]:
    """Findings with what a row shows: the client's NAM (FindingFilter's `nam`) and comments.

    `selectors.review_queue` keeps open findings only; the API lists every status.
    """
    return (
        findings.select_related("compared_to_type")
        .annotate(
            nam_id=Subquery(
                AccountTeamMember.objects.active()
                .filter(client=OuterRef("invoice__client_id"), role=AccountTeamMember.Role.NAM)
                .values("user_id")[:1]
            )
        )
        .prefetch_related(
            Prefetch("comments", queryset=FindingComment.objects.order_by("created_at", "pk"))
        )
    )


class FindingViewSet(
    BillingViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Check findings on the invoices the caller sees (every status; `status=open` is the
    review queue), the largest amount at stake first. The checks write them; people
    `override` them (finance, with a reason) and `comment` on them (NAM, team lead, finance)."""

    filterset_class = filters.FindingFilter
    filter_backends = [DjangoFilterBackend]
    detail_serializer = FindingSerializer

    def get_serializer_class(self) -> type[BaseSerializer]:
        return {"override": OverrideSerializer, "comment": CommentSerializer}.get(
            self.action or "", FindingSerializer
        )

    def get_queryset(self) -> QuerySet[CheckFinding]:
        findings = finding_rows(CheckFinding.objects.visible_to(self.request.user)).order_by(
            "-amount_at_stake", "invoice_id", "rule", "key", "pk"
        )
        if self.action == "list":
            return findings
        return findings.select_related("invoice__client__team")  # the policy's question

    def may_change(self, user: AnyUser, obj: CheckFinding) -> bool:
        if self.action == "comment":
            return policies.can_comment_on_findings(user, obj.invoice.client)
        return policies.can_override_findings(user)

    @extend_schema(
        request=OverrideSerializer,
        responses={200: FindingSerializer},
        description=(
            "Accept an open finding with a reason (kept and shown); the invoice's check status "
            "follows. Refused with 400 and code `finding_error` on a finding that is not open."
        ),
    )
    @action(detail=True, methods=["post"])
    def override(self, request: Request, pk: str | None = None) -> Response:
        finding = self.get_object()
        reason = self.action_input()["reason"]
        return self.answer(
            services.finding_override(by=request.user, finding=finding, reason=reason)
        )

    @extend_schema(
        request=CommentSerializer,
        responses={201: FindingSerializer},
        description="Add a note to the finding (kept and shown with it).",
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        finding = self.get_object()
        text = self.action_input()["text"]
        services.finding_comment(by=request.user, finding=finding, text=text)
        return self.answer(finding, status.HTTP_201_CREATED)


# Receivables -------------------------------------------------------------------------------------


class AgingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """What each client the caller sees still owes, by days past due (`current` is not due
    yet), the largest total first. Read-only; credit notes subtract through their invoice."""

    serializer_class = AgingSerializer
    # No row of its own (a client's aging is its row here), no filters: the selector sorts.
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet:
        return selectors.receivables_aging(user=self.request.user)


router.register("invoices", InvoiceViewSet, basename="api-invoice")
router.register("invoice-lines", InvoiceLineViewSet, basename="api-invoice-line")
router.register("payments", PaymentViewSet, basename="api-payment")
router.register("findings", FindingViewSet, basename="api-finding")
router.register("receivables-aging", AgingViewSet, basename="api-receivables-aging")
