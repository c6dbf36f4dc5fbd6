"""DRF endpoints for the catalogue, contracts, orders and opportunities, under /api/v1/.

Same selectors, FilterSets and services as the HTML pages: rows come from `visible_to` (a row the
caller may not see answers 404 and is never listed), writes go through orders/services.py, and
who may change what is orders/policies.py (a visible row the caller may not change answers 403).
Status changes are actions (`transition`, `reorder`, `delivery`, `win`) that call the same
services as the buttons, so they obey the same rules.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.serializers import BaseSerializer

from accounts_crm.access import AnyUser
from accounts_crm.api import ErrorSerializer, ServiceViewSetMixin
from clients.policies import can_work_on_client
from clients.services import apply_fields
from orders import filters, policies, selectors, services
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product
from orders.serializers import (
    ContractPriceSerializer,
    ContractSerializer,
    DeliverySerializer,
    OpportunitySerializer,
    OrderDetailSerializer,
    OrderLineReadSerializer,
    OrderLineSerializer,
    OrderSerializer,
    ProductSerializer,
    TransitionSerializer,
)

router = SimpleRouter()


def stale(what: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer, description=f"Someone else saved this {what} since you read its version."
    )


# Catalogue ---------------------------------------------------------------------------------------


class ProductViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """The catalogue: everyone signed in reads it; only admins change it."""

    serializer_class = ProductSerializer
    filterset_class = filters.ProductFilter
    # ProductFilter sorts itself (its `ordering` parameter is the HTML list's).
    filter_backends = [DjangoFilterBackend]
    # No delete: order lines and contract prices keep their product (PROTECT); retire it with
    # `is_active`.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list(user=self.request.user).order_by("family", "name", "pk")

    def may_create(self, user: AnyUser) -> bool:
        return policies.can_manage_catalogue(user)

    def may_change(self, user: AnyUser, obj: Product) -> bool:
        return policies.can_manage_catalogue(user)

    def perform_create(self, serializer: BaseSerializer) -> None:
        product = services.product_save(
            by=self.request.user, product=Product(**serializer.validated_data)
        )
        serializer.instance = self.reread(product)

    def perform_update(self, serializer: BaseSerializer) -> None:
        product = services.product_save(
            by=self.request.user,
            product=apply_fields(serializer.instance, serializer.validated_data),
        )
        serializer.instance = self.reread(product)


# Contracts ---------------------------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(responses={200: ContractSerializer, 409: stale("contract")}),
    partial_update=extend_schema(responses={200: ContractSerializer, 409: stale("contract")}),
)
class ContractViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Contracts of the clients the caller sees. Updates carry the `version` read (409 if stale)."""

    serializer_class = ContractSerializer
    filterset_class = filters.ContractFilter
    filter_backends = [DjangoFilterBackend]
    # No delete: orders keep their contract (PROTECT); a contract ends as expired or terminated.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Contract]:
        return selectors.contract_list(user=self.request.user)

    def may_change(self, user: AnyUser, obj: Contract) -> bool:
        return policies.can_manage_contracts(user, obj.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        contract = services.contract_save(
            by=self.request.user, contract=Contract(**serializer.validated_data)
        )
        serializer.instance = self.reread(contract)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version")
        contract = services.contract_save(
            by=self.request.user,
            contract=apply_fields(serializer.instance, data),
            version=version,
        )
        serializer.instance = self.reread(contract)


class ContractPriceViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Agreed prices per product and period; two periods of one product may not overlap."""

    serializer_class = ContractPriceSerializer
    filterset_class = filters.ContractPriceFilter
    filter_backends = [DjangoFilterBackend]
    # No delete: a price that no longer holds gets a `valid_to` (orders priced by it stay
    # explainable).
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[ContractPrice]:
        return selectors.contract_price_list(user=self.request.user).order_by(
            "product__sku", "-valid_from", "pk"
        )

    def may_change(self, user: AnyUser, obj: ContractPrice) -> bool:
        return policies.can_manage_contracts(user, obj.contract.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        price = services.contract_price_save(
            by=self.request.user, price=ContractPrice(**serializer.validated_data)
        )
        serializer.instance = self.reread(price)

    def perform_update(self, serializer: BaseSerializer) -> None:
        price = services.contract_price_save(
            by=self.request.user,
            price=apply_fields(serializer.instance, serializer.validated_data),
        )
        serializer.instance = self.reread(price)


# Orders ------------------------------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(responses={200: OrderDetailSerializer, 409: stale("order")}),
    partial_update=extend_schema(responses={200: OrderDetailSerializer, 409: stale("order")}),
)
class OrderViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Orders of the clients the caller sees. The list shows headers with their net total; one
    order shows its lines, totals, history and the status changes the caller may make now.

    Only a draft's header changes, with the `version` read (409 if stale). Lines are changed
    through `/order-lines/`, statuses through `transition`.
    """

    filterset_class = filters.OrderFilter
    filter_backends = [DjangoFilterBackend]
    # No delete: an order that will not happen is cancelled (the transition is recorded).
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "list":
            return OrderSerializer
        if self.action == "transition":
            return TransitionSerializer
        return OrderDetailSerializer

    def get_queryset(self) -> QuerySet[Order]:
        orders = selectors.order_list(user=self.request.user)
        if self.action == "list":
            return orders
        # What selectors.order_detail fetches, plus the team behind the policy questions.
        return orders.select_related("client__team").prefetch_related(
            "lines__product", "status_changes__by"
        )

    def may_change(self, user: AnyUser, obj: Order) -> bool:
        return policies.can_take_orders(user, obj.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        order = services.order_create(
            by=self.request.user, order=Order(**serializer.validated_data)
        )
        serializer.instance = self.reread(order)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version")
        order = services.order_update(
            by=self.request.user, order=apply_fields(serializer.instance, data), version=version
        )
        serializer.instance = self.reread(order)

    def answer(self, order: Order, code: int = status.HTTP_200_OK) -> Response:
        body = OrderDetailSerializer(self.reread(order), context=self.get_serializer_context())
        return Response(body.data, status=code)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: OrderDetailSerializer},
        description=(
            "Move the order to another status (see `allowed_transitions`). Refused with 400 and "
            "code `transition_not_allowed` when the order's status does not lead there."
        ),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_transition(by=request.user, order=order, **serializer.validated_data)
        return self.answer(order)

    @extend_schema(
        request=None,
        responses={201: OrderDetailSerializer},
        description="A new draft copy of this order at today's contract prices.",
    )
    @action(detail=True, methods=["post"])
    def reorder(self, request: Request, pk: str | None = None) -> Response:
        copy = services.order_reorder(by=request.user, order=self.get_object())
        return self.answer(copy, status.HTTP_201_CREATED)


ORDER_VERSION = OpenApiParameter(
    "order_version",
    int,
    required=True,
    description=str(_("The version of the order you read (409 when someone changed it since).")),
)


@extend_schema_view(
    create=extend_schema(responses={201: OrderLineReadSerializer, 409: stale("order")}),
    update=extend_schema(responses={200: OrderLineReadSerializer, 409: stale("order")}),
    partial_update=extend_schema(responses={200: OrderLineReadSerializer, 409: stale("order")}),
    destroy=extend_schema(parameters=[ORDER_VERSION], responses={204: None, 409: stale("order")}),
)
class OrderLineViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Lines of draft orders. Every change carries the `order_version` read (409 if stale)."""

    serializer_class = OrderLineSerializer
    filterset_class = filters.OrderLineFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["quantity", "created_at"]
    ordering = ["order", "id"]

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action in ("list", "retrieve"):
            return OrderLineReadSerializer
        if self.action == "delivery":
            return DeliverySerializer
        return OrderLineSerializer

    def get_queryset(self) -> QuerySet[OrderLine]:
        return selectors.order_line_list(user=self.request.user)

    def may_change(self, user: AnyUser, obj: OrderLine) -> bool:
        if self.action == "delivery":
            return can_work_on_client(user, obj.order.client)
        return policies.can_take_orders(user, obj.order.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version, manual = data.pop("order_version"), data.pop("manual_price", False)
        line = services.order_line_save(
            by=self.request.user, line=OrderLine(**data), version=version, manual_price=manual
        )
        serializer.instance = self.reread(line)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        version, manual = data.pop("order_version"), data.pop("manual_price", False)
        line = services.order_line_save(
            by=self.request.user,
            line=apply_fields(serializer.instance, data),
            version=version,
            manual_price=manual,
        )
        serializer.instance = self.reread(line)

    def perform_destroy(self, instance: OrderLine) -> None:
        version = OrderVersionQuery(data=self.request.query_params)
        version.is_valid(raise_exception=True)
        services.order_line_delete(
            by=self.request.user, line=instance, version=version.validated_data["order_version"]
        )

    @extend_schema(
        request=DeliverySerializer,
        responses={200: OrderLineReadSerializer},
        description=(
            "Record how much of the line is delivered so far. The order moves to in progress "
            "with the first delivery and to fulfilled when every line is delivered."
        ),
    )
    @action(detail=True, methods=["post"])
    def delivery(self, request: Request, pk: str | None = None) -> Response:
        line = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line = services.order_record_delivery(
            by=request.user, line=line, **serializer.validated_data
        )
        body = OrderLineReadSerializer(self.reread(line), context=self.get_serializer_context())
        return Response(body.data)


class OrderVersionQuery(serializers.Serializer):
    order_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


# Opportunities -----------------------------------------------------------------------------------


class OpportunityViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """Opportunities of the clients the caller sees; `win` turns one into a draft order."""

    serializer_class = OpportunitySerializer
    filterset_class = filters.OpportunityFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Opportunity]:
        return (
            selectors.opportunity_list(user=self.request.user)
            .select_related("client__team")
            .order_by("expected_close", "title", "pk")
        )

    def may_change(self, user: AnyUser, obj: Opportunity) -> bool:
        return policies.can_take_orders(user, obj.client)

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        products = data.pop("products", None)
        opportunity = services.opportunity_save(
            by=self.request.user, opportunity=Opportunity(**data), products=products
        )
        serializer.instance = self.reread(opportunity)

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        products = data.pop("products", None)
        opportunity = services.opportunity_save(
            by=self.request.user,
            opportunity=apply_fields(serializer.instance, data),
            products=products,
        )
        serializer.instance = self.reread(opportunity)

    def perform_destroy(self, instance: Opportunity) -> None:
        services.opportunity_delete(by=self.request.user, opportunity=instance)

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(OrderDetailSerializer, description="The new draft order."),
            200: OpenApiResponse(
                OrderDetailSerializer, description="Already won: the order it became."
            ),
        },
        description="Won: the opportunity becomes a draft order with one of each of its products.",
    )
    @action(detail=True, methods=["post"])
    def win(self, request: Request, pk: str | None = None) -> Response:
        opportunity = self.get_object()
        created = opportunity.order_id is None
        order = services.opportunity_win(by=request.user, opportunity=opportunity)
        detail = selectors.order_detail(user=request.user, pk=order.pk)
        body = OrderDetailSerializer(detail, context=self.get_serializer_context())
        return Response(
            body.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


router.register("products", ProductViewSet, basename="api-product")
router.register("contracts", ContractViewSet, basename="api-contract")
router.register("contract-prices", ContractPriceViewSet, basename="api-contract-price")
router.register("orders", OrderViewSet, basename="api-order")
router.register("order-lines", OrderLineViewSet, basename="api-order-line")
router.register("opportunities", OpportunityViewSet, basename="api-opportunity")
