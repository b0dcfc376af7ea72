"""The crew's customer form: parses and validates input; the service decides and writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


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
