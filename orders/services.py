"""Writes on contracts, orders and opportunities: atomic, policy-checked, audited by triggers.

Prices: a line defaults to the contract price valid on the order date; without one, to the list
price less the contract's default discount. A person may override it, with a reason kept on the
line. Totals follow accounts_crm/money.py's rule: each line rounded half up, then summed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts_crm.access import AnyUser
from accounts_crm.errors import ConcurrentEditError
from clients.errors import not_allowed
from clients.models import Client
from clients.policies import can_work_on_client
from clients.services import _save
from orders import policies
from orders.errors import ContractNotApplicableError, OrderError, TransitionNotAllowedError
from orders.models import (
    Contract,
    ContractPrice,
    Opportunity,
    Order,
    OrderLine,
    OrderStatusChange,
    Product,
)

S = Order.Status

# The one place that says which status may follow which. Fulfilment also happens by itself when
# the last line is delivered (order_record_delivery).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.CONFIRMED, S.DRAFT, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.FULFILLED}),
    S.FULFILLED: frozenset(),
    S.CANCELLED: frozenset(),
}

ORDER_NUMBER_LOCK = 0x6F72_6465  # "orde"


# Prices --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    unit_price: Decimal
    discount: Decimal
    contract_price: Decimal | None  # the agreed price, when there is one

    @property
    def source(self) -> str:
        return "contract" if self.contract_price is not None else "list"


def price_for(*, product: Product, contract: Contract | None, on: datetime.date) -> Price:
    """The price a line of `product` gets by default on `on` under `contract`."""
    if contract is None:
        return Price(product.list_price, Decimal("0"), None)
    agreed = (
        ContractPrice.objects.filter(contract=contract, product=product, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .values_list("unit_price", flat=True)
        .first()
    )
    if agreed is not None:
        return Price(agreed, Decimal("0"), agreed)
    return Price(product.list_price, contract.default_discount, None)


def contract_check(*, contract: Contract, client: Client, on: datetime.date) -> None:
    """Refuse an order on a contract that is not in force or not the client's."""
    if contract.status != Contract.Status.ACTIVE:
        raise ContractNotApplicableError(
            _("Contract %(number)s is %(status)s: no order can be taken on it.")
            % {"number": contract.number, "status": contract.get_status_display().lower()}
        )
    if not contract.starts_on <= on <= contract.ends_on:
        raise ContractNotApplicableError(
            _("Contract %(number)s is valid from %(start)s to %(end)s, not on %(day)s.")
            % {"number": contract.number, "start": contract.starts_on, "end": contract.ends_on,
               "day": on}
        )  # fmt: skip
    if contract.client_id == client.pk:
        return
    if contract.applies_to_subsidiaries and _descends_from(client, contract.client_id):
        return
    raise ContractNotApplicableError(
        _("Contract %(number)s belongs to %(owner)s, not to %(client)s.")
        % {"number": contract.number, "owner": contract.client, "client": client}
    )


