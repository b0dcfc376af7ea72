"""Reads of the hub's credit rules."""

from __future__ import annotations

from hubtab.accounts.models import AccountRules, CreditSettings
from hubtab.core.models import Hub


def credit_settings_of(*, hub: Hub) -> CreditSettings:
    """The hub's credit settings; the defaults (unsaved) for a hub that never changed them."""
    return CreditSettings.objects.with_scopes_disabled().filter(hub=hub).first() or CreditSettings(hub=hub)


def payment_policy_for(*, hub: Hub, account_id: int) -> tuple[str, bool]:
    """The payment policy that applies to this account, and whether it is the account's own."""
    own = (
        AccountRules.objects.with_scopes_disabled()
        .filter(hub=hub, account_id=account_id)
        .values_list("payment_policy", flat=True)
        .first()
    )
    if own:
        return own, True
    return credit_settings_of(hub=hub).payment_policy, False
