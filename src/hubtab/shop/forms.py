"""Forms of the shop's pages: they parse what people type (amounts in the hub's way of writing
them, dates in the hub's time) and leave every rule to the services."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubtab.accounts.forms import amount_field, amount_minor_of
from hubtab.core.money import Unit
from hubtab.shop.models import FulfilmentKind, FulfilmentOption, OrderLine, PriceTier, rest_method_label

__all__ = ["amount_minor_of"]


class TierForm(forms.Form):
    name = forms.CharField(label=_("Tier"), max_length=40)
    credits = amount_field(_("Credit cost"))


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Product"), max_length=120)
    producer = forms.CharField(label=_("Producer"), max_length=120, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(label=_("For sale"), required=False, initial=True)


class VariantForm(forms.Form):
    """One way to buy a product. Its price is in the hub's currency or a credit tier."""

    variant_name = forms.CharField(
        label=_("Variant"),
        max_length=80,
        required=False,
        help_text=_("e.g. box of 6, 500 g; blank when there is only one"),
    )
    price = amount_field(_("Price"), required=False)
    tier = forms.TypedChoiceField(label=_("Or a credit tier"), required=False, coerce=int, empty_value=None)
    by_weight = forms.BooleanField(label=_("Sold by weight: the price is per kg"), required=False)
    estimated_grams = forms.IntegerField(
        label=_("One item weighs about (g)"), required=False, min_value=1, max_value=100_000
    )
    stock = forms.IntegerField(
        label=_("Stock"), required=False, min_value=0, max_value=1_000_000, help_text=_("Blank: not counted")
    )
    variant_active = forms.BooleanField(label=_("Variant for sale"), required=False, initial=True)
    stock_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)  # what the page showed

    def __init__(self, *args: Any, tiers: list[PriceTier], currency: Unit, credit_unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency, self.credit_unit = currency, credit_unit
        self.fields["price"].label = _("Price (%(currency)s)") % {"currency": currency.code}
        self.fields["tier"].choices = [("", _("No tier: priced in %(c)s") % {"c": currency.code})] + [  # type: ignore[attr-defined]
            (tier.id, tier.name) for tier in tiers
        ]

    def for_service(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        price_minor = amount_minor_of(self, "price", self.currency)
        if self.errors:
            return None
        return {
            "name": data["variant_name"],
            "price_minor": price_minor if data.get("tier") is None else None,
            "tier_id": data.get("tier"),
            "by_weight": data["by_weight"],
            "estimated_grams": data.get("estimated_grams"),
            "stock": data.get("stock"),
            "active": data["variant_active"],
            "stock_seen": data.get("stock_seen"),
        }


class CycleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    opens_at = forms.DateTimeField(
        label=_("Opens"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    closes_at = forms.DateTimeField(
        label=_("Closes"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )

    def __init__(self, *args: Any, hub_timezone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(hub_timezone)

    def in_hub_time(self, name: str) -> datetime:
        """The date as typed, read in the hub's timezone."""
        value: datetime = self.cleaned_data[name]
        return value.replace(tzinfo=self.zone) if timezone.is_naive(value) else value.astimezone(self.zone)


class FulfilmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FulfilmentKind.choices)
    name = forms.CharField(label=_("Where or how"), max_length=120)
    fee = amount_field(_("Fee"), required=False)


class CheckoutForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    option = forms.TypedChoiceField(
        label=_("Pickup or delivery"), coerce=int, required=False, empty_value=None, widget=forms.RadioSelect
    )
    rest_method = forms.ChoiceField(label=_("Pay the rest"), required=False, widget=forms.RadioSelect)

    def __init__(
        self, *args: Any, options: list[tuple[FulfilmentOption, str]], rest_methods: list[str],
        fulfilment_kind: str = "", **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [(option.id, label) for option, label in options]  # type: ignore[attr-defined]
        if len(options) == 1 and not self.is_bound:
            self.fields["option"].initial = options[0][0].id
        self.fields["rest_method"].choices = [  # type: ignore[attr-defined]
            (method, rest_method_label(method, fulfilment_kind)) for method in rest_methods
        ]
        if len(rest_methods) == 1 and not self.is_bound:
            self.fields["rest_method"].initial = rest_methods[0]


class PackForm(forms.Form):
    """What crew packed: per line, how many (fewer when short) and, by weight, the grams weighed."""

    def __init__(self, *args: Any, lines: list[OrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"quantity_{line.id}"] = forms.IntegerField(
                label=_("Packed"),
                min_value=0,
                max_value=line.quantity,
                required=False,
                initial=line.quantity if line.packed_quantity is None else line.packed_quantity,
            )
            if line.by_weight:
                self.fields[f"grams_{line.id}"] = forms.IntegerField(
                    label=_("Weight (g)"),
                    min_value=0,
                    max_value=1_000_000,
                    required=False,
                    initial=line.packed_grams,
                )

    def packed(self) -> dict[int, tuple[int | None, int | None]]:
        return {
            line.id: (self.cleaned_data.get(f"quantity_{line.id}"), self.cleaned_data.get(f"grams_{line.id}"))
            for line in self.lines
        }


class CompleteForm(forms.Form):
    collected = amount_field(_("Paid at pickup"), required=False)
    charge_estimate = forms.BooleanField(label=_("Charge the estimated weight for items not weighed"), required=False)


class ExtraForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    name = forms.CharField(label=_("Extra"), max_length=200)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999, initial=1)
    unit_price = amount_field(_("Price each"))


class RefundForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    amount = amount_field(_("Amount"))
    to = forms.ChoiceField(
        label=_("Refund to"),
        choices=[("credit", _("Credit")), ("card", _("The card"))],
        widget=forms.RadioSelect,
        initial="credit",
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)


def fresh_key() -> str:
    return str(uuid.uuid4())