def _descends_from(client: Client, ancestor_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE up(id, parent_id) AS (
                SELECT id, parent_id FROM clients_client WHERE id = %s
                UNION ALL
                SELECT c.id, c.parent_id FROM clients_client c JOIN up ON c.id = up.parent_id
            )
            SELECT EXISTS (SELECT 1 FROM up WHERE id = %s)
            """,
            [client.pk, ancestor_id],
        )
        return bool(cursor.fetchone()[0])


# Catalogue -----------------------------------------------------------------------------------


@transaction.atomic
def product_save(*, by: AnyUser, product: Product) -> Product:
    if not policies.can_manage_catalogue(by):
        raise not_allowed()
    return _save(product)


# Contracts -----------------------------------------------------------------------------------


@transaction.atomic
def contract_save(*, by: AnyUser, contract: Contract, version: int | None = None) -> Contract:
    """Create a contract, or save an edit made on `version` (refused if someone saved since)."""
    if not policies.can_manage_contracts(by, contract.client):
        raise not_allowed()
    if contract.pk is None:
        return _save(contract)
    contract.full_clean()
    updated = Contract.objects.filter(pk=contract.pk, version=version).update(
        **{f.attname: getattr(contract, f.attname) for f in Contract._meta.concrete_fields
           if f.editable and not f.primary_key and f.name != "created_at"},
        updated_at=timezone.now(),
        version=F("version") + 1,
    )  # fmt: skip
    if not updated:
        raise ConcurrentEditError(
            _(
                "Someone else changed this contract after you opened it. "
                "Reload it to see their changes."
            )
        )
    return Contract.objects.get(pk=contract.pk)


@transaction.atomic
def contract_price_save(*, by: AnyUser, price: ContractPrice) -> ContractPrice:
    if not policies.can_manage_contracts(by, price.contract.client):
        raise not_allowed()
    return _save(price)


# Orders --------------------------------------------------------------------------------------


def _next_order_number(on: datetime.date) -> str:
    """ORD-<year>-<n>: readable and increasing. Gaps are harmless here (unlike invoices)."""
    prefix = f"ORD-{on.year}-"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ORDER_NUMBER_LOCK])
    last = (
        Order.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{int(last.removeprefix(prefix)) + 1 if last else 1:05d}"


@transaction.atomic
def order_create(*, by: AnyUser, order: Order) -> Order:
    if not policies.can_take_orders(by, order.client):
        raise not_allowed()
    order.order_date = order.order_date or timezone.localdate()
    if order.contract_id:
        contract_check(contract=order.contract, client=order.client, on=order.order_date)
        order.currency = order.contract.currency
    order.owner_id = order.owner_id or by.pk
    order.status = Order.Status.DRAFT
    order.number = _next_order_number(order.order_date)
    return _save(order)


def _lock_order(order: Order, *, version: int | None = None) -> Order:
    """Re-read the order under a row lock; refuse if it changed since `version` was read."""
    current = Order.objects.select_for_update().get(pk=order.pk)
    if version is not None and current.version != version:
        raise ConcurrentEditError(
            _(
                "Someone else changed this order after you opened it. "
                "Reload it to see their changes."
            )
        )
    return current


def _touch(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(version=F("version") + 1, updated_at=timezone.now())


def _require_draft(order: Order) -> None:
    if order.status != Order.Status.DRAFT:
        raise OrderError(_("Only a draft order can be changed; this one is %(status)s.") % {
            "status": order.get_status_display().lower()})  # fmt: skip


@transaction.atomic
def order_update(*, by: AnyUser, order: Order, version: int) -> Order:
    """Save the header of a draft order edited from `version`."""
    if not policies.can_take_orders(by, order.client):
        raise not_allowed()
    current = _lock_order(order, version=version)
    _require_draft(current)
    if order.contract_id:
        contract_check(contract=order.contract, client=order.client, on=order.order_date)
    order.version = current.version + 1
    order.status = current.status
    order.number = current.number
    return _save(order)


@transaction.atomic
def order_line_save(
    *, by: AnyUser, line: OrderLine, version: int | None = None, manual_price: bool = False
) -> OrderLine:
    """Add or change a line of a draft order.

    Without `manual_price` the price and discount come from the contract (or list price); with
    it, the person's price is kept and, when it differs from the contract's, needs a reason.
    """
    order = _lock_order(line.order, version=version)
    if not policies.can_take_orders(by, order.client):
        raise not_allowed()
    _require_draft(order)
    default = price_for(product=line.product, contract=order.contract, on=order.order_date)
    if not manual_price:
        line.unit_price, line.discount = default.unit_price, default.discount
        line.price_reason = ""
    line.contract_price = default.contract_price
    if line.pk is None:
        line.vat_rate, line.vat_nature = line.product.vat_rate, line.product.vat_nature
        line.description = line.description or line.product.name
    _save(line)
    _touch(order)
    return line


@transaction.atomic
def order_line_delete(*, by: AnyUser, line: OrderLine, version: int | None = None) -> None:
    order = _lock_order(line.order, version=version)
    if not policies.can_take_orders(by, order.client):
        raise not_allowed()
    _require_draft(order)
    line.delete()
    _touch(order)


def allowed_transitions(*, user: AnyUser, order: Order) -> list[str]:
    """The statuses this person may move the order to now (the buttons to show)."""
    if not policies.can_take_orders(user, order.client):
        return []
    return [s for s in S.values if s in TRANSITIONS[order.status] and s != S.FULFILLED]


@transaction.atomic
def order_transition(*, by: AnyUser, order: Order, to: str, note: str = "") -> Order:
    current = _lock_order(order)
    if not policies.can_take_orders(by, current.client):
        raise not_allowed()
    if to not in TRANSITIONS[current.status]:
        raise TransitionNotAllowedError(
            _("An order that is %(current)s cannot become %(to)s.")
            % {"current": current.get_status_display().lower(), "to": S(to).label.lower()}
        )
    if to == S.SUBMITTED:
        if not current.lines.exists():
            raise OrderError(_("Add at least one line before submitting the order."))
        if current.contract_id:
            contract_check(contract=current.contract, client=current.client, on=current.order_date)
    if to == S.FULFILLED and current.lines.filter(delivered_quantity__lt=F("quantity")).exists():
        raise OrderError(_("The order is fulfilled when every line is delivered."))
    return _move(current, to=to, by=by, note=note)


def _move(order: Order, *, to: str, by: AnyUser, note: str = "") -> Order:
    OrderStatusChange.objects.create(
        order=order, from_status=order.status, to_status=to, by=by, note=note
    )
    Order.objects.filter(pk=order.pk).update(
        status=to, version=F("version") + 1, updated_at=timezone.now()
    )
    return Order.objects.get(pk=order.pk)


@transaction.atomic
def order_record_delivery(
    *, by: AnyUser, line: OrderLine, delivered_quantity: Decimal
) -> OrderLine:
    """Record how much of a line is delivered; the order moves on by itself as delivery goes."""
    order = _lock_order(line.order)
    if not can_work_on_client(by, order.client):
        raise not_allowed()
    if order.status not in (S.CONFIRMED, S.IN_PROGRESS):
        raise OrderError(_("Deliveries are recorded on confirmed orders only."))
    line.delivered_quantity = delivered_quantity
    _save(line)
    if order.status == S.CONFIRMED and delivered_quantity > 0:
        order = _move(order, to=S.IN_PROGRESS, by=by)
    if (
        order.status == S.IN_PROGRESS
        and not order.lines.filter(delivered_quantity__lt=F("quantity")).exists()
    ):
        _move(order, to=S.FULFILLED, by=by, note=_("Everything delivered."))
    return line


def applicable_contract(*, client: Client, on: datetime.date) -> Contract | None:
    """The active contract in force for `client` on `on`: its own first, then a parent's."""
    candidates = Contract.objects.filter(
        status=Contract.Status.ACTIVE, starts_on__lte=on, ends_on__gte=on
    ).filter(Q(client=client) | Q(applies_to_subsidiaries=True))
    own = candidates.filter(client=client).order_by("-starts_on").first()
    if own:
        return own
    for contract in candidates.exclude(client=client).order_by("-starts_on"):
        if _descends_from(client, contract.client_id):
            return contract
    return None


@transaction.atomic
def order_reorder(*, by: AnyUser, order: Order, on: datetime.date | None = None) -> Order:
    """A draft copy of a past order at today's prices, for the NAM to edit and submit."""
    on = on or timezone.localdate()
    contract = order.contract
    if contract is None or not contract.is_valid_on(on):
        contract = applicable_contract(client=order.client, on=on)
    copy = order_create(
        by=by,
        order=Order(client=order.client, contract=contract, kind=Order.Kind.REORDER,
                    order_date=on, reorder_of=order, currency=order.currency),
    )  # fmt: skip
    for line in order.lines.select_related("product"):
        order_line_save(
            by=by,
            line=OrderLine(order=copy, product=line.product, quantity=line.quantity,
                           description=line.description),
        )  # fmt: skip
    return Order.objects.get(pk=copy.pk)


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


def order_totals(lines: list[OrderLine]) -> Totals:
    """Net, VAT and gross of some lines, by the product's one rounding rule."""
    return Totals(
        net=sum((line.net_amount for line in lines), Decimal("0.00")),
        vat=sum((line.vat_amount for line in lines), Decimal("0.00")),
    )


# Opportunities -------------------------------------------------------------------------------


@transaction.atomic
def opportunity_save(
    *, by: AnyUser, opportunity: Opportunity, products: list[Product] | None = None
) -> Opportunity:
    """Create or change an opportunity. Won is not a stage to type in: only opportunity_win
    sets it, because winning also makes the draft order; saving an opportunity as won that was
    not already won is refused, in the HTML form and the API alike."""
    if not policies.can_take_orders(by, opportunity.client):
        raise not_allowed()
    if opportunity.stage == Opportunity.Stage.WON:
        stored = Opportunity.objects.select_for_update().filter(pk=opportunity.pk)
        if opportunity.pk is None or stored.values_list("stage", flat=True).first() != "won":
            raise ValidationError(
                {
                    "stage": _(
                        'An opportunity is won through its win action ("Mark as won" on the '
                        "client page, POST /api/v1/opportunities/<id>/win/ in the API), which "
                        "also creates its draft order."
                    )
                }
            )
    if opportunity.owner_id is None:
        opportunity.owner = by
    _save(opportunity)
    if products is not None:
        opportunity.products.set(products)
    return opportunity


@transaction.atomic
def opportunity_delete(*, by: AnyUser, opportunity: Opportunity) -> None:
    """Delete an opportunity; one already won keeps its order (the link is SET_NULL)."""
    if not policies.can_take_orders(by, opportunity.client):
        raise not_allowed()
    opportunity.delete()


@transaction.atomic
def opportunity_win(*, by: AnyUser, opportunity: Opportunity) -> Order:
    """Won: the opportunity becomes a draft order with one of each of its products."""
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if not policies.can_take_orders(by, opportunity.client):
        raise not_allowed()
    if opportunity.order_id:
        return opportunity.order
    today = timezone.localdate()
    order = order_create(
        by=by,
        order=Order(client=opportunity.client, kind=Order.Kind.UPSELL, order_date=today,
                    contract=applicable_contract(client=opportunity.client, on=today),
                    currency=opportunity.currency),
    )  # fmt: skip
    for product in opportunity.products.all():
        order_line_save(by=by, line=OrderLine(order=order, product=product, quantity=Decimal(1)))
    Opportunity.objects.filter(pk=opportunity.pk).update(
        stage=Opportunity.Stage.WON, probability=100, order=order, updated_at=timezone.now()
    )
    return order
