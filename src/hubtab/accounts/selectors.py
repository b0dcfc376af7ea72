"""Reads of the hub's credit rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet, Sum
from django.utils import timezone

from hubtab.accounts.models import AccountRules, CreditSettings, Organisation, OrganisationMember, OrganisationSpend
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


def organisation_list(*, hub: Hub) -> QuerySet[Organisation]:
    return Organisation.objects.with_scope(hub=hub).order_by("name")


def organisation_get(*, hub: Hub, organisation_id: int) -> Organisation | None:
    return Organisation.objects.with_scope(hub=hub).filter(id=organisation_id).first()


def organisation_members(*, hub: Hub, organisation: Organisation, now: datetime) -> list[dict[str, Any]]:
    """Members with their monthly limit and what they spent this calendar month (the hub's time)."""
    local = timezone.localtime(now, timezone=ZoneInfo(hub.timezone))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    spent = dict(
        OrganisationSpend.objects.with_scopes_disabled()
        .filter(organisation=organisation, spent_at__gte=month_start)
        .values("member_account_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("member_account_id", "total")
    )
    return [
        {
            "account_id": m.member_account_id,
            "monthly_limit_minor": m.monthly_limit_minor,
            "spent_this_month_minor": spent.get(m.member_account_id, 0),
        }
        for m in OrganisationMember.objects.with_scopes_disabled().filter(organisation=organisation).order_by("id")
    ]
