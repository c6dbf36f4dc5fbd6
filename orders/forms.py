"""HTML forms for contracts, orders and opportunities: parse and validate input, nothing more.

Each form is bound to an instance that already carries its client (or order, or contract), so
the model's own validation runs with the right context. Prices, contract checks and permissions
are the services' job (orders/services.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clients.forms import DateInput
from orders.models import Contract, ContractPrice, Opportunity, Order, OrderLine, Product


class VersionedForm(forms.ModelForm):
    # Optimistic locking: the version the person started from goes back to the service.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class ContractForm(VersionedForm):
    class Meta:
        model = Contract
        fields = [
            "number",
            "status",
            "starts_on",
            "ends_on",
            "auto_renew",
            "renewal_notice_days",
            "payment_terms_days",
            "default_discount",
            "billing_cap",
            "annual_commitment",
            "currency",
            "applies_to_subsidiaries",
            "terms",
        ]
        widgets = {
            "starts_on": DateInput,
            "ends_on": DateInput,
            "terms": forms.Textarea(attrs={"rows": 4}),
        }


class ContractPriceForm(forms.ModelForm):
    class Meta:
        model = ContractPrice
        fields = ["product", "unit_price", "valid_from", "valid_to"]
        widgets = {"valid_from": DateInput, "valid_to": DateInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True)


class OrderForm(VersionedForm):
    """The header of a draft order; the client is fixed by the page it is opened from."""

    class Meta:
        model = Order
        fields = ["contract", "kind", "order_date", "requested_delivery", "client_po", "notes"]
        widgets = {
            "order_date": DateInput,
            "requested_delivery": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The client's own active contracts and those of any group that extend to subsidiaries;
        # whether one really applies to this client on this day is contract_check's answer.
        client = self.instance.client
        self.fields["contract"].queryset = Contract.objects.filter(
            Q(client=client) | Q(applies_to_subsidiaries=True, client__in=_ancestors(client)),
            status=Contract.Status.ACTIVE,
        ).order_by("-starts_on")
        self.fields["contract"].help_text = _("Leave empty to order at list prices.")


def _ancestors(client: Any) -> list[int]:
    ids, parent = [], client.parent
    while parent is not None and parent.pk not in ids:
        ids.append(parent.pk)
        parent = parent.parent
    return ids


class ProductField(forms.CharField):
    """A product typed by SKU (exactly) or by name (when only one active product matches)."""

    def clean(self, value: Any) -> Product:
        text = super().clean(value).strip()
        products = Product.objects.filter(is_active=True)
        by_sku = products.filter(sku__iexact=text).first()
        if by_sku is not None:
            return by_sku
        matches = list(products.filter(Q(name__icontains=text) | Q(sku__icontains=text))[:2])
        if not matches:
            raise forms.ValidationError(
                _("No active product has the SKU or name “%(text)s”."), params={"text": text}
            )
        if len(matches) > 1:
            raise forms.ValidationError(
                _("Several products match “%(text)s”: type the SKU."), params={"text": text}
            )
        return matches[0]


def _picker_attrs(order: Order) -> dict[str, str]:
    """While a SKU or name is typed, htmx fills the <datalist> with matching, priced products."""
    return {
        "autocomplete": "off",
        "list": "product-options",
        "autofocus": "autofocus",
        "hx-get": f"{reverse('orders:product_list')}?order={order.pk}",
        "hx-trigger": "input changed delay:250ms",
        "hx-target": "#product-options",
        "hx-swap": "outerHTML",
        "hx-sync": "this:replace",
    }


class OrderLineForm(forms.Form):
    """Add a line (product by SKU or name) or change one. An empty price means the default
    price (contract, else list less the contract discount); a typed price is manual and, when
    it differs from the contract price, needs a reason (order_line_save checks)."""

    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal("0.001"), decimal_places=3)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        min_value=0,
        decimal_places=2,
        help_text=_("Leave empty for the contract price."),
    )
    price_reason = forms.CharField(label=_("Reason for the price"), required=False, max_length=250)
    description = forms.CharField(label=_("Description"), required=False, max_length=250)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, line: OrderLine, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.fields["version"].initial = line.order.version
        if line.pk is None:
            self.fields = {
                "product": ProductField(
                    label=_("SKU or name"),
                    widget=forms.TextInput(attrs=_picker_attrs(line.order)),
                ),
                **self.fields,
            }
            self.initial.setdefault("quantity", 1)
        else:
            self.initial |= {
                "quantity": line.quantity,
                "description": line.description,
                "price_reason": line.price_reason,
                # A line at the default price stays at it unless a price is typed.
                "unit_price": line.unit_price if line.price_reason else None,
            }

    @property
    def manual_price(self) -> bool:
        return self.cleaned_data.get("unit_price") is not None

    def apply(self) -> OrderLine:
        """The line with what was typed; price and provenance are left to order_line_save."""
        line, data = self.line, self.cleaned_data
        if "product" in data:
            line.product = data["product"]
        line.quantity = data["quantity"]
        line.description = data["description"]
        if self.manual_price:
            line.unit_price = data["unit_price"]
            line.price_reason = data["price_reason"]
        return line


class DeliveryForm(forms.Form):
    delivered_quantity = forms.DecimalField(
        label=_("Delivered"), min_value=Decimal("0"), decimal_places=3
    )


class OpportunityForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = ["title", "stage", "value", "currency", "probability", "expected_close",
                  "products"]  # fmt: skip
        widgets = {"expected_close": DateInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = Product.objects.filter(is_active=True)
        # Won is reached through "Mark as won", which also makes the draft order.
        self.fields["stage"].choices = [
            choice for choice in self.fields["stage"].choices if choice[0] != "won"
        ] + ([("won", Opportunity.Stage.WON.label)] if self.instance.stage == "won" else [])


class SuggestionForm(forms.Form):
    """A suggestion on the client page turned into an opportunity: a reorder due names its
    product, a whitespace suggestion its product family. Whether it is still suggested is the
    view's question (it asks the selectors)."""

    source = forms.ChoiceField(
        choices=[
            (Opportunity.Source.REORDER_DUE, Opportunity.Source.REORDER_DUE.label),
            (Opportunity.Source.WHITESPACE, Opportunity.Source.WHITESPACE.label),
        ]
    )
    product = forms.ModelChoiceField(queryset=Product.objects.all(), required=False)
    family = forms.CharField(max_length=100, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        source = data.get("source")
        if source == Opportunity.Source.REORDER_DUE and not data.get("product"):
            raise forms.ValidationError(_("Choose the product to reorder."))
        if source == Opportunity.Source.WHITESPACE and not data.get("family"):
            raise forms.ValidationError(_("Choose the product family to propose."))
        return data


class ProductForm(forms.ModelForm):
    """A catalogue entry. A product is retired with `is_active`, never deleted: order lines and
    contract prices keep it."""

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "family",
            "kind",
            "unit",
            "list_price",
            "currency",
            "vat_rate",
            "vat_nature",
            "is_active",
        ]
