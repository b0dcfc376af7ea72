"""Forms for paying in: the customer's top-up choice and the owner's Stripe keys."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hubtab.accounts.forms import AmountField, amount_minor_of
from hubtab.core.money import Unit
from hubtab.payments.models import AutoTopUpKind, AutoTopUpPeriod


class TopUpForm(forms.Form):
    """A preset amount, a bundle, or another amount (in the hub's unit), and whether to keep the card."""

    choice = forms.ChoiceField(label=_("How much?"), widget=forms.RadioSelect)
    other = AmountField(label=_("Another amount"), required=False, max_digits=16, decimal_places=4, localize=True)
    save_card = forms.BooleanField(
        label=_("Keep this card for my next top-ups"),
        required=False,
        help_text=_(
            "Only the card's brand, last 4 digits and expiry are kept here; the card itself stays with Stripe."
        ),
    )

    def __init__(self, *args: Any, unit: Unit, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        field = self.fields["choice"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [*choices, ("other", _("Another amount"))]
        self.fields["other"].label = _("Another amount (%(unit)s)") % {"unit": unit.name}

    def for_service(self) -> dict[str, Any] | None:
        """{"price_minor"} for a bundle, {"credits_minor"} for an amount of credit; None on errors."""
        choice = self.cleaned_data["choice"]
        fields: dict[str, Any] = {"save_card": self.cleaned_data["save_card"]}
        if choice.startswith("bundle:"):
            fields["price_minor"] = int(choice.split(":", 1)[1])
        elif choice.startswith("amount:"):
            fields["credits_minor"] = int(choice.split(":", 1)[1])
        elif self.cleaned_data.get("other") is None:
            self.add_error("other", _("Enter the amount."))
        else:
            fields["credits_minor"] = amount_minor_of(self, "other", self.unit)
        return None if self.errors else fields


class GatewayForm(forms.Form):
    publishable_key = forms.CharField(label=_("Publishable key"), max_length=200, help_text=_("Starts with pk_"))
    secret_key = forms.CharField(
        label=_("Secret key"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Starts with sk_. Leave empty to keep the saved one."),
    )
    webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Starts with whsec_. Leave empty to keep the saved one."),
    )


class RefundForm(forms.Form):
    amount = AmountField(label=_("Amount to refund"), max_digits=16, decimal_places=4, localize=True)
    reason = forms.CharField(label=_("Why"), max_length=500)
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4())

    def for_service(self) -> dict[str, Any] | None:
        amount_minor = amount_minor_of(self, "amount", self.currency)
        if self.errors:
            return None
        return {
            "amount_minor": amount_minor,
            "reason": self.cleaned_data["reason"],
            "key": f"crew:{self.cleaned_data['key']}",
        }


class AutoTopUpForm(forms.Form):
    active = forms.BooleanField(label=_("Top up automatically"), required=False)
    card = forms.TypedChoiceField(label=_("From the card"), coerce=int)
    kind = forms.ChoiceField(label=_("When"), choices=AutoTopUpKind.choices, widget=forms.RadioSelect)
    threshold = AmountField(label=_("When my balance is below"), required=False, max_digits=16, decimal_places=4,
                            localize=True)  # fmt: skip
    target = AmountField(label=_("Top up to"), required=False, max_digits=16, decimal_places=4, localize=True,
                         help_text=_("Or leave empty and give the amount below."))  # fmt: skip
    amount = AmountField(label=_("Amount"), required=False, max_digits=16, decimal_places=4, localize=True)
    period = forms.ChoiceField(label=_("How often"), choices=AutoTopUpPeriod.choices, required=False)

    def __init__(self, *args: Any, unit: Unit, cards: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        card = self.fields["card"]
        assert isinstance(card, forms.ChoiceField)
        card.choices = cards

    def for_service(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        fields: dict[str, Any] = {"card_id": data["card"], "kind": data["kind"], "active": data["active"],
                                  "period": data.get("period") or ""}  # fmt: skip
        for name in ("threshold", "target", "amount"):
            fields[f"{name}_minor"] = amount_minor_of(self, name, self.unit) if data.get(name) is not None else None
        return None if self.errors else fields
