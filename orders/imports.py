"""Import of the catalogue (products) and of contract prices from CSV and XLSX.

The same upload -> check (preview) -> apply as the clients' import, run by its machinery
(clients/imports.py): this module only registers the "orders" group with its two kinds and says
how one row is written, through orders/services.py as the uploader.

- Products are matched on the SKU (case-insensitive): a new SKU is created, a known one updated.
  Only whoever may manage the catalogue (admin) may import products at all.
- Contract prices are matched on contract number + SKU + valid from: a new period is created, a
  known one gets its price and end updated. Each row is checked against the person's rights on
  that contract's client; a contract they do not see reads as "no such contract". A period that
  overlaps another of the same product and contract is the row's error, in the words of the
  exclusion constraint.

Empty cells leave the current value unchanged. Amounts may be written "1234.50" or the Italian
way "1.234,50"; dates as 2026-01-31 or 31/01/2026.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts_crm.access import AnyUser, Role, has_role
from clients.errors import not_allowed
from clients.imports import (
    ImportGroup,
    ImportRunner,
    KindSpec,
    RowError,
    parse_choice,
    register,
    row_messages,
    snapshot,
)
from orders import policies, services
from orders.models import Contract, ContractPrice, Product, VatNature

GROUP = "orders"
PRODUCTS, CONTRACT_PRICES = "products", "contract_prices"

PRODUCT_COLUMNS = ("sku", "name", "family", "kind", "unit", "list_price", "currency", "vat_rate",
                   "vat_nature", "active")  # fmt: skip
CONTRACT_PRICE_COLUMNS = ("contract_number", "sku", "valid_from", "valid_to", "unit_price")

TRUE = frozenset({"1", "yes", "y", "true", "x", "sì", "si", "vero"})
FALSE = frozenset({"0", "no", "n", "false", "falso"})


def can_import(user: AnyUser) -> bool:
    """Who may open the pages; what each person may import is then checked per kind and row."""
    return has_role(user, Role.ADMIN, Role.TEAM_LEAD, Role.ACCOUNT_STAFF)


# Values -------------------------------------------------------------------------------------------


def parse_decimal(text: str) -> Decimal:
    """An amount as people write it: 1234.50, 1234,50, 1.234,50, 1,234.50, € 1 234,50.

    The last of "." and "," is the decimal separator when both appear; a lone comma is the
    decimal comma; several dots (1.234.567) are thousands separators. A single dot is a decimal
    point, as spreadsheets and machines write it.
    """
    cleaned = re.sub(r"[\s€']", "", text)
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        if cleaned.count(",") > 1:
            raise ValidationError(_("%(value)s is not a number.") % {"value": text})
        cleaned = cleaned.replace(",", ".")
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(_("%(value)s is not a number.") % {"value": text}) from None
    if not value.is_finite():
        raise ValidationError(_("%(value)s is not a number.") % {"value": text})
    return value


def parse_date(text: str) -> datetime.date:
    """2026-01-31 (also as a spreadsheet's 2026-01-31T00:00:00), 31/01/2026 or 31.01.2026."""
    value = text.strip()
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return datetime.date(year, month, day)
        except ValueError:
            pass
    raise ValidationError(
        _("%(value)s is not a date; write it as 2026-01-31 or 31/01/2026.") % {"value": text}
    )


def parse_bool(text: str) -> bool:
    value = text.strip().casefold()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValidationError(_("%(value)s is neither yes nor no.") % {"value": text})


# Rows ---------------------------------------------------------------------------------------------


class OrdersRunner(ImportRunner):
    """One pass over the catalogue's and contract prices' rows, through orders/services.py."""

    def __init__(self, *, by: AnyUser) -> None:
        super().__init__(by=by)
        self.products: dict[str, Product | None] = {}  # by SKU (case-folded), as seen this run
        self.contracts: dict[str, Contract | None] = {}  # by number, visible to `by`

    def label(self, kind: str, values: dict[str, str]) -> str:
        if kind == CONTRACT_PRICES:
            return " · ".join(
                value
                for value in (
                    values.get("contract_number", ""),
                    values.get("sku", ""),
                    values.get("valid_from", ""),
                )
                if value
            )
        return " ".join(value for value in (values.get("sku"), values.get("name")) if value)

    # Products ----------------------------------------------------------------------------------

    def _products(self, values: dict[str, str], seen: dict[str, int], line: int) -> str:
        sku = values.get("sku", "").strip()
        if not sku:
            raise RowError([_("SKU: this field cannot be blank.")])
        key = sku.casefold()
        if key in seen:
            raise RowError([_("This product is on line %(line)s already.") % {"line": seen[key]}])
        seen[key] = line
        fields = _fields(
            values,
            Product,
            {
                "name": str,
                "family": str,
                "kind": lambda text: parse_choice(Product.Kind, text),
                "unit": str,
                "list_price": parse_decimal,
                "currency": lambda text: text.upper(),
                "vat_rate": parse_decimal,
                "vat_nature": lambda text: parse_choice(VatNature, text),
                "active": parse_bool,
            },
        )
        if "active" in fields:
            fields["is_active"] = fields.pop("active")
        product = self._product(sku)
        if product is None:
            product = Product(sku=sku, **fields)
            services.product_save(by=self.by, product=product)
            self.products[key] = product
            return "create"
        before = snapshot(product)
        for name, value in fields.items():
            setattr(product, name, value)
        if snapshot(product) == before:
            # Still the person's rights: "unchanged" must not hide a refusal.
            if not policies.can_manage_catalogue(self.by):
                raise not_allowed()
            return "unchanged"
        services.product_save(by=self.by, product=product)
        return "update"

    def _product(self, sku: str) -> Product | None:
        key = sku.casefold()
        if key not in self.products:
            self.products[key] = Product.objects.filter(sku__iexact=sku).first()
        return self.products[key]

    # Contract prices ---------------------------------------------------------------------------

    def _contract_prices(self, values: dict[str, str], seen: dict[str, int], line: int) -> str:
        errors: list[str] = []
        contract = self._contract(values.get("contract_number", "").strip())
        if contract is None:
            # Also when the contract exists on an account the person does not see: never say so.
            errors.append(
                _("Contract: there is no contract %(number)s.")
                % {"number": values.get("contract_number", "")}
            )
        sku = values.get("sku", "").strip()
        product = self._product(sku) if sku else None
        if product is None:
            errors.append(_("Product: there is no product with the SKU %(sku)s.") % {"sku": sku})
        fields: dict[str, Any] = {}
        try:
            fields = _fields(
                values,
                ContractPrice,
                {"valid_from": parse_date, "valid_to": parse_date, "unit_price": parse_decimal},
            )
        except RowError as error:
            errors += error.messages
        if not values.get("valid_from", "").strip():
            errors.append(_("Valid from: this field cannot be blank."))
        valid_from, valid_to = fields.get("valid_from"), fields.get("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            # Said here: PostgreSQL refuses to even build such a period for the overlap check.
            errors.append(_("A price cannot stop being valid before it starts."))
        if errors or contract is None or product is None:
            raise RowError(errors)
        key = f"{contract.pk}:{product.pk}:{fields['valid_from'].isoformat()}"
        if key in seen:
            raise RowError(
                [_("This contract price is on line %(line)s already.") % {"line": seen[key]}]
            )
        seen[key] = line
        price = ContractPrice.objects.filter(
            contract=contract, product=product, valid_from=fields["valid_from"]
        ).first()
        if price is None:
            price = ContractPrice(contract=contract, product=product, **fields)
            services.contract_price_save(by=self.by, price=price)
            return "create"
        price.contract = contract  # the one already read, with its client
        before = snapshot(price)
        for name, value in fields.items():
            setattr(price, name, value)
        if snapshot(price) == before:
            if not policies.can_manage_contracts(self.by, contract.client):
                raise not_allowed()
            return "unchanged"
        services.contract_price_save(by=self.by, price=price)
        return "update"

    def _contract(self, number: str) -> Contract | None:
        if number not in self.contracts:
            self.contracts[number] = (
                Contract.objects.visible_to(self.by)
                .filter(number__iexact=number)
                .select_related("client")
                .first()
                if number
                else None
            )
        return self.contracts[number]


def _fields(values: dict[str, str], model: Any, parsers: dict[str, Any]) -> dict[str, Any]:
    """The row's non-empty cells as field values; every unreadable cell named in one error."""
    fields: dict[str, Any] = {}
    errors: list[str] = []
    for column, parse in parsers.items():
        text = values.get(column, "").strip()
        if not text:
            continue
        try:
            fields[column] = parse(text)
        except ValidationError as error:
            field_name = "is_active" if column == "active" else column
            errors += row_messages(ValidationError({field_name: error}), model)
    if errors:
        raise RowError(errors)
    return fields


def _guess_kind(header: list[str]) -> str:
    return CONTRACT_PRICES if "contract_number" in header else PRODUCTS


register(
    ImportGroup(
        name=GROUP,
        kinds=(PRODUCTS, CONTRACT_PRICES),  # products first: prices may name the new ones
        runner=OrdersRunner,
        guess_kind=_guess_kind,
        can_import=can_import,
        url_namespace="order_imports",
        title=gettext_lazy("Import the catalogue and contract prices"),
        sheets_help=gettext_lazy(
            "A CSV file holds one kind of row; an XLSX workbook may hold both in sheets named "
            "products and contract_prices (or prodotti and prezzi_contratto)."
        ),
        rules=(
            gettext_lazy(
                "Products by SKU: a new SKU is added to the catalogue, a known one is updated. "
                "Only administrators may import products."
            ),
            gettext_lazy(
                "Contract prices by contract number, SKU and valid from: a new period is added, "
                "a known one gets its price and end updated. The periods of one product on one "
                "contract may not overlap."
            ),
            gettext_lazy(
                "You can import prices only on the contracts you manage (as NAM or team lead); "
                "rows on other contracts are shown as errors and skipped."
            ),
            gettext_lazy(
                "Amounts as 1234.50 or 1.234,50; dates as 2026-01-31 or 31/01/2026; active as "
                "yes/no or 1/0. Kind and VAT nature as codes or as the labels shown in the "
                "application."
            ),
            gettext_lazy(
                "A row that matches updates what is there; importing the same file again "
                "creates no duplicates. Empty cells leave the current value as it is."
            ),
        ),
    ),
    [
        KindSpec(
            kind=PRODUCTS,
            label=gettext_lazy("Products"),
            row_label=gettext_lazy("Product"),
            columns=PRODUCT_COLUMNS,
            required=("sku",),
            model=Product,
            sheet_names=("products", "prodotti", "catalogue", "catalogo"),
            can_import=policies.can_manage_catalogue,
            refusal=gettext_lazy("Only administrators may import products."),
        ),
        KindSpec(
            kind=CONTRACT_PRICES,
            label=gettext_lazy("Contract prices"),
            row_label=gettext_lazy("Contract price"),
            columns=CONTRACT_PRICE_COLUMNS,
            required=("contract_number", "sku", "valid_from", "unit_price"),
            model=ContractPrice,
            sheet_names=("contract_prices", "prezzi_contratto", "prezzi_contrattuali"),
        ),
    ],
)
