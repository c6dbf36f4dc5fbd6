"""The invoice checks: a registry of named rules, each ONE set-based SQL query over a set of
invoices, and `check_invoices(ids)` that runs them all and upserts their findings.

What is checked ("the open book"): drafts, and issued documents that are not fully paid nor
cancelled (issued / partially paid). Credit notes are checked too, by the rules that make sense
for a document that gives money back (arithmetic, fiscal data); every other rule looks at
documents of kind invoice only. Credit notes still count in the cumulative rules: what is
"invoiced" is the one rule of billing/selectors.py (lines of non-cancelled invoices, drafts
included, less lines of ISSUED credit notes of non-cancelled invoices), so issuing a credit note
that fixes an over-billing makes the over-billing finding go away. Checking a credit note also
re-checks the invoice it credits (when that invoice is in the open book), which is how the
finding goes away as soon as the credit note is issued.

Cumulative rules (quantities, cap, duplicates) flag every checked invoice that takes part; a
per-invoice check refreshes the findings of the invoice it checks (and of the invoice a credit
note credits), the other invoices of the same order line or contract follow at their next check
or in the nightly batch, which checks them all together.

The invoice date of a rule is the issue date, or `today` for a draft that has none yet (the date
it would get if issued now).

Each rule (a `Rule` subclass below) has a stable `code`, a `severity`, a translatable message
template with %(expected)s / %(actual)s / %(subject)s, the kind of its values (money, quantity,
percent, date, text), the model it compares with (`compared_model`), and `sql`: one query that,
given `%(ids)s` (an array of invoice ids) and `%(today)s`, returns the finding rows

    invoice_id, line_id, key, expected, actual, amount_at_stake, compared_id, subject, currency

For benchmarks and debugging, `rule.query(invoice_ids, today=...)` returns that (sql, params)
pair, ready for `cursor.execute(*rule.query(ids))`; `rule.rows(ids)` runs it.

Upsert (`check_invoices`): one INSERT ... ON CONFLICT (invoice, rule, key) DO UPDATE for all
rules; a finding that holds again refreshes its expected/actual/amount and `last_seen_at`:

- a RESOLVED finding that holds again re-opens;
- an OVERRIDDEN finding stays overridden while its expected and actual values are the same; if
  they changed (the invoice or the contract moved since the override) it re-opens and the
  override is cleared (the audit trail keeps who overrode it and why): finance accepted those
  values, not new ones;
- findings of the checked invoices that were not seen in this run (open or overridden) are
  resolved (`resolved_at`); an overridden one keeps its reason for the record;
- then each invoice's check status follows, in one UPDATE with the rule of
  services.invoice_refresh_check_status: flagged with an open finding, approved when only
  overridden ones are left, clean otherwise.

New ERROR findings notify finance and the NAM of the billed client, once per finding
(notification key "invoice-finding:<id>").

Concurrency: rows are upserted in (invoice, rule, key) order, `last_seen_at` only moves
forward, and a deadlock between two runs is an OperationalError the tasks retry.

Cost: one query to find the open book among the ids, one per rule, one upsert, one resolve, the
check status (one read + an update per status), and the notifications (a fixed handful): the
same number of queries for 3 invoices as for 100,000.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts_crm.access import Role
from accounts_crm.notifications import Notice, NotificationKind, notify_many
from billing.models import CheckFinding, Invoice
from clients.models import AccountTeamMember, Client
from orders.models import Contract, ContractPrice, Order, OrderLine
from projects.models import Milestone

__all__ = [
    "RULES",
    "CheckResult",
    "Row",
    "Rule",
    "check_invoices",
    "check_open_book",
    "display_message",
    "open_book_ids",
    "register",
    "rule_for",
]

# Days within which two invoices of one client with the same gross total are likely duplicates.
DUPLICATE_WINDOW_DAYS = 30
# Payment terms of an invoice without a contract (the same as billing.services').
DEFAULT_PAYMENT_TERMS_DAYS = 30

# The checked invoices of every rule, with their invoice date and contract (the invoice's, or
# else its order's).
BOOK_CTE = """
book AS (
    SELECT i.id, i.kind, i.client_id, i.order_id, i.currency, i.status,
           i.net_total, i.vat_total, i.gross_total, i.issue_date, i.due_date, i.created_at,
           COALESCE(i.issue_date, %(today)s::date) AS invoice_date,
           COALESCE(i.contract_id, o.contract_id) AS contract_id
      FROM billing_invoice i
      LEFT JOIN orders_order o ON o.id = i.order_id
     WHERE i.id = ANY(%(ids)s::bigint[])
)"""

# +quantity for a line that bills, -quantity for a line of an issued credit note, 0 otherwise:
# the "what counts as invoiced" rule of billing/selectors.py, in SQL (inv = the line's invoice,
# cr = the invoice a credit note credits).
INVOICED_SIGN = """
CASE WHEN inv.kind = 'invoice' AND inv.status <> 'cancelled' THEN 1
     WHEN inv.kind = 'credit_note'
          AND inv.status IN ('issued', 'partially_paid', 'paid', 'cancelled')
          AND cr.status <> 'cancelled' THEN -1
     ELSE 0 END"""


@dataclass(frozen=True)
class Row:
    invoice_id: int
    line_id: int | None
    key: str
    expected: Any
    actual: Any
    amount_at_stake: Decimal
    compared_id: int | None
    subject: str
    currency: str


class Rule:
    """One named check. Subclasses set the class attributes and `sql` (see the module doc)."""

    code: ClassVar[str]
    severity: ClassVar[str] = CheckFinding.Severity.ERROR
    title: ClassVar[Promise]
    message: ClassVar[Promise]
    value_kind: ClassVar[str] = "money"  # money | quantity | percent | date | text
    compared_model: ClassVar[type[models.Model] | None] = None
    sql: ClassVar[str | None] = None  # None: the rule overrides rows() instead

    def query(
        self, invoice_ids: Sequence[int], *, today: datetime.date | None = None
    ) -> tuple[str, dict[str, Any]]:
        """This rule's core query alone: (sql, params) for `cursor.execute`."""
        if self.sql is None:
            raise NotImplementedError(f"Rule {self.code} computes its rows without one query.")
        params = {"ids": list(invoice_ids), "today": today or timezone.localdate()}
        # A rule's sql either starts with its own CTEs ("name AS (...)") or is the SELECT.
        joint = "\n" if self.sql.lstrip().upper().startswith("SELECT") else ",\n"
        return f"WITH RECURSIVE {BOOK_CTE}{joint}{self.sql}", params

    def rows(self, invoice_ids: Sequence[int], *, today: datetime.date | None = None) -> list[Row]:
        if not invoice_ids:
            return []
        with connection.cursor() as cursor:
            cursor.execute(*self.query(invoice_ids, today=today))
            return [Row(*values) for values in cursor.fetchall()]

    # For people --------------------------------------------------------------------------

    def raw(self, value: Any) -> str:
        """A value as kept in the finding's params: neutral (not localized), no unit."""
        if value is None:
            return ""
        if isinstance(value, datetime.date):
            return value.isoformat()
        if self.value_kind == "money":
            return _money(Decimal(value))
        if self.value_kind in ("quantity", "percent"):
            return _plain(Decimal(value))
        return str(value)

    def format_value(self, value: Any, currency: str = "") -> str:
        """Expected / actual as stored on the finding (neutral, with the unit)."""
        raw = self.raw(value)
        if raw == "":
            return ""
        if self.value_kind == "money":
            return f"{raw} {currency}".strip()
        if self.value_kind == "percent":
            return f"{raw}%"
        return raw

    def numeric(self, value: Any) -> Decimal | None:
        if self.value_kind in ("money", "quantity", "percent") and value is not None:
            return Decimal(value)
        return None

    def localize(self, value: str, currency: str = "") -> str:
        """A stored param shown in the active language (numbers and dates by its formats)."""
        if value in ("", None):
            return ""
        if self.value_kind in ("money", "quantity", "percent"):
            number = Decimal(value)
            places = max(-number.as_tuple().exponent, 0)
            text = formats.number_format(number, places, use_l10n=True)
            if self.value_kind == "money":
                return f"{text} {currency}".strip()
            return f"{text}%" if self.value_kind == "percent" else text
        if self.value_kind == "date":
            return formats.date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        return str(value)


