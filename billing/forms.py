"""HTML forms for invoices: parse and validate input, nothing more.

Numbers, totals, statuses and permissions are the services' job (billing/services.py). Every
form that edits a draft carries the version the person started from (optimistic locking): a
stale version becomes the services' concurrent-edit message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, InvoiceLine, Payment
from clients.forms import DateInput
from clients.models import Client
from orders.models import Contract, Product


class InvoiceForm(forms.ModelForm):
    """The header of a draft: billed client, contract, dates, currency, notes."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Invoice
        fields = ["client", "contract", "issue_date", "due_date", "currency", "notes"]
        widgets = {
            "issue_date": DateInput,
            "due_date": DateInput,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "issue_date": _("Empty: the day it is issued."),
            "due_date": _("Empty: the issue date plus the contract's payment terms."),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        self.fields["client"].queryset = Client.objects.visible_to(user).order_by("name")
        self.fields["contract"].queryset = (
            Contract.objects.visible_to(user).select_related("client").order_by("number")
        )


class InvoiceLineForm(forms.ModelForm):
    """A line of a draft. A product is named by SKU; its VAT rate is the default."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    sku = forms.CharField(label=_("Product (SKU)"), required=False, max_length=64)

    class Meta:
        model = InvoiceLine
        fields = ["description", "quantity", "unit_price", "discount", "vat_rate", "vat_nature"]

    def __init__(self, *args: Any, line: InvoiceLine, **kwargs: Any) -> None:
        super().__init__(*args, instance=line, **kwargs)
        self.line = line
        self.fields["version"].initial = line.invoice.version
        self.fields["description"].required = False
        self.fields["vat_rate"].required = False
        self.fields["discount"].required = False
        self.order_fields(["sku", "description", "quantity", "unit_price", "discount", "vat_rate",
                           "vat_nature", "version"])  # fmt: skip

    def clean_sku(self) -> Product | None:
        sku = self.cleaned_data["sku"].strip()
        if not sku:
            return None
        product = Product.objects.filter(sku__iexact=sku, is_active=True).first()
        if product is None:
            raise forms.ValidationError(_("No active product has SKU %(sku)s.") % {"sku": sku})
        return product

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        product = data.get("sku")
        if not data.get("description") and product is None and "sku" not in self.errors:
            self.add_error("description", _("Describe the line or give a product."))
        if data.get("discount") is None:
            data["discount"] = Decimal("0")
        if data.get("vat_rate") is None and product is None and "sku" not in self.errors:
            self.add_error("vat_rate", _("Give the VAT rate of the line."))
        return data

    def _post_clean(self) -> None:
        # The model's checks run in the service (full_clean there), once the product's VAT
        # rate and description are filled in.
        pass

    def apply(self) -> InvoiceLine:
        data = self.cleaned_data
        line = self.line
        line.product = data.get("sku")
        line.description = data.get("description") or ""
        line.quantity = data["quantity"]
        line.unit_price = data["unit_price"]
        line.discount = data["discount"]
        line.vat_rate = data.get("vat_rate")
        line.vat_nature = data.get("vat_nature") or ""
        if line.product is not None and line.vat_rate is None:
            line.vat_nature = ""
        return line


class OverrideForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the override"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the finding and shown to everyone who sees the invoice."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for overriding this finding."))
        return reason


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


class IssueForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    issue_date = forms.DateField(label=_("Issue date"), required=False, widget=DateInput)


class PaymentForm(forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["amount", "paid_on", "method", "reference"]
        widgets = {"paid_on": DateInput}


class CreditNoteForm(forms.Form):
    """Which lines of the issued invoice to credit, how many and at what price (empty: all of
    the line at its price)."""

    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, lines: list[InvoiceLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"credit_{line.pk}"] = forms.BooleanField(
                label=line.description, required=False, initial=True
            )
            self.fields[f"quantity_{line.pk}"] = forms.DecimalField(
                label=_("Quantity"), required=False, min_value=Decimal("0.001"),
                max_value=line.quantity, initial=line.quantity,
            )  # fmt: skip
            self.fields[f"unit_price_{line.pk}"] = forms.DecimalField(
                label=_("Unit price"), required=False, min_value=Decimal("0.01"),
                max_value=line.unit_price, initial=line.unit_price, decimal_places=2,
            )  # fmt: skip

    def rows(self) -> list[tuple[InvoiceLine, Any, Any, Any]]:
        return [
            (line, self[f"credit_{line.pk}"], self[f"quantity_{line.pk}"],
             self[f"unit_price_{line.pk}"])
            for line in self.lines
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(data.get(f"credit_{line.pk}") for line in self.lines):
            raise forms.ValidationError(_("Choose at least one line to credit."))
        return data

    def chosen(self) -> list[tuple[InvoiceLine, Decimal | None, Decimal | None]]:
        data = self.cleaned_data
        return [
            (line, data.get(f"quantity_{line.pk}"), data.get(f"unit_price_{line.pk}"))
            for line in self.lines
            if data.get(f"credit_{line.pk}")
        ]
