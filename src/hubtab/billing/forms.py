"""Forms of the billing pages: they read what crew type (amounts in their language, days, whole
numbers of days) into clear field errors, and leave every rule to the services."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.formats import localize_input
from django.utils.translation import gettext_lazy as _

from hubtab.accounts.forms import amount_field, amount_minor_of
from hubtab.billing.billing_settings import (
    NOTICE_DAYS_MAX,
    OVERDUE_DAYS_MAX,
    RETRIES_MAX,
    RETRY_DAY_MAX,
    gateway_minimum_minor,
)
from hubtab.billing.debtors import DebtorFilter
from hubtab.billing.models import OPEN_STATUSES, BillingSettings, ScheduledPaymentStatus
from hubtab.billing.overdue import NOTE_MAX
from hubtab.billing.selectors import ScheduledFilter
from hubtab.core.money import Unit, minor_to_decimal, money_format, reader_locale
from hubtab.crm.cycles import CycleChoice

OPEN = "open"  # the status filter's "still to be paid" (scheduled, processing, will retry)
SMALLEST_CHARGE_TIMES = 100  # a smallest charge above 100 times the gateway's is surely a typing slip


def field_errors(form: forms.Form, name: str) -> str:
    """A field's errors as one line, for a page that answers with a message."""
    return " ".join(str(error) for error in form.errors.get(name, []))


def _day_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DebtorFilterForm(forms.Form):
    """The Customer Billing page's filter, read from the address. Amounts owed are in the hub's credit."""

    tag = forms.ChoiceField(label=_("Tag"), required=False)
    cycle = forms.TypedChoiceField(label=_("Ordered in"), required=False, coerce=int, empty_value=None)
    owed_min = amount_field(_("Owes at least"), required=False, min_value=Decimal(0))
    owed_max = amount_field(_("Owes at most"), required=False, min_value=Decimal(0))

    def __init__(self, *args: Any, unit: Unit, tags: list[str], cycles: list[CycleChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.fields["tag"].choices = [("", _("Any tag")), *[(name, name) for name in tags]]  # type: ignore[attr-defined]
        self.fields["cycle"].choices = [("", _("Any order cycle")), *[(c.id, c.name) for c in cycles]]  # type: ignore[attr-defined]

    def filters(self) -> DebtorFilter:
        """The filter typed, or no filter where it could not be read (the errors are shown)."""
        if not self.is_valid():
            return DebtorFilter()
        owed_min = amount_minor_of(self, "owed_min", self.unit)
        owed_max = amount_minor_of(self, "owed_max", self.unit)
        if owed_min is not None and owed_max is not None and owed_min > owed_max:
            self.add_error("owed_max", _("Make “at most” no less than “at least”."))
        if self.errors:
            return DebtorFilter()
        return DebtorFilter(tag=self.cleaned_data["tag"], cycle_id=self.cleaned_data["cycle"], owed_min_minor=owed_min,
                            owed_max_minor=owed_max)  # fmt: skip


class DayForm(forms.Form):
    """A day to charge on (the service refuses days before the customer can be told)."""

    run_on = forms.DateField(
        label=_("Charge on"), widget=_day_input(),
        error_messages={"required": _("Choose the day."), "invalid": _("Choose a day.")},
    )  # fmt: skip


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it cancelled?"), max_length=300,
        error_messages={"required": _("Say why the payment is cancelled."),
                        "max_length": _("Keep the reason under 300 characters.")},
    )  # fmt: skip


class ScheduledFilterForm(forms.Form):
    """The Scheduled Payments page's filter: a status (or all still to be paid) and a range of days."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=_day_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=_day_input())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (OPEN, _("To be paid")),
            ("all", _("All")),
            *ScheduledPaymentStatus.choices,
        ]

    def filters(self) -> ScheduledFilter:
        """The filter typed; those still to be paid where nothing (or nothing readable) was."""
        still_open = tuple(str(status) for status in OPEN_STATUSES)
        if not self.is_bound or not self.is_valid():
            return ScheduledFilter(statuses=still_open)
        status = self.cleaned_data["status"] or OPEN
        statuses: tuple[str, ...]
        if status == OPEN:
            statuses = still_open
        elif status == "all":
            statuses = ()
        else:
            statuses = (status,)
        date_from, date_to = self.cleaned_data["date_from"], self.cleaned_data["date_to"]
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("Make “to” no earlier than “from”."))
            date_to = None
        return ScheduledFilter(statuses=statuses, date_from=date_from, date_to=date_to)


class RecordPaymentForm(forms.Form):
    """Money an overdue customer paid by hand, in the hub's currency."""

    amount = amount_field(_("Amount paid"), min_value=Decimal("0.01"))
    method = forms.ChoiceField(
        label=_("Paid by"), choices=[("cash", _("Cash")), ("bank_transfer", _("Bank transfer"))],
        error_messages={"required": _("Say how the customer paid."), "invalid_choice": _("Say how the customer paid.")},
    )  # fmt: skip
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=NOTE_MAX)
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        if not self.is_bound:
            self.initial.setdefault("key", uuid.uuid4())  # one key per form shown: sending twice records once

    def for_service(self) -> dict[str, Any] | None:
        if not self.is_valid():
            return None
        amount_minor = amount_minor_of(self, "amount", self.currency)
        if amount_minor is None:
            return None
        return {"amount_minor": amount_minor, "method": self.cleaned_data["method"], "note": self.cleaned_data["note"],
                "key": f"overdue:{self.cleaned_data['key']}"}  # fmt: skip


