"""The crew's customer form: parses and validates input; the service decides and writes."""

from __future__ import annotations

from django import forms


class CustomerForm(forms.Form):
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    code = forms.CharField(max_length=40, required=False, label="Customer code")
    tags = forms.CharField(max_length=400, required=False, help_text="Separated by commas, e.g. veg box, school")

    def tag_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def fields_for_service(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[name] for name in ("email", "first_name", "last_name", "phone", "address", "code")
        }
