"""Reads of the hub's credit rules."""

from __future__ import annotations

from hubtab.accounts.models import CreditSettings
from hubtab.core.models import Hub


def credit_settings_of(*, hub: Hub) -> CreditSettings:
    """The hub's credit settings; the defaults (unsaved) for a hub that never changed them."""
    return CreditSettings.objects.with_scopes_disabled().filter(hub=hub).first() or CreditSettings(hub=hub)
