"""Forms for the hub's credit rules and the crew's credit actions: they parse people's input
(amounts as decimals in the hub's currency) and leave every rule to the services."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from hubtab.accounts.models import CreditSettings, PaymentPolicy
from hubtab.accounts.services import EXTERNAL_METHODS, CreditAction
from hubtab.core.errors import DomainError
from hubtab.core.money import Unit, amount_from_decimal, minor_to_decimal


class AmountField(forms.DecimalField):
    """An amount as people type it, whatever the page's language: "12.50", "12,50", "1 234,50",
    "1,234.50", "-50". The last dot or comma followed by 1 to 4 digits is the decimal mark; other
    dots, commas and spaces group thousands. How many decimals the unit allows is checked later."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {}  # no number-input step/min: the phone keyboard comes from inputmode

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # django-stubs: IntegerField
        if isinstance(value, str):
            text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
            sign, digits = ("-", text[1:]) if text.startswith(("-", "\u2212")) else ("", text)
            marks = [i for i, char in enumerate(digits) if char in ".,"]
            if (
                marks
                and 1 <= len(digits) - marks[-1] - 1 <= 4
                and not (len(marks) > 1 and digits[marks[-1]] == digits[marks[-2]])
            ):
                whole, fraction = digits[: marks[-1]], digits[marks[-1] + 1 :]
                digits = whole.replace(".", "").replace(",", "") + "." + fraction
            else:
                digits = digits.replace(".", "").replace(",", "")
            value = sign + digits
        return super().to_python(value)


def _amount_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return AmountField(label=label, max_digits=16, decimal_places=4, **kwargs)


def _minor(form: forms.Form, name: str, unit: Unit) -> int | None:
    value = form.cleaned_data.get(name)
    if value is None:
        return None
    try:
        return amount_from_decimal(value, unit)
    except DomainError as exc:
        form.add_error(name, exc.message)
        return None


class CreditSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Customers have credit accounts at this hub"), required=False)
    payment_policy = forms.ChoiceField(label=_("How customers may pay"), choices=PaymentPolicy.choices)
    default_floor = _amount_field(
        _("Spending limit"),
        help_text=_("0 means no debt; -100 lets a customer owe up to 100. New customers get it; apply it below."),
    )
    low_balance = _amount_field(_("Running low below"))
    topup_min = _amount_field(_("Smallest top-up"), min_value=Decimal("0.01"))
    topup_max = _amount_field(_("Largest top-up"), min_value=Decimal("0.01"))
    topup_presets = forms.CharField(
        label=_("Preset top-up amounts"), required=False, help_text=_("Up to 6, separated by spaces, e.g. 10 20 50")
    )
    topup_bonus_percent = forms.DecimalField(
        label=_("Top-up bonus (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        localize=True,
        help_text=_("Given as granted credit on every top-up, e.g. 5 gives 1.00 on a 20.00 top-up."),
    )

    def __init__(self, *args: object, unit: Unit, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unit = unit

    @staticmethod
    def initial_from(settings: CreditSettings, unit: Unit) -> dict[str, object]:
        def money(minor: int) -> Decimal:
            return minor_to_decimal(minor, unit)

        return {
            "enabled": settings.enabled,
            "payment_policy": settings.payment_policy,
            "default_floor": money(settings.default_floor_minor),
            "low_balance": money(settings.low_balance_minor),
            "topup_min": money(settings.topup_min_minor),
            "topup_max": money(settings.topup_max_minor),
            "topup_presets": " ".join(str(money(m)) for m in settings.topup_presets_minor),
            "topup_bonus_percent": settings.topup_bonus_percent,
        }

    def clean_topup_presets(self) -> list[Decimal]:
        values = []
        for word in self.cleaned_data["topup_presets"].replace(";", " ").split():
            try:
                values.append(Decimal(word.replace(",", ".")))
            except InvalidOperation:
                raise forms.ValidationError(_("%(word)s is not an amount.") % {"word": word}) from None
        return values

    def for_service(self) -> dict[str, Any] | None:
        """The settings in minor units, or None when an amount has too many decimals (errors added)."""
        fields: dict[str, Any] = {
            "enabled": self.cleaned_data["enabled"],
            "payment_policy": self.cleaned_data["payment_policy"],
            "default_floor_minor": _minor(self, "default_floor", self.unit),
            "low_balance_minor": _minor(self, "low_balance", self.unit),
            "topup_min_minor": _minor(self, "topup_min", self.unit),
            "topup_max_minor": _minor(self, "topup_max", self.unit),
            "topup_bonus_percent": self.cleaned_data["topup_bonus_percent"],
        }
        presets = []
        for value in self.cleaned_data["topup_presets"]:
            try:
                presets.append(amount_from_decimal(value, self.unit))
            except DomainError as exc:
                self.add_error("topup_presets", exc.message)
        fields["topup_presets_minor"] = presets
        return None if self.errors else fields


ACTION_CHOICES = [
    (CreditAction.ADD_PAID, _("Add credit (paid, refundable)")),
    (CreditAction.ADD_GRANTED, _("Grant credit (a gift; may expire)")),
    (CreditAction.EXTERNAL_PAYMENT, _("Record a payment received (cash, transfer, point of sale)")),
    (CreditAction.REFUND, _("Refund to credit")),
    (CreditAction.REMOVE, _("Remove credit")),
]
METHOD_CHOICES = [("", "—"), *((code, _(label)) for code, label in EXTERNAL_METHODS.items())]


class CreditActionForm(forms.Form):
    action = forms.ChoiceField(label=_("What"), choices=ACTION_CHOICES, widget=forms.RadioSelect)
    amount = _amount_field(_("Amount"), min_value=Decimal("0.01"))
    method = forms.ChoiceField(
        label=_("Paid by"), choices=METHOD_CHOICES, required=False, help_text=_("For a payment received.")
    )
    expires_on = forms.DateField(
        label=_("Granted credit expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For granted credit; leave empty for credit that never expires."),
    )
    comment = forms.CharField(label=_("Why"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: object, unit: Unit, timezone: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unit = unit
        self.timezone = timezone
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4())  # one key per form shown: sending twice posts once

    def for_service(self) -> dict[str, Any] | None:
        amount_minor = _minor(self, "amount", self.unit)
        expires_on = self.cleaned_data.get("expires_on")
        expires_at = (
            datetime.combine(expires_on, time(23, 59, 59), tzinfo=ZoneInfo(self.timezone)) if expires_on else None
        )
        if self.errors:
            return None
        return {
            "action": self.cleaned_data["action"],
            "amount_minor": amount_minor,
            "method": self.cleaned_data.get("method", ""),
            "expires_at": expires_at,
            "comment": self.cleaned_data["comment"],
            "key": f"crew:{self.cleaned_data['key']}",
        }


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Why is it reversed?"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4())


BULK_ACTIONS = [
    (CreditAction.ADD_GRANTED, _("Grant credit (a gift; may expire)")),
    (CreditAction.ADD_PAID, _("Add credit (paid, refundable)")),
]


class BulkCreditForm(CreditActionForm):
    """The same credit for every customer in use, or every one with a tag."""

    tag = forms.ChoiceField(label=_("Customers"), required=False)

    def __init__(self, *args: Any, tags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action, tag = self.fields["action"], self.fields["tag"]
        assert isinstance(action, forms.ChoiceField) and isinstance(tag, forms.ChoiceField)
        action.choices = BULK_ACTIONS
        tag.choices = [("", _("All customers")), *((t, t) for t in tags)]
        del self.fields["method"]

    def for_service(self) -> dict[str, Any] | None:
        fields = super().for_service()
        if fields is not None:
            fields.pop("method", None)
        return fields


class AccountRulesForm(forms.Form):
    floor = _amount_field(_("Spending limit"), help_text=_("0 means no debt; -50 lets this customer owe up to 50."))
    payment_policy = forms.ChoiceField(
        label=_("How this customer may pay"),
        required=False,
        choices=[("", _("As the hub's settings say")), *PaymentPolicy.choices],
    )

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit

    def for_service(self) -> dict[str, Any] | None:
        floor_minor = _minor(self, "floor", self.unit)
        if self.errors:
            return None
        return {"floor_minor": floor_minor, "payment_policy": self.cleaned_data["payment_policy"]}
