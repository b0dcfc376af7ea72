"""The crew's customer form: parses and validates input; the service decides and writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hubtab.crm.consent import HOW_MAX
from hubtab.crm.crm_settings import LAPSED_WEEKS_MAX


class CustomerForm(forms.Form):
    email = forms.EmailField(max_length=254, label=_("Email"))
    first_name = forms.CharField(max_length=100, required=False, label=_("First name"))
    last_name = forms.CharField(max_length=100, required=False, label=_("Last name"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Address"))
    code = forms.CharField(max_length=40, required=False, label=_("Customer code"))
    tags = forms.CharField(
        max_length=400, required=False, label=_("Tags"), help_text=_("Separated by commas, e.g. veg box, school")
    )

    def tag_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def fields_for_service(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[name] for name in ("email", "first_name", "last_name", "phone", "address", "code")
        }


class StatementPeriodForm(forms.Form):
    """The period and kind of a customer's history and statement."""

    first_day = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Everything")),
            ("top_ups", _("Top-ups")),
            ("orders", _("Orders")),
            ("credit", _("Credit and corrections")),
        ],
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("The period must end after it starts."))
            if (last - first).days > 3 * 366:
                raise forms.ValidationError(_("Choose a period of at most three years."))
        return data


class NoteForm(forms.Form):
    """A note on a person; the rules on its text are the service's (crm.notes), shown on the form."""

    body = forms.CharField(
        label=_("Note"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 5000})
    )
    follow_up_on = forms.DateField(
        label=_("Follow up on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional: the overview lists it from that day until someone marks it done."),
    )  # fmt: skip
    pinned = forms.BooleanField(label=_("Pin to the top"), required=False)


class ConsentForm(forms.Form):
    """Crew write down a consent to marketing emails given or withdrawn outside Hubtab; the rules on
    what may be written are the service's (crm.consent.consent_record), shown on the form."""

    given = forms.ChoiceField(
        label=_("What the person told you"),
        choices=[("yes", _("Agreed to marketing emails")), ("no", _("Withdrew consent to marketing emails"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether the person agreed to marketing emails or withdrew."),
            "invalid_choice": _("Choose whether the person agreed to marketing emails or withdrew."),
        },
    )
    how = forms.CharField(
        label=_("How (optional)"), required=False, widget=forms.TextInput(attrs={"maxlength": HOW_MAX}),
        help_text=_("For example: on the phone, in person at the market, on a paper form."),
    )  # fmt: skip

    def for_service(self) -> dict[str, object]:
        return {"given": self.cleaned_data["given"] == "yes", "how": self.cleaned_data["how"]}


class JoinForm(forms.Form):
    """Signing up at a hub's shop: the one choice is whether to hear news from the hub."""

    marketing_consent = forms.BooleanField(required=False)

    def __init__(self, *args: object, hub_name: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["marketing_consent"].label = _("Send me news and offers from %(hub)s by email") % {"hub": hub_name}
        self.fields["marketing_consent"].help_text = _(
            "Optional, and you can withdraw it at any time. Emails about your orders and account come either way."
        )


class CrmSettingsForm(forms.Form):
    """The hub's CRM settings as typed; crm.crm_settings checks and saves them."""

    lapsed_after_weeks = forms.CharField(
        label=_("Lapsed after (weeks)"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        help_text=_("A customer with no completed order for this many weeks counts as lapsed. From 1 to 104."),
    )
    joining_open = forms.BooleanField(label=_("People may sign up at the shop by themselves"), required=False)

    def clean_lapsed_after_weeks(self) -> int:
        typed = self.cleaned_data["lapsed_after_weeks"].strip()
        # Digits 0-9 only: "1e9", "1,5", "-2" and "٨" are refused, not read as some number.
        weeks = int(typed) if typed.isascii() and typed.isdigit() and len(typed) <= 6 else None
        if weeks is None or not 1 <= weeks <= LAPSED_WEEKS_MAX:
            raise forms.ValidationError(
                _("Give a whole number of weeks from 1 to %(max)s, such as 8.") % {"max": LAPSED_WEEKS_MAX}
            )
        return weeks
