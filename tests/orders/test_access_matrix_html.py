"""The access matrix of the orders HTML pages: every order, contract, opportunity, suggestion
and catalogue page and action x principal, as in tests/clients/test_access_matrix_html.py.

Principals: an admin (the only one who manages the catalogue), the NAM on client A's account
team, a NAM of another client (B), the lead of A's team, the lead of another team, finance, a
project manager on A's account team, and anonymous.
Expected: 200 (page) or 302 (action done) when the role allows it; 403 when the person sees the
client but the role does not allow the action; 404 when they do not see it; a redirect to the
login page for anonymous. Lists (and the CSV) never contain a foreign row.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts_crm.access import Role
from clients.models import Client
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product
from tests.factories import (
    AccountTeamMemberFactory,
    ClientFactory,
    ContractFactory,
    OpportunityFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PRINCIPALS = ["admin", "nam", "nam_other", "lead", "lead_other", "finance", "pm", "anonymous"]
# What each principal may do on client A: read, work on the account (record deliveries), take
# orders (and work opportunities), manage contracts. Nobody but these reaches A's rows.
RIGHTS = {
    "admin": {"read", "work", "take", "contracts", "catalogue"},
    "nam": {"read", "work", "take", "contracts"},
    "lead": {"read", "work", "take", "contracts"},
    "pm": {"read", "work"},
    "finance": {"read"},
    "nam_other": set(),
    "lead_other": set(),
    "anonymous": set(),
}
SEES_A = {"admin", "nam", "lead", "pm", "finance"}


@dataclass
class World:
    a: Client
    b: Client
    users: dict[str, Any]
    contract: Contract
    product: Any
    order: Order
    line: OrderLine
    past: Order
    opportunity: Opportunity
    foreign_order: Order
    confirmed_line: OrderLine
    rhythm: Any


@pytest.fixture
def world(db) -> World:
    lead, lead_other = (UserFactory(roles=[Role.TEAM_LEAD]) for _ in range(2))
    # Same industry: B is A's comparable client for the whitespace suggestion.
    a = ClientFactory(team=TeamFactory(lead=lead), name="Alpha", industry="Matrix")
    b = ClientFactory(team=TeamFactory(lead=lead_other), name="Bravo", industry="Matrix")
    today = timezone.localdate()
    # A buys MATRIX-RE every 30 days, last 30 days ago: a reorder is due today.
    rhythm = ProductFactory(sku="MATRIX-RE")
    for n in (1, 2, 3):
        OrderLineFactory(
            order=OrderFactory(client=a, number=f"ORD-A-R{n}", status="fulfilled",
                               order_date=today - datetime.timedelta(days=30 * n)),
            product=rhythm,
        )  # fmt: skip
    # B buys a family nobody in A's group buys: whitespace for A.
    OrderLineFactory(
        order=OrderFactory(client=b, number="ORD-B-PEER", status="fulfilled",
                           order_date=today - datetime.timedelta(days=10)),
        product=ProductFactory(sku="MATRIX-PEER", family="Peerfam"),
    )  # fmt: skip
    contract = ContractFactory(
        client=a, number="CTR-A", starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=300),
    )  # fmt: skip
    ContractFactory(client=b, number="CTR-B")
    product = ProductFactory(sku="MATRIX-1")
    order = OrderFactory(client=a, number="ORD-A", contract=contract, order_date=today)
    past = OrderFactory(client=a, number="ORD-A-PAST", status="fulfilled")
    OrderLineFactory(order=past, product=product)
    foreign_order = OrderFactory(client=b, number="ORD-B")
    users = {
        "admin": UserFactory(roles=[Role.ADMIN]),
        "nam": AccountTeamMemberFactory(client=a, role="nam").user,
        "nam_other": AccountTeamMemberFactory(client=b, role="nam").user,
        "lead": lead,
        "lead_other": lead_other,
        "finance": UserFactory(roles=[Role.FINANCE]),
        "pm": AccountTeamMemberFactory(client=a, role="project_manager").user,
        "anonymous": None,
    }
    OpportunityFactory(client=b, title="Opportunity B")
    return World(
        a=a,
        b=b,
        users=users,
        contract=contract,
        product=product,
        order=order,
        line=OrderLineFactory(order=order, product=product, unit_price=Decimal("100.00")),
        past=past,
        opportunity=OpportunityFactory(client=a, title="Opportunity A", value=Decimal("10")),
        foreign_order=foreign_order,
        confirmed_line=OrderLineFactory(
            order=OrderFactory(client=a, number="ORD-A-CONFIRMED", status="confirmed"),
            quantity=Decimal("5"),
        ),
        rhythm=rhythm,
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    need: str  # read, take, contracts, signed_in
    url: Callable[[World], str]
    data: Callable[[World], dict] = lambda w: {}
    # For actions: did the change happen? (only when the role allowed it)
    done: Callable[[World], bool] | None = None


def _url(path: str) -> Callable[[World], str]:
    return lambda w: path.format(
        a=w.a.pk, order=w.order.pk, line=w.line.pk, past=w.past.pk, contract=w.contract.pk,
        opportunity=w.opportunity.pk, confirmed=w.confirmed_line.order_id,
        confirmed_line=w.confirmed_line.pk,
    )  # fmt: skip


def _order_version(w: World) -> int:
    return Order.objects.get(pk=w.order.pk).version


ENDPOINTS = [
    Endpoint("order detail", "get", "read", _url("/orders/{order}/")),
    Endpoint("order create page", "get", "take", _url("/orders/new/{a}/")),
    Endpoint(
        "order create",
        "post",
        "take",
        _url("/orders/new/{a}/"),
        lambda w: {
            "kind": "new",
            "order_date": timezone.localdate().isoformat(),
            "client_po": "MATRIX",
        },
        done=lambda w: Order.objects.filter(client_po="MATRIX").exists(),
    ),
    Endpoint("order edit page", "get", "take", _url("/orders/{order}/edit/")),
    Endpoint(
        "order update",
        "post",
        "take",
        _url("/orders/{order}/edit/"),
        lambda w: {
            "contract": w.contract.pk,
            "kind": "new",
            "client_po": "EDITED",
            "order_date": w.order.order_date.isoformat(),
            "version": _order_version(w),
        },
        done=lambda w: Order.objects.get(pk=w.order.pk).client_po == "EDITED",
    ),
    Endpoint(
        "line add",
        "post",
        "take",
        _url("/orders/{order}/lines/add/"),
        lambda w: {"product": "MATRIX-1", "quantity": "7", "version": _order_version(w)},
        done=lambda w: OrderLine.objects.filter(quantity=7).exists(),
    ),
    Endpoint("line edit page", "get", "take", _url("/orders/{order}/lines/{line}/edit/")),
    Endpoint(
        "line delete",
        "post",
        "take",
        _url("/orders/{order}/lines/{line}/delete/"),
        lambda w: {"version": _order_version(w)},
        done=lambda w: not OrderLine.objects.filter(pk=w.line.pk).exists(),
    ),
    Endpoint(
        "line delivery",
        "post",
        "work",
        _url("/orders/{confirmed}/lines/{confirmed_line}/delivery/"),
        lambda w: {"delivered_quantity": "2"},
        done=lambda w: OrderLine.objects.get(pk=w.confirmed_line.pk).delivered_quantity == 2,
    ),
    Endpoint(
        "order submit",
        "post",
        "take",
        _url("/orders/{order}/transition/"),
        lambda w: {"to": "submitted"},
        done=lambda w: Order.objects.get(pk=w.order.pk).status == "submitted",
    ),
    Endpoint(
        "reorder",
        "post",
        "take",
        _url("/orders/{past}/reorder/"),
        done=lambda w: Order.objects.filter(reorder_of=w.past).exists(),
    ),
    Endpoint("contract detail", "get", "read", _url("/orders/contracts/{contract}/")),
    Endpoint("contract create page", "get", "contracts", _url("/orders/contracts/new/{a}/")),
    Endpoint("contract edit page", "get", "contracts", _url("/orders/contracts/{contract}/edit/")),
    Endpoint(
        "contract price add",
        "post",
        "contracts",
        _url("/orders/contracts/{contract}/prices/new/"),
        lambda w: {"product": w.product.pk, "unit_price": "55", "valid_from": "2026-01-01"},
        done=lambda w: ContractPrice.objects.filter(unit_price=55).exists(),
    ),
    Endpoint("opportunity create page", "get", "take", _url("/orders/opportunities/new/{a}/")),
    Endpoint(
        "opportunity edit page", "get", "take", _url("/orders/opportunities/{opportunity}/edit/")
    ),
    Endpoint(
        "opportunity win",
        "post",
        "take",
        _url("/orders/opportunities/{opportunity}/win/"),
        done=lambda w: Opportunity.objects.get(pk=w.opportunity.pk).stage == "won",
    ),
    Endpoint(
        "reorder due to opportunity",
        "post",
        "take",
        _url("/orders/suggestions/{a}/opportunity/"),
        lambda w: {"source": "reorder_due", "product": w.rhythm.pk},
        done=lambda w: Opportunity.objects.filter(client=w.a, source="reorder_due").exists(),
    ),
    Endpoint(
        "whitespace to opportunity",
        "post",
        "take",
        _url("/orders/suggestions/{a}/opportunity/"),
        lambda w: {"source": "whitespace", "family": "Peerfam"},
        done=lambda w: Opportunity.objects.filter(client=w.a, source="whitespace").exists(),
    ),
    Endpoint("product list", "get", "signed_in", lambda w: "/orders/products/"),
    Endpoint("product detail", "get", "signed_in", lambda w: f"/orders/products/{w.product.pk}/"),
    Endpoint("product create page", "get", "catalogue", lambda w: "/orders/products/new/"),
    Endpoint(
        "product create",
        "post",
        "catalogue",
        lambda w: "/orders/products/new/",
        lambda w: {
            "sku": "MATRIX-NEW",
            "name": "New",
            "family": "F",
            "kind": "product",
            "unit": "pz",
            "list_price": "10",
            "currency": "EUR",
            "vat_rate": "22",
            "is_active": "on",
        },
        done=lambda w: Product.objects.filter(sku="MATRIX-NEW").exists(),
    ),
    Endpoint(
        "product edit page", "get", "catalogue", lambda w: f"/orders/products/{w.product.pk}/edit/"
    ),
    Endpoint(
        "product update",
        "post",
        "catalogue",
        lambda w: f"/orders/products/{w.product.pk}/edit/",
        lambda w: {
            "sku": "MATRIX-1",
            "name": "Renamed",
            "family": "F",
            "kind": "product",
            "unit": "pz",
            "list_price": "10",
            "currency": "EUR",
            "vat_rate": "22",
        },
        done=lambda w: Product.objects.get(pk=w.product.pk).name == "Renamed",
    ),
]


def expected_status(principal: str, endpoint: Endpoint) -> int:
    if principal == "anonymous":
        return 302
    allowed = 200 if endpoint.method == "get" else 302
    if endpoint.need == "signed_in":
        return allowed
    if endpoint.need == "catalogue":  # not about client A: only the role counts
        return allowed if "catalogue" in RIGHTS[principal] else 403
    if principal not in SEES_A:
        return 404
    return allowed if endpoint.need in RIGHTS[principal] else 403


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_it_answers_each_principal_as_its_role_allows(
    as_principal, world, principal: str, endpoint: Endpoint
) -> None:
    http = as_principal(principal)

    response = getattr(http, endpoint.method)(endpoint.url(world), endpoint.data(world))

    expected = expected_status(principal, endpoint)
    assert response.status_code == expected, response.content[:300]
    if principal == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")
    if endpoint.done is not None:
        assert endpoint.done(world) is (expected == 302 and principal != "anonymous")


# Lists: exactly the rows the principal sees, never a foreign one -----------------------------

ROW_PATTERNS = {
    "order": r'data-testid="order-row">\s*<td><a[^>]*>([^<]+)</a>',
    "contract": r'data-testid="contract-row">\s*<td><a[^>]*>([^<]+)</a>',
    "opportunity": r'data-testid="opportunity-row">\s*<td><a[^>]*>([^<]+)</a>',
}
A_ORDERS = {"ORD-A", "ORD-A-PAST", "ORD-A-CONFIRMED", "ORD-A-R1", "ORD-A-R2", "ORD-A-R3"}
B_ORDERS = {"ORD-B", "ORD-B-PEER"}
LISTS = {
    ("/orders/", "order"): {"nam": A_ORDERS, "nam_other": B_ORDERS, "lead": A_ORDERS,
                            "lead_other": B_ORDERS, "finance": A_ORDERS | B_ORDERS,
                            "pm": A_ORDERS},
    ("/orders/?format=csv", "order"): {"nam": A_ORDERS, "nam_other": B_ORDERS,
                                       "lead": A_ORDERS, "lead_other": B_ORDERS,
                                       "finance": A_ORDERS | B_ORDERS, "pm": A_ORDERS},
    ("/orders/contracts/", "contract"): {"nam": {"CTR-A"}, "nam_other": {"CTR-B"},
                                         "lead": {"CTR-A"}, "lead_other": {"CTR-B"},
                                         "finance": {"CTR-A", "CTR-B"}, "pm": {"CTR-A"}},
    ("/orders/opportunities/", "opportunity"): {
        "nam": {"Opportunity A"}, "nam_other": {"Opportunity B"}, "lead": {"Opportunity A"},
        "lead_other": {"Opportunity B"}, "finance": {"Opportunity A", "Opportunity B"},
        "pm": {"Opportunity A"}},
}  # fmt: skip
for seen in LISTS.values():
    seen["admin"] = seen["finance"]  # admin sees every row, as finance does


def listed(response, kind: str) -> set[str]:
    if response["Content-Type"].startswith("text/csv"):
        content = b"".join(response.streaming_content).decode()
        return {row[0] for row in list(csv.reader(io.StringIO(content)))[1:]}
    return set(re.findall(ROW_PATTERNS[kind], response.content.decode()))


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("url", "kind"), list(LISTS), ids=lambda v: str(v))
def test_it_lists_only_the_rows_each_principal_sees(
    as_principal, principal: str, url: str, kind: str
) -> None:
    http = as_principal(principal)
    response = http.get(url)
    if principal == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        return
    assert response.status_code == 200
    assert listed(response, kind) == LISTS[(url, kind)][principal]


# A row of another order or contract, reached through a visible one's URL ----------------------


def test_it_hides_a_line_of_another_order_behind_a_visible_one(as_principal, world) -> None:
    http = as_principal("lead")
    foreign = OrderLineFactory(order=world.foreign_order)

    edit = http.get(f"/orders/{world.order.pk}/lines/{foreign.pk}/edit/")
    delete = http.post(f"/orders/{world.order.pk}/lines/{foreign.pk}/delete/")

    assert (edit.status_code, delete.status_code) == (404, 404)
    assert OrderLine.objects.filter(pk=foreign.pk).exists()


def test_it_hides_a_price_of_another_contract_behind_a_visible_one(as_principal, world) -> None:
    http = as_principal("lead")
    foreign = ContractPrice.objects.create(
        contract=Contract.objects.get(number="CTR-B"), product=world.product,
        unit_price=Decimal("1.00"), valid_from=datetime.date(2026, 1, 1),
    )  # fmt: skip

    response = http.get(f"/orders/contracts/{world.contract.pk}/prices/{foreign.pk}/edit/")

    assert response.status_code == 404


def test_it_offers_no_product_picker_for_an_order_the_person_does_not_see(
    as_principal, world
) -> None:
    http = as_principal("nam_other")

    response = http.get(
        f"/orders/products/?order={world.order.pk}&product=MATRIX", headers={"HX-Request": "true"}
    )

    assert response.status_code == 404