def _money(value: Decimal) -> str:
    """Cents, or up to four decimals when the value has them (an effective unit price)."""
    cents = value.quantize(Decimal("0.01"))
    if value == cents:
        return format(cents, "f")
    return _plain(value.quantize(Decimal("0.0001")))


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros and without an exponent (10.000 -> 10, 2.50 -> 2.5)."""
    text = format(value.normalize(), "f")
    return text


RULES: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    RULES[cls.code] = cls()
    return cls


def rule_for(code: str) -> Rule | None:
    return RULES.get(code)


# The rules ---------------------------------------------------------------------------------


@register
class PriceVsContract(Rule):
    """Unit price vs the contract price valid on the invoice date.

    For each line of a product on an invoice whose contract (the invoice's, else its order's)
    has an agreed price for that product valid on the invoice date (valid_from <= date <=
    valid_to or open-ended): the line's effective unit price, unit price x (100 - discount) /
    100, differs from the agreed price by half a cent or more. A price that becomes valid ON the
    invoice date applies. At stake: the difference x quantity.
    """

    code = "price_vs_contract"
    title = _("Unit price vs contract price")
    message = _("%(subject)s: unit price %(actual)s, the contract price is %(expected)s.")
    compared_model = ContractPrice
    sql = """
    lines AS (
        SELECT b.id AS invoice_id, l.id AS line_id, l.quantity, b.currency, p.sku,
               round(l.unit_price * (100 - l.discount) / 100, 4) AS effective,
               cp.id AS price_id, cp.unit_price AS agreed
          FROM book b
          JOIN billing_invoiceline l ON l.invoice_id = b.id
          JOIN orders_product p ON p.id = l.product_id
          JOIN orders_contractprice cp
            ON cp.contract_id = b.contract_id AND cp.product_id = l.product_id
           AND cp.valid_from <= b.invoice_date
           AND (cp.valid_to IS NULL OR cp.valid_to >= b.invoice_date)
         WHERE b.kind = 'invoice'
    )
    SELECT invoice_id, line_id, line_id::text, agreed, effective,
           round(abs(effective - agreed) * quantity, 2), price_id, sku, currency
      FROM lines
     WHERE abs(effective - agreed) >= 0.005
    """


@register
class PriceVsOrder(Rule):
    """Unit price vs the price of the order line the invoice line bills.

    The line's effective unit price (unit price less its discount) differs from the order
    line's (its unit price less its discount) by half a cent or more. At stake: the
    difference x quantity.
    """

    code = "price_vs_order"
    title = _("Unit price vs order price")
    message = _("%(subject)s: unit price %(actual)s, the order says %(expected)s.")
    compared_model = OrderLine
    sql = """
    lines AS (
        SELECT b.id AS invoice_id, l.id AS line_id, l.quantity, b.currency, ol.id AS ol_id,
               round(l.unit_price * (100 - l.discount) / 100, 4) AS effective,
               round(ol.unit_price * (100 - ol.discount) / 100, 4) AS ordered,
               COALESCE(NULLIF(l.description, ''), ol.description) AS subject
          FROM book b
          JOIN billing_invoiceline l ON l.invoice_id = b.id
          JOIN orders_orderline ol ON ol.id = l.order_line_id
         WHERE b.kind = 'invoice'
    )
    SELECT invoice_id, line_id, line_id::text, ordered, effective,
           round(abs(effective - ordered) * quantity, 2), ol_id, subject, currency
      FROM lines
     WHERE abs(effective - ordered) >= 0.005
    """


@register
class DiscountVsContract(Rule):
    """Discount vs the contract's default discount.

    For each line of a product that has NO agreed contract price on the invoice date (so it is
    sold at list price less the contract's default discount, the orders app's pricing rule),
    on an invoice with a contract: the line's discount differs from the contract's default
    discount (exact, to the hundredth of a percent). Lines with an agreed price are the
    price rule's. At stake: the net difference this discount makes.
    """

    code = "discount_vs_contract"
    severity = CheckFinding.Severity.WARNING
    title = _("Discount vs contract")
    message = _(
        "%(subject)s: discount %(actual)s, the contract's default discount is %(expected)s."
    )
    value_kind = "percent"
    compared_model = Contract
    sql = """
    SELECT b.id, l.id, l.id::text, c.default_discount, l.discount,
           round(abs(l.discount - c.default_discount) * l.quantity * l.unit_price / 100, 2),
           c.id, COALESCE(NULLIF(l.description, ''), p.sku), b.currency
      FROM book b
      JOIN orders_contract c ON c.id = b.contract_id
      JOIN billing_invoiceline l ON l.invoice_id = b.id
      JOIN orders_product p ON p.id = l.product_id
     WHERE b.kind = 'invoice'
       AND l.discount <> c.default_discount
       AND NOT EXISTS (
            SELECT 1 FROM orders_contractprice cp
             WHERE cp.contract_id = c.id AND cp.product_id = l.product_id
               AND cp.valid_from <= b.invoice_date
               AND (cp.valid_to IS NULL OR cp.valid_to >= b.invoice_date))
    """


class _CumulativeQuantity(Rule):
    """Shared SQL of the two cumulative quantity rules: `limit_column` of the order line."""

    value_kind = "quantity"
    compared_model = OrderLine
    limit_column: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only constants are interpolated (no input): the ids and dates are parameters.
        cls.sql = f"""
    book_lines AS (
        SELECT b.id AS invoice_id, l.order_line_id, min(l.id) AS line_id, b.currency,
               sum(l.quantity) AS quantity,
               round(sum(l.net_amount) / sum(l.quantity), 4) AS unit_net
          FROM book b JOIN billing_invoiceline l ON l.invoice_id = b.id
         WHERE b.kind = 'invoice' AND l.order_line_id IS NOT NULL
         GROUP BY b.id, l.order_line_id, b.currency
    ),
    invoiced AS (
        SELECT l.order_line_id, sum(l.quantity * {INVOICED_SIGN}) AS quantity
          FROM billing_invoiceline l
          JOIN billing_invoice inv ON inv.id = l.invoice_id
          LEFT JOIN billing_invoice cr ON cr.id = inv.credits_id
         WHERE l.order_line_id IN (SELECT order_line_id FROM book_lines)
         GROUP BY l.order_line_id
    )
    SELECT bl.invoice_id, bl.line_id, bl.order_line_id::text, ol.{cls.limit_column},
           iv.quantity,
           round(least(iv.quantity - ol.{cls.limit_column}, bl.quantity) * bl.unit_net, 2),
           ol.id, COALESCE(NULLIF(ol.description, ''), p.sku), bl.currency
      FROM book_lines bl
      JOIN invoiced iv ON iv.order_line_id = bl.order_line_id
      JOIN orders_orderline ol ON ol.id = bl.order_line_id
      JOIN orders_product p ON p.id = ol.product_id
     WHERE iv.quantity > ol.{cls.limit_column}
    """  # noqa: S608 - constants only, input goes in as parameters


@register
class QuantityVsOrdered(_CumulativeQuantity):
    """Cumulative invoiced quantity vs the ordered quantity.

    For each order line an invoice bills: the quantity invoiced on it across ALL documents
    (non-cancelled invoices, drafts included, less issued credit notes: selectors' rule) is
    above the ordered quantity (no tolerance: quantities are exact). Every checked invoice that
    bills the order line is flagged (key: the order line). At stake: the excess, at most this
    invoice's quantity, at this invoice's net unit price. A credit note that brings the total
    back to the ordered quantity resolves it.
    """

    code = "quantity_vs_ordered"
    title = _("Invoiced vs ordered quantity")
    message = _("%(subject)s: %(actual)s invoiced in total, %(expected)s ordered.")
    limit_column = "quantity"


@register
class QuantityVsDelivered(_CumulativeQuantity):
    """Cumulative invoiced quantity vs the delivered quantity (a warning: billing ahead of
    delivery). Same counting and subjects as quantity_vs_ordered, against delivered_quantity;
    an over-billing beyond the ordered quantity shows in both rules."""

    code = "quantity_vs_delivered"
    severity = CheckFinding.Severity.WARNING
    title = _("Invoiced vs delivered quantity")
    message = _("%(subject)s: %(actual)s invoiced in total, %(expected)s delivered.")
    limit_column = "delivered_quantity"


@register
class MilestoneNotCompleted(Rule):
    """Billing a milestone that is not completed on the invoice date.

    A line billing a milestone whose completed date is empty, or later than the invoice date
    (a milestone completed ON the invoice date is fine). Expected: the invoice date (done by
    then); actual: the completed date, or nothing. At stake: the line's net.
    """

    code = "milestone_not_completed"
    title = _("Milestone not completed")
    message = _(
        "%(subject)s is billed on %(expected)s but is not completed by then (completed: "
        "%(actual)s)."
    )
    value_kind = "date"
    compared_model = Milestone
    sql = """
    SELECT b.id, l.id, l.milestone_id::text, b.invoice_date, m.completed_on, l.net_amount,
           m.id, m.name, b.currency
      FROM book b
      JOIN billing_invoiceline l ON l.invoice_id = b.id
      JOIN projects_milestone m ON m.id = l.milestone_id
     WHERE b.kind = 'invoice'
       AND (m.completed_on IS NULL OR m.completed_on > b.invoice_date)
    """

    def format_value(self, value: Any, currency: str = "") -> str:
        return super().format_value(value, currency) or "-"

    def localize(self, value: str, currency: str = "") -> str:
        if value in ("", "-"):
            return gettext("not yet")
        return super().localize(value, currency)


@register
class ContractValidity(Rule):
    """Invoice date outside the contract's validity, or a contract not in force.

    The contract (the invoice's, else its order's) is valid from its start date to its end
    date. An ACTIVE auto-renew contract renews itself for another term at each end date until
    someone terminates it (the orders app keeps no renewal rows: auto-renew plus an active
    status is the renewal), so it has no end while active. An EXPIRED contract ends at its end
    date. A DRAFT contract is never in force. A TERMINATED contract ends on the day it was
    terminated: the first audit event that shows it terminated (orders' contract history); with
    no such event, it is treated as terminated before any invoice. Expected: the validity
    period; actual: the invoice date. At stake: the invoice's net total.
    """

    code = "contract_validity"
    title = _("Contract validity")
    message = _("Contract %(subject)s is valid %(expected)s; the invoice date is %(actual)s.")
    value_kind = "text"
    compared_model = Contract
    sql = """
    contracts AS (
        SELECT b.id AS invoice_id, b.invoice_date, b.net_total, b.currency, c.id AS contract_id,
               c.number, c.status, c.starts_on,
               CASE WHEN c.status = 'active' AND c.auto_renew THEN NULL ELSE c.ends_on END
                   AS ends_on,
               CASE WHEN c.status = 'terminated' THEN
                   COALESCE((SELECT min(e.pgh_created_at)::date FROM orders_contractevent e
                              WHERE e.pgh_obj_id = c.id AND e.status = 'terminated'),
                            '-infinity'::date)
               END AS terminated_on
          FROM book b JOIN orders_contract c ON c.id = b.contract_id
         WHERE b.kind = 'invoice'
    )
    SELECT invoice_id, NULL::bigint, contract_id::text,
           CASE WHEN status = 'draft' THEN 'draft'
                WHEN terminated_on IS NOT NULL
                     THEN starts_on::text || ' .. ' || terminated_on::text || ' (terminated)'
                ELSE starts_on::text || ' .. ' || COALESCE(ends_on::text, '(auto-renew)') END,
           invoice_date::text, net_total, contract_id, number, currency
      FROM contracts
     WHERE status = 'draft'
        OR invoice_date < starts_on
        OR invoice_date > ends_on
        OR invoice_date >= terminated_on
    """


@register
class ContractCap(Rule):
    """Cumulative billing over the contract's billing cap.

    The net billed on the contract (nets of its non-cancelled invoices, drafts included, less
    nets of issued credit notes of non-cancelled invoices; the cap is net of VAT) is above its
    billing cap (contracts without a cap are not checked). Every checked invoice on the
    contract is flagged (key: the contract). At stake: the excess, at most this invoice's net.
    """

    code = "contract_cap"
    title = _("Contract billing cap")
    message = _("Contract %(subject)s: %(actual)s billed in total, the cap is %(expected)s.")
    compared_model = Contract
    sql = f"""
    capped AS (
        SELECT DISTINCT c.id, c.billing_cap FROM book b
          JOIN orders_contract c ON c.id = b.contract_id
         WHERE c.billing_cap IS NOT NULL
    ),
    billed AS (
        -- Two branches joined by UNION ALL, not one OR: each uses its index (13 ms instead of
        -- 127 ms for one invoice on the large book; 0.45 s instead of 1.0 s for the whole book).
        SELECT contract_id, sum(net) AS net FROM (
            SELECT inv.contract_id, inv.net_total * {INVOICED_SIGN} AS net
              FROM billing_invoice inv
              LEFT JOIN billing_invoice cr ON cr.id = inv.credits_id
             WHERE inv.contract_id IN (SELECT id FROM capped)
            UNION ALL
            SELECT o.contract_id, inv.net_total * {INVOICED_SIGN}
              FROM billing_invoice inv
              JOIN orders_order o ON o.id = inv.order_id
              LEFT JOIN billing_invoice cr ON cr.id = inv.credits_id
             WHERE inv.contract_id IS NULL AND o.contract_id IN (SELECT id FROM capped)
        ) parts
         GROUP BY contract_id
    )
    SELECT b.id, NULL::bigint, c.id::text, c.billing_cap, bd.net,
           least(bd.net - c.billing_cap, b.net_total), c.id, c.number, b.currency
      FROM book b
      JOIN orders_contract c ON c.id = b.contract_id
      JOIN billed bd ON bd.contract_id = c.id
     WHERE b.kind = 'invoice' AND bd.net > c.billing_cap
    """  # noqa: S608 - constants only, input goes in as parameters


@register
class DueDateTerms(Rule):
    """Due date vs the contract's payment terms.

    An invoice with an issue date and a due date whose due date is not the issue date plus the
    contract's payment terms days (30 days without a contract, as the issuing service does);
    exact to the day, earlier or later. A draft without dates is not checked (issuing sets
    them). At stake: the invoice's gross when the due date is later than the terms allow
    (money paid later than agreed), nothing when earlier.
    """

    code = "due_date_terms"
    severity = CheckFinding.Severity.WARNING
    title = _("Due date vs payment terms")
    message = _("Due date %(actual)s; the payment terms give %(expected)s.")
    value_kind = "date"
    compared_model = Contract
    sql = f"""
    dues AS (
        SELECT b.id, b.due_date, b.gross_total, b.currency, c.id AS contract_id,
               c.number, b.issue_date + COALESCE(c.payment_terms_days,
                                                 {DEFAULT_PAYMENT_TERMS_DAYS}) AS expected
          FROM book b LEFT JOIN orders_contract c ON c.id = b.contract_id
         WHERE b.kind = 'invoice' AND b.issue_date IS NOT NULL AND b.due_date IS NOT NULL
    )
    SELECT id, NULL::bigint, 'due', expected, due_date,
           CASE WHEN due_date > expected THEN gross_total ELSE 0 END,
           contract_id, COALESCE(number, ''), currency
      FROM dues WHERE due_date <> expected
    """  # noqa: S608 - constants only, input goes in as parameters


@register
class LineArithmetic(Rule):
    """A line's net and VAT vs the rounding rule (billing/models.py).

    Net = round(quantity x unit price x (100 - discount) / 100, 2) half up; VAT =
    round(that net x VAT rate / 100, 2) half up, per line. The stored amount must be exactly
    that (to the cent). Keys "<line>:net" and "<line>:vat". At stake: the difference.
    Applies to credit notes too.
    """

    code = "line_arithmetic"
    title = _("Line amounts")
    message = _("%(subject)s: %(actual)s on the invoice, the rounding rule gives %(expected)s.")
    sql = """
    lines AS (
        SELECT b.id AS invoice_id, b.currency, l.id AS line_id, l.description,
               l.net_amount, l.vat_amount, l.vat_rate,
               round(l.quantity * l.unit_price * (100 - l.discount) / 100, 2) AS net
          FROM book b JOIN billing_invoiceline l ON l.invoice_id = b.id
    ),
    computed AS (SELECT *, round(net * vat_rate / 100, 2) AS vat FROM lines)
    SELECT invoice_id, line_id, line_id::text || ':net', net, net_amount,
           abs(net - net_amount), NULL::bigint, description, currency
      FROM computed WHERE net <> net_amount
    UNION ALL
    SELECT invoice_id, line_id, line_id::text || ':vat', vat, vat_amount,
           abs(vat - vat_amount), NULL::bigint, description, currency
      FROM computed WHERE vat <> vat_amount
    """


@register
class InvoiceTotals(Rule):
    """The invoice's net and VAT totals vs the sums of its lines' stored amounts (the gross is
    net + VAT by a database constraint). Keys "net" and "vat". At stake: the difference.
    Applies to credit notes too."""

    code = "invoice_totals"
    title = _("Invoice totals")
    message = _("%(subject)s total %(actual)s; its lines add up to %(expected)s.")
    compared_model = None
    sql = """
    sums AS (
        SELECT b.id, b.currency, b.net_total, b.vat_total,
               COALESCE(sum(l.net_amount), 0) AS net, COALESCE(sum(l.vat_amount), 0) AS vat
          FROM book b LEFT JOIN billing_invoiceline l ON l.invoice_id = b.id
         GROUP BY b.id, b.currency, b.net_total, b.vat_total
    )
    SELECT id, NULL::bigint, 'net', net, net_total, abs(net - net_total), NULL::bigint,
           'Net', currency FROM sums WHERE net <> net_total
    UNION ALL
    SELECT id, NULL::bigint, 'vat', vat, vat_total, abs(vat - vat_total), NULL::bigint,
           'VAT', currency FROM sums WHERE vat <> vat_total
    """

    def subject(self, value: str) -> str:
        return gettext("Net") if value == "Net" else gettext("VAT")


@register
class DuplicateInvoice(Rule):
    """A likely duplicate: another invoice (kind invoice, not cancelled, drafts included) of
    the same billed client with the same gross total (above zero) dated within 30 days of this
    one (issue date, or creation date for a draft), that bills the same order OR the same lines
    (the same multiset of order line / milestone / product, quantity and unit price). Both
    invoices are flagged, each naming the other (key: the other invoice). A warning: finance
    decides. At stake: the gross total.
    """

    code = "duplicate_invoice"
    severity = CheckFinding.Severity.WARNING
    title = _("Likely duplicate invoice")
    message = _("Likely a duplicate of %(expected)s (same client and amount: %(actual)s).")
    value_kind = "text"
    compared_model = Invoice
    sql = f"""
    dated AS (
        SELECT b.id, b.client_id, b.order_id, b.gross_total, b.currency,
               COALESCE(b.issue_date, b.created_at::date) AS day
          FROM book b WHERE b.kind = 'invoice' AND b.gross_total > 0
    ),
    pairs AS (
        SELECT d.id, d.currency, d.gross_total, d.order_id AS order_a, o.id AS other_id,
               o.order_id AS order_b, o.series, o.year, o.number
          FROM dated d
          JOIN billing_invoice o
            ON o.client_id = d.client_id AND o.gross_total = d.gross_total AND o.id <> d.id
           AND o.kind = 'invoice' AND o.status <> 'cancelled'
           AND abs(COALESCE(o.issue_date, o.created_at::date) - d.day) <= {DUPLICATE_WINDOW_DAYS}
    ),
    prints AS (
        SELECT l.invoice_id, string_agg(
                   concat_ws('/', l.order_line_id, l.milestone_id, l.product_id, l.quantity,
                             l.unit_price), ',' ORDER BY l.order_line_id, l.milestone_id,
                   l.product_id, l.quantity, l.unit_price) AS print
          FROM billing_invoiceline l
         WHERE l.invoice_id IN (SELECT id FROM pairs UNION SELECT other_id FROM pairs)
         GROUP BY l.invoice_id
    )
    SELECT p.id, NULL::bigint, p.other_id::text,
           CASE WHEN p.number IS NULL THEN '#' || p.other_id::text
                ELSE p.series || '-' || p.year || '/' || lpad(p.number::text, 5, '0') END,
           p.gross_total::text || ' ' || p.currency, p.gross_total, p.other_id, '', p.currency
      FROM pairs p
      LEFT JOIN prints pa ON pa.invoice_id = p.id
      LEFT JOIN prints pb ON pb.invoice_id = p.other_id
     WHERE p.order_a = p.order_b OR pa.print = pb.print
    """  # noqa: S608 - constants only, input goes in as parameters


@register
class BilledOutsideGroup(Rule):
    """The billed client is outside the ordering client's group.

    The billed client and the client of the invoice's order must have the same group root (the
    top of the parent chain); a subsidiary billed for its holding's order and the other way
    round are fine. Invoices without an order are not checked. At stake: the gross total.
    """

    code = "billed_outside_group"
    title = _("Billed entity outside the group")
    message = _("Billed to %(actual)s, outside the group of the ordering client %(expected)s.")
    value_kind = "text"
    compared_model = Order
    sql = """
    pairs AS (
        SELECT b.id, b.client_id AS billed_id, o.client_id AS ordering_id, o.id AS order_id,
               b.gross_total, b.currency
          FROM book b JOIN orders_order o ON o.id = b.order_id
         WHERE b.kind = 'invoice' AND b.client_id <> o.client_id
    ),
    up AS (
        SELECT c.id AS start_id, c.id, c.parent_id, 0 AS depth FROM clients_client c
         WHERE c.id IN (SELECT billed_id FROM pairs UNION SELECT ordering_id FROM pairs)
        UNION ALL
        SELECT up.start_id, p.id, p.parent_id, up.depth + 1 FROM up
          JOIN clients_client p ON p.id = up.parent_id WHERE up.depth < 50
    ),
    roots AS (SELECT start_id, id AS root_id FROM up WHERE parent_id IS NULL)
    SELECT p.id, NULL::bigint, 'group', co.name, cb.name, p.gross_total, p.order_id, '',
           p.currency
      FROM pairs p
      JOIN roots rb ON rb.start_id = p.billed_id
      JOIN roots ro ON ro.start_id = p.ordering_id
      JOIN clients_client cb ON cb.id = p.billed_id
      JOIN clients_client co ON co.id = p.ordering_id
     WHERE rb.root_id <> ro.root_id
    """


@register
class MissingFiscalData(Rule):
    """The billed client lacks the fiscal data an e-invoice needs: a VAT number or a tax code
    (key "tax_id"), and an SDI recipient code or a PEC address (key "delivery"). Applies to
    credit notes too. Nothing is at stake in money: the invoice cannot be delivered."""

    code = "missing_fiscal_data"
    title = _("Missing fiscal data")
    message = _("%(subject)s: %(expected)s is missing.")
    value_kind = "text"
    compared_model = Client
    sql = """
    SELECT b.id, NULL::bigint, 'tax_id', 'vat_or_tax_code', '', 0, c.id, c.name, b.currency
      FROM book b JOIN clients_client c ON c.id = b.client_id
     WHERE c.vat_number = '' AND c.tax_code = ''
    UNION ALL
    SELECT b.id, NULL::bigint, 'delivery', 'sdi_or_pec', '', 0, c.id, c.name, b.currency
      FROM book b JOIN clients_client c ON c.id = b.client_id
     WHERE c.sdi_code = '' AND c.pec = ''
    """

    def format_value(self, value: Any, currency: str = "") -> str:
        return {"vat_or_tax_code": "VAT number or tax code", "sdi_or_pec": "SDI code or PEC"}.get(
            value, str(value)
        )

    def localize(self, value: str, currency: str = "") -> str:
        if value == "vat_or_tax_code":
            return gettext("a VAT number or a tax code")
        if value == "sdi_or_pec":
            return gettext("an SDI recipient code or a PEC address")
        return super().localize(value, currency)


@register
class OrderNotConfirmed(Rule):
    """Invoicing a cancelled or unconfirmed (draft, submitted) order: the invoice's order, or
    the order of any order line it bills (key: the order). Confirmed, in-progress and fulfilled
    orders are fine. At stake: what the invoice bills of that order (its lines' nets; the
    invoice's net when it bills none of its lines)."""

    code = "order_not_confirmed"
    title = _("Order not confirmed")
    message = _("Order %(subject)s is %(actual)s: it should be confirmed before invoicing.")
    value_kind = "text"
    compared_model = Order
    sql = """
    billed_orders AS (
        SELECT b.id AS invoice_id, b.order_id, b.net_total AS amount, b.currency FROM book b
         WHERE b.kind = 'invoice' AND b.order_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l
                             JOIN orders_orderline ol ON ol.id = l.order_line_id
                            WHERE l.invoice_id = b.id AND ol.order_id = b.order_id)
        UNION ALL
        SELECT b.id, ol.order_id, sum(l.net_amount), b.currency FROM book b
          JOIN billing_invoiceline l ON l.invoice_id = b.id
          JOIN orders_orderline ol ON ol.id = l.order_line_id
         WHERE b.kind = 'invoice'
         GROUP BY b.id, ol.order_id, b.currency
    )
    SELECT bo.invoice_id, NULL::bigint, o.id::text, 'confirmed', o.status, bo.amount, o.id,
           o.number, bo.currency
      FROM billed_orders bo JOIN orders_order o ON o.id = bo.order_id
     WHERE o.status IN ('draft', 'submitted', 'cancelled')
    """

    def localize(self, value: str, currency: str = "") -> str:
        labels = dict(Order.Status.choices)
        return str(labels.get(value, value)).lower()


# Messages for people -----------------------------------------------------------------------


def display_message(finding: CheckFinding) -> str:
    """The finding's message in the active language, from its rule and params (the stored
    `message` when the rule is gone)."""
    rule = rule_for(finding.rule)
    if rule is None:
        return finding.message
    params = finding.params or {}
    currency = params.get("currency", "")
    subject = params.get("subject", "")
    if hasattr(rule, "subject"):
        subject = rule.subject(subject)
    values = {
        "expected": rule.localize(params.get("expected", ""), currency),
        "actual": rule.localize(params.get("actual", ""), currency),
        "subject": subject,
    }
    return str(rule.message) % values


# Running the checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    checked: int
    findings: int
    created: int
    resolved: int

    def as_dict(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "findings": self.findings,
            "created": self.created,
            "resolved": self.resolved,
        }


# Two index lookups joined by UNION, not one OR: with the OR PostgreSQL scans every invoice
# (30-47 ms on the large book instead of under 1 ms for a single-invoice check).
OPEN_BOOK_SQL = """
SELECT i.id FROM billing_invoice i
 WHERE i.id IN (SELECT unnest(%(ids)s::bigint[])
                UNION
                SELECT cn.credits_id FROM billing_invoice cn
                 WHERE cn.id = ANY(%(ids)s::bigint[]) AND cn.kind = 'credit_note'
                   AND cn.credits_id IS NOT NULL)
   AND i.status IN ('draft', 'issued', 'partially_paid')
 ORDER BY i.id
"""


def open_book_ids(invoice_ids: Iterable[int] | None = None) -> list[int]:
    """The invoices to check: those of `invoice_ids` (plus the invoices their credit notes
    credit) in the open book; all of the open book without ids."""
    with connection.cursor() as cursor:
        if invoice_ids is None:
            cursor.execute(
                "SELECT id FROM billing_invoice"
                " WHERE status IN ('draft', 'issued', 'partially_paid') ORDER BY id"
            )
        else:
            cursor.execute(OPEN_BOOK_SQL, {"ids": [int(pk) for pk in invoice_ids]})
        return [pk for (pk,) in cursor.fetchall()]


UPSERT_SQL = """
INSERT INTO billing_checkfinding AS f
    (invoice_id, line_id, rule, key, severity, params, message, expected, actual,
     expected_value, actual_value, amount_at_stake, compared_to_type_id, compared_to_id,
     status, override_reason, first_seen_at, last_seen_at)
SELECT u.invoice_id, u.line_id, u.rule, u.key, u.severity, u.params, u.message, u.expected,
       u.actual, u.expected_value, u.actual_value, u.amount_at_stake, u.type_id, u.compared_id,
       'open', '', %(now)s, %(now)s
  FROM unnest(%(invoice_id)s::bigint[], %(line_id)s::bigint[], %(rule)s::varchar[],
              %(key)s::varchar[], %(severity)s::varchar[], %(params)s::jsonb[],
              %(message)s::text[], %(expected)s::varchar[], %(actual)s::varchar[],
              %(expected_value)s::numeric[], %(actual_value)s::numeric[],
              %(amount_at_stake)s::numeric[], %(type_id)s::integer[], %(compared_id)s::bigint[])
       AS u(invoice_id, line_id, rule, key, severity, params, message, expected, actual,
            expected_value, actual_value, amount_at_stake, type_id, compared_id)
ON CONFLICT (invoice_id, rule, key) DO UPDATE SET
    line_id = EXCLUDED.line_id,
    severity = EXCLUDED.severity,
    params = EXCLUDED.params,
    message = EXCLUDED.message,
    expected = EXCLUDED.expected,
    actual = EXCLUDED.actual,
    expected_value = EXCLUDED.expected_value,
    actual_value = EXCLUDED.actual_value,
    amount_at_stake = EXCLUDED.amount_at_stake,
    compared_to_type_id = EXCLUDED.compared_to_type_id,
    compared_to_id = EXCLUDED.compared_to_id,
    last_seen_at = greatest(f.last_seen_at, EXCLUDED.last_seen_at),
    status = CASE WHEN f.status = 'overridden' AND f.expected = EXCLUDED.expected
                       AND f.actual = EXCLUDED.actual THEN 'overridden' ELSE 'open' END,
    resolved_at = NULL,
    override_reason = CASE WHEN f.status = 'overridden' AND f.expected = EXCLUDED.expected
                                AND f.actual = EXCLUDED.actual THEN f.override_reason
                           ELSE '' END,
    overridden_by_id = CASE WHEN f.status = 'overridden' AND f.expected = EXCLUDED.expected
                                 AND f.actual = EXCLUDED.actual THEN f.overridden_by_id END,
    overridden_at = CASE WHEN f.status = 'overridden' AND f.expected = EXCLUDED.expected
                              AND f.actual = EXCLUDED.actual THEN f.overridden_at END
RETURNING f.id, f.invoice_id, f.severity, f.status, (f.xmax = 0) AS inserted
"""

RESOLVE_SQL = """
UPDATE billing_checkfinding
   SET status = 'resolved', resolved_at = %(now)s
 WHERE invoice_id = ANY(%(ids)s::bigint[])
   AND status IN ('open', 'overridden')
   AND last_seen_at < %(now)s
"""


def _finding_columns(rows: list[tuple[Rule, Row]]) -> dict[str, list[Any]]:
    type_ids = {
        model: ContentType.objects.get_for_model(model).pk
        for model in {rule.compared_model for rule, _row in rows if rule.compared_model}
    }
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "invoice_id", "line_id", "rule", "key", "severity", "params", "message",
            "expected", "actual", "expected_value", "actual_value", "amount_at_stake",
            "type_id", "compared_id",
        )
    }  # fmt: skip
    seen: set[tuple[int, str, str]] = set()
    for rule, row in sorted(rows, key=lambda item: (item[1].invoice_id, item[0].code, item[1].key)):
        # One row per (invoice, rule, key): the upsert may not touch a row twice.
        if (row.invoice_id, rule.code, str(row.key)) in seen:
            continue
        seen.add((row.invoice_id, rule.code, str(row.key)))
        expected = rule.format_value(row.expected, row.currency)
        actual = rule.format_value(row.actual, row.currency)
        params = {
            "expected": rule.raw(row.expected),
            "actual": rule.raw(row.actual),
            "subject": row.subject or "",
            "currency": row.currency or "",
        }
        with_message = {"expected": expected, "actual": actual, "subject": row.subject or ""}
        has_type = rule.compared_model is not None and row.compared_id is not None
        columns["invoice_id"].append(row.invoice_id)
        columns["line_id"].append(row.line_id)
        columns["rule"].append(rule.code)
        columns["key"].append(str(row.key)[:100])
        columns["severity"].append(str(rule.severity))
        columns["params"].append(json.dumps(params))
        columns["message"].append(_fallback_message(rule, with_message))
        columns["expected"].append(expected[:250])
        columns["actual"].append(actual[:250])
        columns["expected_value"].append(rule.numeric(row.expected))
        columns["actual_value"].append(rule.numeric(row.actual))
        columns["amount_at_stake"].append(max(Decimal(row.amount_at_stake or 0), Decimal(0)))
        columns["type_id"].append(type_ids[rule.compared_model] if has_type else None)
        columns["compared_id"].append(row.compared_id if has_type else None)
    return columns


