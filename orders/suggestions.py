"""Selling more: reorders that are due, and whitespace in a client group; each one click from an
opportunity.

Both selectors are set-based: a fixed handful of queries whatever the size of the book, every one
starting from `visible_to(user)`.

Reorders due
    A client's rhythm for a product is read from its own history: the distinct days on which it
    ordered the product (orders that went ahead: submitted, confirmed, in progress, fulfilled;
    several orders on one day are one purchase). With at least MIN_PURCHASES such days, the
    typical interval is the median of the gaps between consecutive days, computed in SQL
    (LAG over the days, then percentile_cont(0.5) over the gaps, rounded half up to whole days).
    The median, not the mean, so one late or rushed order does not move the rhythm.
    The reorder is due on last day + interval. It is listed from REORDER_LEAD_DAYS before that
    date on: a NAM wants to call before the client runs out, not after.
    A pair with an open order of the product (draft or submitted) is being reordered already and
    is not listed; nor is an inactive client, which is not expected to reorder anything.

Whitespace
    For a client's group (its head and every subsidiary the person sees) the matrix says what
    each company bought per product family in the last WHITESPACE_MONTHS months (net amount of
    the lines of orders that went ahead). Suggestions are the families no company of the group
    bought in that window but comparable clients did: clients outside the group in one of the
    group's industries. They are ranked by how many comparable clients buy the family.
    Comparable clients are counted across the whole book, visible or not, and only counted:
    their names never leave this module (a NAM rarely sees other groups, and a count of peers
    reveals none of them).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts_crm.access import AnyUser
from accounts_crm.money import quantize
from clients.errors import not_allowed
from clients.models import Client
from orders import policies, services
from orders.models import Opportunity, OrderLine, Product
from orders.selectors import line_net_expression

MIN_PURCHASES = 3
REORDER_LEAD_DAYS = 7
WHITESPACE_MONTHS = 24

# Orders that tell what a client buys: they went ahead and were not withdrawn.
PLACED = ["submitted", "confirmed", "in_progress", "fulfilled"]
# Orders that show a reorder is under way already.
OPEN = ["draft", "submitted"]


# Reorders due --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReorderDue:
    client: Client
    product: Product
    last_order_on: datetime.date
    interval_days: int  # the median gap between the client's purchases of the product
    due_on: datetime.date
    days_overdue: int  # negative: due in that many days (within REORDER_LEAD_DAYS)
    last_order_dates: list[datetime.date]  # the last three purchase days, newest first
    purchases: int
    last_quantity: Decimal

    @property
    def days_until_due(self) -> int:
        return -self.days_overdue


REORDERS_DUE_SQL = """
WITH purchases AS (
    SELECT o.client_id, l.product_id, o.order_date, SUM(l.quantity) AS quantity
    FROM orders_orderline l
    JOIN orders_order o ON o.id = l.order_id
    JOIN clients_client c ON c.id = o.client_id
    WHERE o.client_id IN ({visible})
      AND c.status <> 'inactive'
      AND o.status = ANY(%s)
      AND o.order_date <= %s
      {only_client}
    GROUP BY o.client_id, l.product_id, o.order_date
),
gaps AS (
    SELECT client_id, product_id, order_date, quantity,
           order_date - LAG(order_date) OVER pair AS gap,
           ROW_NUMBER() OVER (PARTITION BY client_id, product_id ORDER BY order_date DESC)
               AS recency
    FROM purchases
    WINDOW pair AS (PARTITION BY client_id, product_id ORDER BY order_date)
),
rhythm AS (
    SELECT client_id, product_id,
           COUNT(*) AS purchases,
           MAX(order_date) AS last_order_on,
           ROUND(percentile_cont(0.5) WITHIN GROUP (ORDER BY gap)::numeric)::integer
               AS interval_days,
           ARRAY_AGG(order_date ORDER BY order_date DESC) FILTER (WHERE recency <= 3)
               AS last_order_dates,
           MAX(quantity) FILTER (WHERE recency = 1) AS last_quantity
    FROM gaps
    GROUP BY client_id, product_id
    HAVING COUNT(*) >= %s
)
SELECT r.client_id, r.product_id, r.last_order_on, r.interval_days,
       r.last_order_on + r.interval_days AS due_on, r.last_order_dates, r.purchases,
       r.last_quantity
FROM rhythm r
WHERE r.last_order_on + r.interval_days <= %s::date + %s
  AND NOT EXISTS (
      SELECT 1 FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id
      WHERE o.client_id = r.client_id AND l.product_id = r.product_id AND o.status = ANY(%s)
  )
