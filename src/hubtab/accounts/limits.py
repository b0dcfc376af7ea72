"""Each account's own spending limit and payment policy, changed by crew, the API or the system
(a card that expired), always audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.models import (
    AccountRules,
    PaymentPolicy,
)
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check
from hubtab.core.services import audit_money, audit_record
from hubtab.ledger import services as ledger

if TYPE_CHECKING:
    pass
from hubtab.accounts.recipes import holder_account


def account_floor_change(*, hub: Hub, account_id: int, floor_minor: int, why: str, actor: User | None = None) -> bool:
    """Set one account's spending limit for a reason the system has (a card that expired), audited.
    Returns whether it changed."""
    account = holder_account(hub, account_id)
    if account.floor_minor == floor_minor:
        return False
    with transaction.atomic():
        ledger.account_floor_set(hub_id=hub.id, account_id=account.id, floor_minor=floor_minor)
        audit_record(hub=hub, actor=actor, action="account.floor", subject=account,
                     summary=gettext_noop("Spending limit set to %(limit)s: %(why)s"),
                     params={"limit": audit_money(floor_minor, account.unit), "why": why},
                     data={"floor_minor": [account.floor_minor, floor_minor]})  # fmt: skip
    return True


def account_rules_set(
    *, hub: Hub, actor: User | None, account_id: int, floor_minor: int, payment_policy: str | None = None
) -> None:
    """One customer's own spending limit and payment policy ("" for the hub's policy; None leaves
    it as it is), audited: the pages and the API both change them here."""
    if payment_policy and payment_policy not in PaymentPolicy.values:
        raise DomainError("validation_error", _("Choose a payment policy."))
    amount_check(floor_minor, allow_zero=True, allow_negative=True)
    if floor_minor > 0:
        raise DomainError("invalid_floor", _("The spending limit is zero or negative: the most debt allowed."))
    account = holder_account(hub, account_id)
    with transaction.atomic():
        changes: dict[str, list[object]] = {}
        if account.floor_minor != floor_minor:
            changes["floor_minor"] = [account.floor_minor, floor_minor]
            ledger.account_floor_set(hub_id=hub.id, account_id=account.id, floor_minor=floor_minor)
        rules, _created = AccountRules.objects.get_or_create(hub=hub, account_id=account.id)
        if payment_policy is not None and rules.payment_policy != payment_policy:
            changes["payment_policy"] = [rules.payment_policy, payment_policy]
            rules.payment_policy = payment_policy
            rules.updated_at = timezone.now()
            rules.save(update_fields=["payment_policy", "updated_at"])
        if changes:
            audit_record(
                hub=hub,
                actor=actor,
                action="account.rules",
                summary=gettext_noop("Changed the spending limit and the payment policy")
                if len(changes) == 2
                else gettext_noop("Changed the spending limit")
                if "floor_minor" in changes
                else gettext_noop("Changed the payment policy"),
                subject=account,
                data=changes,
            )