def _fallback_message(rule: Rule, values: dict[str, str]) -> str:
    """The message kept on the row (in English: the fallback when the rule is gone)."""
    from django.utils import translation

    with translation.override("en"):
        return str(rule.message) % values


@transaction.atomic
def check_invoices(
    invoice_ids: Iterable[int], *, today: datetime.date | None = None
) -> dict[str, int]:
    """Run every rule over the open-book invoices among `invoice_ids` (see the module doc),
    upsert their findings, resolve the ones that no longer hold, set the check statuses and
    notify new errors. Safe to run twice: the second run changes nothing."""
    ids = open_book_ids(invoice_ids)
    return _check(ids, today=today).as_dict()


@transaction.atomic
def check_open_book(*, today: datetime.date | None = None) -> dict[str, int]:
    """The nightly batch: `check_invoices` over every draft and open invoice."""
    return _check(open_book_ids(None), today=today).as_dict()


CHECK_STATUS_SQL = """
UPDATE billing_invoice i
   SET check_status = s.check_status, updated_at = %(now)s
  FROM (
    SELECT ids.id,
           CASE WHEN bool_or(f.status = 'open') THEN 'flagged'
                WHEN bool_or(f.status = 'overridden') THEN 'approved'
                ELSE 'clean' END AS check_status
      FROM unnest(%(ids)s::bigint[]) AS ids(id)
      LEFT JOIN billing_checkfinding f
        ON f.invoice_id = ids.id AND f.status IN ('open', 'overridden')
     GROUP BY ids.id
  ) s
 WHERE i.id = s.id AND i.check_status <> s.check_status
"""


