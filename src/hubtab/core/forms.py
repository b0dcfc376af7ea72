"""Forms for crew management."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hubtab.core.models import CREW_ROLES


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(r.value, r.label) for r in CREW_ROLES],
        help_text=_("Finance moves money; support looks after customer records and messages, never money."),
    )
