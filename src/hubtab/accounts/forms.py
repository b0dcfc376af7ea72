"""Forms for the hub's credit rules and the crew's credit actions: they parse people's input
(amounts as decimals in the hub's currency) and leave every rule to the services."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from django import forms
from django.utils.formats import localize_input
from django.utils.translation import gettext_lazy as _

from hubtab.accounts.models import CreditSettings, PaymentPolicy
from hubtab.accounts.services import EXTERNAL_METHODS, CreditAction
from hubtab.core.errors import DomainError
from hubtab.core.money import (
    Unit,
    amount_from_decimal,
    amount_parse,
    currency_unit,
    minor_to_decimal,
    money_format,
    reader_locale,
)


class AmountField(forms.DecimalField):
    """An amount as the person typing writes it in their language ("1,234.50" in English,
    "1 234,50" in French), read strictly (`core.money.amount_parse`): anything that could be read
    two ways is refused with an example. No amount field takes more than a million; how many
    decimals the unit allows is checked later."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    LARGEST = Decimal(1_000_000)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {}  # no number-input step/min: the phone keyboard comes from inputmode

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # django-stubs: IntegerField
        if value in self.empty_values:
            return None
        locale = reader_locale()
        if isinstance(value, Decimal):
            amount = value
        else:
            try:
                amount = amount_parse(str(value), locale)
            except DomainError as exc:
                raise forms.ValidationError(exc.message, code="invalid") from None
        if abs(amount) > self.LARGEST:
            raise forms.ValidationError(
                _("Amounts above %(largest)s are not taken here.")
                % {"largest": format_decimal(self.LARGEST, locale=locale)},
                code="max_value",
            )
        return amount


def amount_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    # localize: shown as the reader writes numbers ("-20,00" in French); typed either way.
    return AmountField(label=label, max_digits=16, decimal_places=4, localize=True, **kwargs)