def refresh_check_status(ids: list[int]) -> None:
    """billing.services.invoice_refresh_check_status's rule (flagged with an open finding,
    approved with only overridden ones, clean otherwise) as ONE statement over any number of
    invoices (the service sends its ids as IN lists, one UPDATE per status)."""
    with connection.cursor() as cursor:
        cursor.execute(CHECK_STATUS_SQL, {"ids": ids, "now": timezone.now()})


def _check(ids: list[int], *, today: datetime.date | None) -> CheckResult:
    if not ids:
        return CheckResult(0, 0, 0, 0)
    today = today or timezone.localdate()
    found: list[tuple[Rule, Row]] = []
    for rule in RULES.values():
        found.extend((rule, row) for row in rule.rows(ids, today=today))
    now = timezone.now()
    returned: list[tuple[int, int, str, str, bool]] = []
    with connection.cursor() as cursor:
        if found:
            cursor.execute(UPSERT_SQL, {**_finding_columns(found), "now": now})
            returned = cursor.fetchall()
        cursor.execute(RESOLVE_SQL, {"ids": ids, "now": now})
        resolved = cursor.rowcount
    refresh_check_status(ids)
    new_errors = [
        (pk, invoice_id)
        for pk, invoice_id, severity, status, inserted in returned
        if inserted and severity == CheckFinding.Severity.ERROR and status == "open"
    ]
    _notify(new_errors)
    created = sum(1 for row in returned if row[4])
    return CheckResult(len(ids), len(returned), created, resolved)