ORDER BY due_on, r.client_id, r.product_id
"""


def reorders_due(
    *,
    user: AnyUser,
    client: Client | None = None,
    clients: Iterable[int] | None = None,
    on: datetime.date | None = None,
) -> list[ReorderDue]:
    """What the visible clients (or `client` alone, or those of the ids `clients`) should be
    reordering by `on`, most overdue first, with the evidence. Three queries: the rhythms, then
    their clients and products."""
    on = on or timezone.localdate()
    visible = Client.objects.visible_to(user).values("pk")
    if visible.query.is_empty():
        return []
    visible_sql, visible_params = visible.query.sql_with_params()
    only_client, client_params = "", []
    if client is not None:
        only_client, client_params = "AND o.client_id = %s", [client.pk]
    elif clients is not None:
        only_client, client_params = "AND o.client_id = ANY(%s)", [list(clients)]
    sql = REORDERS_DUE_SQL.format(visible=visible_sql, only_client=only_client)
    params = [
        *visible_params, PLACED, on, *client_params, MIN_PURCHASES, on, REORDER_LEAD_DAYS, OPEN
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return []
    clients = Client.objects.in_bulk({row[0] for row in rows})
    products = Product.objects.in_bulk({row[1] for row in rows})
    return [
        ReorderDue(
            client=clients[client_id],
            product=products[product_id],
            last_order_on=last_on,
            interval_days=interval,
            due_on=due_on,
            days_overdue=(on - due_on).days,
            last_order_dates=list(dates),
            purchases=purchases,
            last_quantity=quantity,
        )
        for client_id, product_id, last_on, interval, due_on, dates, purchases, quantity in rows
    ]


# Whitespace ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhitespaceSuggestion:
    family: str
    peer_count: int  # comparable clients outside the group that bought the family
    comparable_count: int  # all comparable clients outside the group


@dataclass
class Whitespace:
    companies: list[Client]
    families: list[str]
    amounts: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    suggestions: list[WhitespaceSuggestion] = field(default_factory=list)
    since: datetime.date | None = None

    @property
    def rows(self) -> list[tuple[Client, list[Decimal | None]]]:
        """One row per company, one cell per family (None: it buys none of it)."""
        return [
            (company, [self.amounts.get((company.pk, family)) for family in self.families])
            for company in self.companies
        ]

    @property
    def group_families(self) -> set[str]:
        return {family for _, family in self.amounts}


GROUP_SQL = """
WITH RECURSIVE up(id, parent_id) AS (
    SELECT id, parent_id FROM clients_client WHERE id = %s
    UNION ALL
    SELECT c.id, c.parent_id FROM clients_client c JOIN up ON c.id = up.parent_id
),
down(id) AS (
    SELECT id FROM up WHERE parent_id IS NULL
    UNION ALL
    SELECT c.id FROM clients_client c JOIN down ON c.parent_id = down.id
)
SELECT id FROM down
"""


def _placed_lines(since: datetime.date) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order__status__in=PLACED, order__order_date__gte=since)


def whitespace(*, user: AnyUser, client: Client, on: datetime.date | None = None) -> Whitespace:
    """The client's group x product families, and the families to propose (five queries)."""
    on = on or timezone.localdate()
    since = on - relativedelta(months=WHITESPACE_MONTHS)
    whole_group = RawSQL(GROUP_SQL, [client.pk])  # noqa: S611 - constant SQL, bound id
    companies = list(
        Client.objects.visible_to(user)
        .filter(pk__in=whole_group)
        .order_by(F("parent_id").asc(nulls_first=True), "name")
    )
    families = list(Product.objects.order_by("family").values_list("family", flat=True).distinct())
    result = Whitespace(companies=companies, families=families, since=since)
    if not companies:
        return result
    bought = (
        _placed_lines(since)
        .filter(order__client__in=companies, order__order_date__lte=on)
        .values_list("order__client_id", "product__family")
        .annotate(amount=Sum(line_net_expression()))
        .order_by()
    )
    result.amounts = {(client_id, family): amount for client_id, family, amount in bought}
    industries = {company.industry for company in companies if company.industry}
    if not industries:
        return result
    peers = Client.objects.filter(industry__in=industries).exclude(pk__in=whole_group)
    comparable_count = peers.count()
    suggested = (
        _placed_lines(since)
        .filter(order__client__in=peers, order__order_date__lte=on)
        .exclude(product__family__in=result.group_families)
        .values("product__family")
        .annotate(peer_count=Count("order__client", distinct=True))
        .order_by("-peer_count", "product__family")
    )
    result.suggestions = [
        WhitespaceSuggestion(row["product__family"], row["peer_count"], comparable_count)
        for row in suggested
    ]
    return result


# One click: a suggestion becomes an opportunity ----------------------------------------------