def amount_minor_of(form: forms.Form, name: str, unit: Unit) -> int | None:
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
    default_floor = amount_field(
        _("Spending limit"),
        help_text=_("0 means no debt; -100 lets a customer owe up to 100. New customers get it; apply it below."),
    )
    low_balance = amount_field(_("Running low below"))
    topup_min = amount_field(_("Smallest top-up"), min_value=Decimal("0.01"))
    topup_max = amount_field(_("Largest top-up"), min_value=Decimal("0.01"))
    topup_presets = forms.CharField(
        label=_("Preset top-up amounts"), required=False, help_text=_("Up to 6, separated by spaces, e.g. 10 20 50")
    )
    card_backed_floor = forms.BooleanField(
        label=_("Debt needs a valid saved card"),
        required=False,
        help_text=_(
            "When a customer's saved card expires, their spending limit drops to 0 until they save a new card and "
            "their balance is back at 0 or above."
        ),
    )
    bank_transfer_details = forms.CharField(
        label=_("Bank transfer details"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Account holder, IBAN and BIC, shown to customers who top up by transfer. Empty: not offered."),
    )
    morning_hour = forms.TypedChoiceField(
        label=_("Scheduled payments run at"),
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Each day, in the hub's time: automatic top-ups (and billing) are charged from then on."),
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
            "topup_presets": " ".join(localize_input(money(m)) for m in settings.topup_presets_minor),
            "topup_bonus_percent": settings.topup_bonus_percent,
            "card_backed_floor": settings.card_backed_floor,
            "bank_transfer_details": settings.bank_transfer_details,
            "morning_hour": settings.morning_hour,
        }

    def clean_topup_presets(self) -> list[Decimal]:
        values = []
        for word in self.cleaned_data["topup_presets"].replace(";", " ").split():
            try:
                values.append(amount_parse(word, reader_locale()))
            except DomainError as exc:
                raise forms.ValidationError(
                    _("%(word)s is not an amount. %(how)s") % {"word": word, "how": exc.message}
                ) from None
        return values

    def for_service(self) -> dict[str, Any] | None:
        """The settings in minor units, or None when an amount has too many decimals (errors added)."""
        fields: dict[str, Any] = {
            "enabled": self.cleaned_data["enabled"],
            "payment_policy": self.cleaned_data["payment_policy"],
            "default_floor_minor": amount_minor_of(self, "default_floor", self.unit),
            "low_balance_minor": amount_minor_of(self, "low_balance", self.unit),
            "topup_min_minor": amount_minor_of(self, "topup_min", self.unit),
            "topup_max_minor": amount_minor_of(self, "topup_max", self.unit),
            "topup_bonus_percent": self.cleaned_data["topup_bonus_percent"],
            "card_backed_floor": self.cleaned_data["card_backed_floor"],
            "bank_transfer_details": self.cleaned_data["bank_transfer_details"].strip(),
        }
        if self.cleaned_data.get("morning_hour") is not None:  # left out of the form: unchanged
            fields["morning_hour"] = self.cleaned_data["morning_hour"]
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
    amount = amount_field(_("Amount"), min_value=Decimal("0.01"))
    method = forms.ChoiceField(
        label=_("Paid by"), choices=METHOD_CHOICES, required=False, help_text=_("For a payment received.")
    )
    expires_on = forms.DateField(
        label=_("Granted credit expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For granted credit; leave empty for credit that never expires."),
    )
    comment = forms.CharField(
        label=_("Why"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown to the customer in their history and statements."),
    )  # fmt: skip
    # Shown only when the amount is above the hub's usual range: typed "1,500" meaning 15,00?
    confirm_large = forms.BooleanField(label=_("Yes, this amount is right"), required=False, widget=forms.HiddenInput)
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self, *args: object, unit: Unit, timezone: str, money_unit: Unit | None = None,
        usual_largest: tuple[int, int] | None = None, **kwargs: object,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unit = unit
        self.usual_largest = usual_largest  # (in money, in credit units)
        # A payment received is money: in a hub counting in named credits, it is typed in the
        # hub's currency and buys credit at the hub's price.
        self.money_unit = money_unit or unit
        self.timezone = timezone
        if self.money_unit != unit:
            self.fields["amount"].help_text = _(
                "In %(unit)s; for a payment received, the money paid in %(currency)s, which buys %(unit)s "
                "at the hub's price."
            ) % {"unit": unit.name, "currency": self.money_unit.code}
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4())  # one key per form shown: sending twice posts once

    def for_service(self) -> dict[str, Any] | None:
        paid = self.cleaned_data.get("action") == CreditAction.EXTERNAL_PAYMENT
        amount_minor = amount_minor_of(self, "amount", self.money_unit if paid else self.unit)
        expires_on = self.cleaned_data.get("expires_on")
        expires_at = (
            datetime.combine(expires_on, time(23, 59, 59), tzinfo=ZoneInfo(self.timezone)) if expires_on else None
        )
        if amount_minor is not None and not self.errors:
            self._large_amount_check(amount_minor, paid)
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

    def _large_amount_check(self, amount_minor: int, paid: bool) -> None:
        """An amount above the hub's largest top-up is posted only once crew confirm it."""
        if self.usual_largest is None or self.cleaned_data.get("confirm_large"):
            return
        largest_minor = self.usual_largest[0] if paid else self.usual_largest[1]
        if amount_minor <= largest_minor:
            return
        unit = self.money_unit if paid else self.unit
        self.fields["confirm_large"].widget = forms.CheckboxInput()
        self.add_error(
            "amount",
            _("%(amount)s is more than this hub's largest top-up (%(largest)s). Check the amount, then tick "
              "“Yes, this amount is right” to post it.")
            % {"amount": money_format(amount_minor, unit, reader_locale()), "largest": money_format(largest_minor, unit,
                                                                                                reader_locale())},
        )  # fmt: skip


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
    floor = amount_field(_("Spending limit"), help_text=_("0 means no debt; -50 lets this customer owe up to 50."))
    payment_policy = forms.ChoiceField(
        label=_("How this customer may pay"),
        required=False,
        choices=[("", _("As the hub's settings say")), *PaymentPolicy.choices],
    )

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit

    def for_service(self) -> dict[str, Any] | None:
        floor_minor = amount_minor_of(self, "floor", self.unit)
        if self.errors:
            return None
        return {"floor_minor": floor_minor, "payment_policy": self.cleaned_data["payment_policy"]}


class CreditUnitForm(forms.Form):
    """Whether the hub counts credit in its currency or in named credits, and which."""

    prefix = "unit"  # the settings page shows several forms with fields of the same name

    named = forms.TypedChoiceField(
        label=_("Customers' credit counts in"),
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        choices=[("no", _("The hub's currency")), ("yes", _("Named credits, e.g. tokens"))],  # set per hub below
    )
    code = forms.CharField(
        label=_("Code"), required=False, max_length=12, help_text=_("3 to 12 capital letters, e.g. TOKEN")
    )
    name = forms.CharField(
        label=_("Name"), required=False, max_length=60, help_text=_("As customers read it, e.g. tokens")
    )
    decimals = forms.TypedChoiceField(
        label=_("Decimals"), coerce=int, choices=[(n, str(n)) for n in range(5)], initial=2,
        help_text=_("2 allows 12.50 tokens; 0 counts whole tokens."),
    )  # fmt: skip

    def __init__(self, *args: Any, currency: str, locked: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        named = self.fields["named"]
        assert isinstance(named, forms.ChoiceField)
        named.choices = [
            ("no", _("The hub's currency (%(currency)s)") % {"currency": currency}),
            ("yes", _("Named credits, e.g. tokens")),
        ]
        if locked:  # credit has moved: only the name of the unit may change
            for name in ("named", "code", "decimals"):
                self.fields[name].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("named") and not (data.get("code") and data.get("name")):
            raise forms.ValidationError(_("Named credits need a code and a name."))
        return data

    def for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        if not data["named"]:
            return {"code": ""}
        return {"code": data["code"], "name": data["name"], "decimals": data["decimals"]}


class UnitPriceForm(forms.Form):
    """ "10 tokens for 1.00 GBP": the price of the hub's named credits in one currency."""

    prefix = "price"

    credits = amount_field(_("Credits"), min_value=Decimal("0.0001"))
    currency = forms.CharField(label=_("Currency"), max_length=3, help_text=_("e.g. EUR"))
    price = amount_field(_("Price"), min_value=Decimal("0.0001"))

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        try:
            currency_unit(code)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return code

    def for_service(self) -> dict[str, Any] | None:
        credits_minor = amount_minor_of(self, "credits", self.unit)
        currency = self.cleaned_data.get("currency")
        price_minor = amount_minor_of(self, "price", currency_unit(currency)) if currency else None
        if self.errors:
            return None
        return {"currency": currency, "credits_minor": credits_minor, "price_minor": price_minor}


class BundleForm(UnitPriceForm):
    """ "Pay 20.00, get 22.00" (or 220 tokens): a top-up offer whose extra is granted credit."""

    prefix = "bundle"
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("e.g. Family pack"))
    field_order = ["name", "price", "currency", "credits"]

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, unit=unit, **kwargs)
        self.fields["price"].label = _("Customer pays")
        self.fields["credits"].label = _("Customer gets (%(unit)s)") % {"unit": unit.name}

    def for_service(self) -> dict[str, Any] | None:
        fields = super().for_service()
        if fields is not None:
            fields["name"] = self.cleaned_data["name"]
        return fields
