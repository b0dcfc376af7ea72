"""Organisations that share one balance: members, their monthly limits, and charging the
organisation for a member."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.models import (
    Organisation,
    OrganisationMember,
    OrganisationSpend,
)
from hubtab.accounts.selectors import credit_unit_of
from hubtab.core.dates import month_start_of
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check
from hubtab.core.services import audit_record
from hubtab.ledger import services as ledger
from hubtab.ledger.types import AccountKind, Posted

if TYPE_CHECKING:
    pass
from hubtab.accounts.paying import charge_post
from hubtab.accounts.recipes import holder_account


def organisation_create(*, hub: Hub, actor: User, name: str, floor_minor: int = 0) -> Organisation:
    name = (name or "").strip()[:200]
    if not name:
        raise DomainError("validation_error", _("Give the organisation a name."))
    with transaction.atomic():
        account = ledger.account_open(
            hub_id=hub.id,
            kind=AccountKind.ORGANISATION,
            unit=credit_unit_of(hub=hub).code,
            name=name,
            floor_minor=floor_minor,
        )
        organisation = Organisation.objects.create(hub=hub, name=name, account_id=account.id)
        audit_record(hub=hub, actor=actor, action="organisation.create",
                     summary=gettext_noop("Created the organisation %(name)s"), params={"name": name},
                     subject=account)  # fmt: skip
    return organisation


def organisation_member_set(
    *, hub: Hub, actor: User, organisation: Organisation, member_account_id: int, monthly_limit_minor: int | None
) -> OrganisationMember:
    """Add a member (a customer's account) or change their monthly limit (None: no limit)."""
    member_account = holder_account(hub, member_account_id)
    if member_account.kind != AccountKind.CUSTOMER:
        raise DomainError("validation_error", _("Members are customers."))
    if monthly_limit_minor is not None:
        amount_check(monthly_limit_minor, allow_zero=True)
    with transaction.atomic():
        member, created = OrganisationMember.objects.update_or_create(
            hub=hub, organisation=organisation, member_account_id=member_account_id,
            defaults={"monthly_limit_minor": monthly_limit_minor},
        )  # fmt: skip
        audit_record(
            hub=hub, actor=actor, action="organisation.member",
            summary=gettext_noop("Added %(member)s to %(organisation)s") if created
            else gettext_noop("Changed %(member)s in %(organisation)s"),
            params={"member": member_account.name, "organisation": organisation.name},
            subject=member_account, data={"organisation": organisation.id, "monthly_limit_minor": monthly_limit_minor},
        )  # fmt: skip
    return member


def organisation_member_remove(*, hub: Hub, actor: User, organisation: Organisation, member_account_id: int) -> None:
    with transaction.atomic():
        deleted, _rows = OrganisationMember.objects.filter(
            hub=hub, organisation=organisation, member_account_id=member_account_id
        ).delete()
        if deleted:
            audit_record(hub=hub, actor=actor, action="organisation.member_remove",
                         summary=gettext_noop("Removed a member from %(organisation)s"),
                         params={"organisation": organisation.name},
                         data={"organisation": organisation.id, "member_account_id": member_account_id})  # fmt: skip


def organisation_charge(
    *, hub: Hub, organisation: Organisation, member_account_id: int, amount_minor: int, reference: str, key: str,
    now: datetime | None = None,
) -> Posted:  # fmt: skip
    """A member pays an order from the organisation's balance: within the organisation's spending
    limit (the ledger checks it) and the member's monthly limit (checked here, under the member's
    row lock, so that two orders at once cannot both slip under it)."""
    amount_check(amount_minor)
    now = now or timezone.now()
    with transaction.atomic():
        member = (
            OrganisationMember.objects.select_for_update()
            .filter(hub=hub, organisation=organisation, member_account_id=member_account_id)
            .first()
        )
        if member is None:
            raise DomainError("not_a_member", _("This customer is not a member of the organisation."))
        if member.monthly_limit_minor is not None:
            month_start = month_start_of(now, timezone_name=hub.timezone)
            spent = (
                OrganisationSpend.objects.filter(
                    organisation=organisation, member_account_id=member_account_id, spent_at__gte=month_start
                ).aggregate(total=Sum("amount_minor"))["total"]
                or 0
            )
            if spent + amount_minor > member.monthly_limit_minor:
                raise DomainError(
                    "member_limit_reached",
                    _("This would take the member over their monthly limit at the organisation."),
                )
        posted = charge_post(
            hub=hub, account_id=organisation.account_id, amount_minor=amount_minor, reference=reference,
            description=reference, key=key,
        )  # fmt: skip
        if not posted.replayed:
            OrganisationSpend.objects.create(
                hub=hub, organisation=organisation, member_account_id=member_account_id,
                transaction_id=posted.transaction_id, amount_minor=amount_minor, spent_at=now,
            )  # fmt: skip
    return posted