SUGGESTED_PRODUCTS = 3  # a whitespace opportunity carries the family's best sellers


SUGGESTION_SOURCES = (Opportunity.Source.REORDER_DUE, Opportunity.Source.WHITESPACE)


@dataclass
class OpenSuggestions:
    """The client's open opportunities that came from a suggestion, by what they are about: a
    reorder due by its product, a whitespace family by its products' families (and by title, for
    a family whose products were all withdrawn). Lets the client page show "see the opportunity"
    instead of the button, and lets the one click stay one opportunity."""

    by_product: dict[int, Opportunity] = field(default_factory=dict)
    by_family: dict[str, Opportunity] = field(default_factory=dict)
    by_title: dict[tuple[str, str], Opportunity] = field(default_factory=dict)

    def for_reorder(self, product: Product) -> Opportunity | None:
        return self.by_product.get(product.pk) or self.by_title.get(
            (Opportunity.Source.REORDER_DUE, _reorder_title(product))
        )

    def for_family(self, family: str) -> Opportunity | None:
        return self.by_family.get(family) or self.by_title.get(
            (Opportunity.Source.WHITESPACE, _whitespace_title(family))
        )


def open_suggestions(*, client: Client) -> OpenSuggestions:
    """Open (not won, not lost) suggestion opportunities of `client` (two queries)."""
    opportunities = (
        Opportunity.objects.filter(client=client, source__in=SUGGESTION_SOURCES)
        .exclude(stage__in=[Opportunity.Stage.WON, Opportunity.Stage.LOST])
        .prefetch_related("products")
        .order_by("pk")  # the oldest wins when (by hand) there are two
    )
    found = OpenSuggestions()
    for opportunity in reversed(list(opportunities)):
        found.by_title[(opportunity.source, opportunity.title)] = opportunity
        for product in opportunity.products.all():
            if opportunity.source == Opportunity.Source.REORDER_DUE:
                found.by_product[product.pk] = opportunity
            else:
                found.by_family[product.family] = opportunity
    return found


def _reorder_title(product: Product) -> str:
    return _("Reorder: %(product)s") % {"product": product.name}


def _whitespace_title(family: str) -> str:
    return _("Whitespace: %(family)s") % {"family": family}


@transaction.atomic
def suggestion_to_opportunity(
    *,
    by: AnyUser,
    client: Client,
    source: str,
    family: str | None = None,
    product: Product | None = None,
) -> Opportunity:
    """Open an opportunity from a reorder due (a product) or a whitespace family.

    Clicking twice gives the same open opportunity, not two: the client's row is locked while
    its open suggestion opportunities are looked up, so two clicks at once wait for each other,
    and the lookup goes by product (reorder) or product family (whitespace), not only by the
    title, which is written in the language of whoever clicked first.
    """
    if not policies.can_take_orders(by, client):
        raise not_allowed()
    today = timezone.localdate()
    if source == Opportunity.Source.REORDER_DUE:
        if product is None:
            raise ValueError("A reorder-due opportunity is about one product.")
        title = _reorder_title(product)
        products = [product]
        probability = 60
    elif source == Opportunity.Source.WHITESPACE:
        if not family:
            raise ValueError("A whitespace opportunity is about one product family.")
        title = _whitespace_title(family)
        products = [product] if product else _best_sellers(family)
        probability = 10
    else:
        raise ValueError(f"Suggestions open reorder_due or whitespace opportunities, not {source}.")
    list(Client.objects.select_for_update().filter(pk=client.pk).values_list("pk"))
    found = open_suggestions(client=client)
    existing = (
        found.for_reorder(product)
        if source == Opportunity.Source.REORDER_DUE
        else found.for_family(family)
    )
    if existing:
        return existing
    return services.opportunity_save(
        by=by,
        opportunity=Opportunity(
            client=client,
            title=title,
            source=source,
            probability=probability,
            value=_estimated_value(client=client, products=products, on=today),
            expected_close=today + datetime.timedelta(days=30),
        ),
        products=products,
    )


def _best_sellers(family: str) -> list[Product]:
    return list(
        Product.objects.filter(family=family, is_active=True)
        .annotate(sold=Count("order_lines", filter=Q(order_lines__order__status__in=PLACED)))
        .order_by("-sold", "sku")[:SUGGESTED_PRODUCTS]
    )


def _estimated_value(*, client: Client, products: list[Product], on: datetime.date) -> Decimal:
    """One of each product at the client's price today: a floor the NAM refines."""
    contract = services.applicable_contract(client=client, on=on)
    total = Decimal("0.00")
    for product in products:
        price = services.price_for(product=product, contract=contract, on=on)
        total += price.unit_price * (Decimal(100) - price.discount) / Decimal(100)
    return quantize(total)