def _notify(new_errors: list[tuple[int, int]]) -> None:
    """Tell finance and the billed client's NAM about new error findings, once per finding."""
    if not new_errors:
        return
    finance = list(
        User.objects.filter(is_active=True, groups__name=Role.FINANCE)
        .distinct()
        .values_list("pk", flat=True)
    )
    invoice_ids = {invoice_id for _pk, invoice_id in new_errors}
    invoices = {
        row["pk"]: row
        for row in Invoice.objects.filter(pk__in=invoice_ids).values(
            "pk", "client_id", "client__name", "series", "year", "number"
        )
    }
    nams: dict[int, set[int]] = {}
    for client_id, user_id in (
        AccountTeamMember.objects.active()
        .filter(
            client_id__in={row["client_id"] for row in invoices.values()},
            role=AccountTeamMember.Role.NAM,
        )
        .values_list("client_id", "user_id")
    ):
        nams.setdefault(client_id, set()).add(user_id)
    findings = {
        row["pk"]: row
        for row in CheckFinding.objects.filter(pk__in=[pk for pk, _i in new_errors]).values(
            "pk", "rule"
        )
    }
    notices = []
    for pk, invoice_id in new_errors:
        invoice = invoices[invoice_id]
        rule = rule_for(findings[pk]["rule"])
        number = (
            Invoice(pk=invoice_id).display_number
            if invoice["number"] is None
            else f"{invoice['series']}-{invoice['year']}/{invoice['number']:05d}"
        )
        for user_id in {*finance, *nams.get(invoice["client_id"], set())}:
            notices.append(
                Notice(
                    user=user_id,
                    kind=NotificationKind.INVOICE_FINDING,
                    key=f"invoice-finding:{pk}",
                    message=_("Invoice %(invoice)s of %(client)s: %(rule)s needs a look."),
                    params={
                        "invoice": number,
                        "client": invoice["client__name"],
                        "rule": rule.title if rule else findings[pk]["rule"],
                    },
                    target=CheckFinding(pk=pk),
                )
            )
    notify_many(notices=notices)


# For people: a rule's name, a finding's message and values, in the viewer's language ---------


def rule_label(code: str) -> str:
    """A rule's name in the active language (the code for a rule that is no longer registered)."""
    rule = rule_for(code)
    return str(rule.title) if rule is not None else code


def finding_message(finding: CheckFinding) -> str:
    """The finding's message in the viewer's language, rendered from its rule and params; the
    text stored when it was found if there is nothing to render it from."""
    if not finding.params:
        return finding.message
    try:
        return display_message(finding)
    except (KeyError, TypeError, ValueError):  # params the rule no longer understands
        return finding.message


def localized_values(finding: CheckFinding) -> tuple[str, str]:
    """Expected and actual in the viewer's number and date formats when the rule can say them
    again from the finding's params; else as stored."""
    rule = rule_for(finding.rule)
    params = finding.params or {}
    if rule is None or "expected" not in params or "actual" not in params:
        return finding.expected, finding.actual
    currency = params.get("currency", "")
    try:
        return (
            rule.localize(params["expected"], currency) or finding.expected,
            rule.localize(params["actual"], currency) or finding.actual,
        )
    except (ArithmeticError, TypeError, ValueError):
        return finding.expected, finding.actual