def _whole_days(typed: str, low: int, high: int, message: Any) -> int:
    typed = (typed or "").strip()
    # Digits 0-9 only: "1e9", "1,5", "-2" and "٨" are refused, not read as some number.
    days = int(typed) if typed.isascii() and typed.isdigit() and len(typed) <= 4 else None
    if days is None or not low <= days <= high:
        raise forms.ValidationError(message)
    return days


class BillingSettingsForm(forms.Form):
    """The hub's billing settings as typed; billing.billing_settings checks and saves them."""

    debt_billing = forms.BooleanField(label=_("Bill customers' debt to their saved card"), required=False)
    schedule_after_order = forms.BooleanField(
        label=_("Schedule the payment as soon as an order is completed"), required=False,
        help_text=_("Off: crew schedule payments from the Customer Billing page."),
    )  # fmt: skip
    notice_days = forms.CharField(
        label=_("Tell customers this many days before a charge"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}), help_text=_("From 0 to 7."),
    )  # fmt: skip
    retry_days = forms.CharField(
        label=_("Try again after a soft decline, after (days)"), required=False,
        help_text=_("Days after the payment's day, separated by commas, e.g. 1, 3, 7. Empty: never try again."),
    )  # fmt: skip
    min_charge = amount_field(
        _("Smallest charge"), required=False,
        help_text=_("Debts below it are not charged. Empty: the payment provider's minimum."),
    )  # fmt: skip
    overdue_days = forms.CharField(
        label=_("Debt is overdue after (days)"), widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        help_text=_("From 1 to 365."),
    )  # fmt: skip

    def __init__(self, *args: Any, currency: Unit, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        least = minor_to_decimal(gateway_minimum_minor(currency.code), currency)
        self.fields["min_charge"].widget.attrs["placeholder"] = localize_input(least)
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    @staticmethod
    def initial_from(settings: BillingSettings, currency: Unit) -> dict[str, object]:
        return {
            "debt_billing": settings.debt_billing, "schedule_after_order": settings.schedule_after_order,
            "notice_days": str(settings.notice_days), "overdue_days": str(settings.overdue_days),
            "retry_days": ", ".join(str(day) for day in settings.retry_days),
            "min_charge": localize_input(minor_to_decimal(settings.min_charge_minor, currency))
            if settings.min_charge_minor is not None else "",
        }  # fmt: skip

    def clean_notice_days(self) -> int:
        return _whole_days(self.cleaned_data["notice_days"], 0, NOTICE_DAYS_MAX,
                           _("Give a whole number of days from 0 to 7, such as 1."))  # fmt: skip

    def clean_overdue_days(self) -> int:
        return _whole_days(self.cleaned_data["overdue_days"], 1, OVERDUE_DAYS_MAX,
                           _("Give a whole number of days from 1 to 365, such as 14."))  # fmt: skip

    def clean_retry_days(self) -> list[int]:
        message = _(
            "Give up to %(n)s days from 1 to %(max)s, in increasing order, separated by commas: e.g. 1, 3, 7."
        ) % {"n": RETRIES_MAX, "max": RETRY_DAY_MAX}
        words = [
            word for word in self.cleaned_data["retry_days"].replace(";", ",").replace(" ", ",").split(",") if word
        ]
        days = [_whole_days(word, 1, RETRY_DAY_MAX, message) for word in words]
        if len(days) > RETRIES_MAX or days != sorted(set(days)):
            raise forms.ValidationError(message)
        return days

    def for_service(self) -> dict[str, Any] | None:
        if not self.is_valid():
            return None
        least = gateway_minimum_minor(self.currency.code)
        min_charge_minor = amount_minor_of(self, "min_charge", self.currency)
        if min_charge_minor is not None and not least <= min_charge_minor <= least * SMALLEST_CHARGE_TIMES:
            self.add_error("min_charge", _("Choose a smallest charge from %(least)s to %(most)s.") % {
                "least": money_format(least, self.currency, reader_locale()),
                "most": money_format(least * SMALLEST_CHARGE_TIMES, self.currency, reader_locale())})  # fmt: skip
        if self.errors:
            return None
        data = self.cleaned_data
        return {name: data[name] for name in ("debt_billing", "schedule_after_order", "notice_days", "retry_days",
                                              "overdue_days")} | {"min_charge_minor": min_charge_minor}  # fmt: skip
