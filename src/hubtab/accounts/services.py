"""Customer credit, as the hub's crew handle it: the hub's credit rules, and adding, removing,
refunding or correcting credit by hand. Every change is a ledger posting with who and why, and
an audit row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.models import (
    AccountRules,
    Bundle,
    CreditSettings,
    Organisation,
    OrganisationMember,
    OrganisationSpend,
    PaymentPolicy,
    UnitPrice,
)
from hubtab.accounts.selectors import Quote, credit_unit_of, topup_quote
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import Unit, amount_check, currency_unit, money_format, reader_locale, unit_get
from hubtab.core.services import audit_money, audit_record, credit_unit_save
from hubtab.ledger import selectors as ledger_selectors
from hubtab.ledger import services as ledger
from hubtab.ledger.owners import Owner, OwnerKind, posting_owner
from hubtab.ledger.selectors import LotDraw
from hubtab.ledger.types import AccountKind, HoldResult, Leg, Posted, SystemAccount

if TYPE_CHECKING:
    from hubtab.ledger.models import Account

SETTINGS_FIELDS = (
    "enabled",
    "payment_policy",
    "default_floor_minor",
    "low_balance_minor",
    "topup_min_minor",
    "topup_max_minor",
    "topup_presets_minor",
    "topup_bonus_percent",
    "card_backed_floor",
    "bank_transfer_details",
    "morning_hour",
)


def credit_settings_get(*, hub: Hub) -> CreditSettings:
    settings, _created = CreditSettings.objects.with_scopes_disabled().get_or_create(hub=hub)
    return settings


def credit_settings_update(*, hub: Hub, actor: User, **fields: Any) -> CreditSettings:
    """Change the hub's credit rules; the whole change is checked before anything is saved."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError("validation_error", f"Unknown settings: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        settings = (
            CreditSettings.objects.with_scopes_disabled().select_for_update().get(pk=credit_settings_get(hub=hub).pk)
        )
        before = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
        for name, value in fields.items():
            setattr(settings, name, value)
        _settings_check(settings)
        changes = {
            name: [_jsonable(before[name]), _jsonable(getattr(settings, name))]
            for name in SETTINGS_FIELDS
            if before[name] != getattr(settings, name)
        }
        if not changes:
            return settings
        settings.updated_at = timezone.now()
        settings.updated_by = actor
        settings.save()
        audit_record(
            hub=hub,
            actor=actor,
            action="credit_settings.update",
            summary=gettext_noop("Changed the credit settings: %(fields)s"),
            params={"fields": ", ".join(name.replace("_minor", "").replace("_", " ") for name in changes)},
            subject=settings,
            data=changes,
        )
    return settings


def _jsonable(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def _settings_check(settings: CreditSettings) -> None:
    if settings.payment_policy not in PaymentPolicy.values:
        raise DomainError("validation_error", _("Choose a payment policy."))
    amount_check(settings.default_floor_minor, allow_zero=True, allow_negative=True)
    if settings.default_floor_minor > 0:
        raise DomainError("invalid_floor", _("The spending limit is zero or negative: the most debt allowed."))
    amount_check(settings.low_balance_minor, allow_zero=True, allow_negative=True)
    amount_check(settings.topup_min_minor)
    amount_check(settings.topup_max_minor)
    if settings.topup_min_minor > settings.topup_max_minor:
        raise DomainError("validation_error", _("The smallest top-up must not be above the largest."))
    presets = settings.topup_presets_minor
    if not isinstance(presets, list) or len(presets) > 6:
        raise DomainError("validation_error", _("Give at most 6 preset amounts."))
    for preset in presets:
        amount_check(preset)
        if not settings.topup_min_minor <= preset <= settings.topup_max_minor:
            raise DomainError(
                "validation_error", _("Preset amounts must lie between the smallest and the largest top-up.")
            )
    bonus = settings.topup_bonus_percent
    if not isinstance(bonus, Decimal) or not Decimal(0) <= bonus <= Decimal(100):
        raise DomainError("validation_error", _("The top-up bonus is a percentage between 0 and 100."))
    hour = settings.morning_hour
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise DomainError("validation_error", _("The morning hour is a whole hour from 0 to 23."))


# --- the hub's unit of credit, its prices and bundles ---------------------------------------------


def credit_unit_choose(*, hub: Hub, actor: User, code: str = "", name: str = "", decimals: int = 2) -> Unit:
    """Count the hub's credit in its currency (`code` "") or in a named unit ("TOKEN", "Tokens").
    The unit can change only while no customer's credit has moved; a named unit can always be
    renamed."""
    code = (code or "").strip().upper()
    if code == hub.currency:
        code = ""
    with transaction.atomic():
        settings = (
            CreditSettings.objects.with_scopes_disabled().select_for_update().get(pk=credit_settings_get(hub=hub).pk)
        )
        before = credit_unit_of(hub=hub)
        if code:
            credit_unit_save(hub=hub, code=code, name=name, decimals=decimals)
        after = unit_get(hub_id=hub.id, code=code) if code else currency_unit(hub.currency)
        if after == before:
            return after
        if after.code != before.code:
            ledger.accounts_unit_change(hub_id=hub.id, from_unit=before.code, to_unit=after.code)
            settings.unit_code = code
            settings.updated_at = timezone.now()
            settings.updated_by = actor
            settings.save(update_fields=["unit_code", "updated_at", "updated_by"])
        audit_record(
            hub=hub,
            actor=actor,
            action="credit_settings.unit",
            summary=gettext_noop("Credit now counts in %(name)s (%(code)s)"),
            params={"name": after.name, "code": after.code},
            subject=settings,
            data={"from": before.code, "to": after.code, "name": after.name, "decimals": after.decimals},
        )
    return after


def _named_unit(hub: Hub) -> Unit:
    unit = credit_unit_of(hub=hub)
    if unit.is_currency:
        raise DomainError(
            "validation_error", _("Credit here counts in %(unit)s: it needs no price.") % {"unit": unit.code}
        )
    return unit


def unit_price_set(*, hub: Hub, actor: User, currency: str, credits_minor: int, price_minor: int) -> UnitPrice:
    """Sell the hub's named credit in `currency`: `credits_minor` of it for `price_minor`."""
    unit = _named_unit(hub)
    currency_unit(currency)
    amount_check(credits_minor)
    amount_check(price_minor)
    with transaction.atomic():
        price, _created = UnitPrice.objects.with_scopes_disabled().update_or_create(
            hub=hub, unit_code=unit.code, currency=currency,
            defaults={"credits_minor": credits_minor, "price_minor": price_minor},
        )  # fmt: skip
        audit_record(
            hub=hub, actor=actor, action="credit_settings.price",
            summary=gettext_noop("Sells %(credits)s for %(price)s"),
            params={"credits": audit_money(credits_minor, unit.code), "price": audit_money(price_minor, currency)},
            subject=price, data={"currency": currency, "credits_minor": credits_minor, "price_minor": price_minor},
        )  # fmt: skip
    return price


def unit_price_remove(*, hub: Hub, actor: User, currency: str) -> None:
    unit = _named_unit(hub)
    with transaction.atomic():
        deleted, _rows = (
            UnitPrice.objects.with_scopes_disabled().filter(hub=hub, unit_code=unit.code, currency=currency).delete()
        )
        if deleted:
            audit_record(
                hub=hub, actor=actor, action="credit_settings.price_remove",
                summary=gettext_noop("%(unit)s are no longer sold in %(currency)s"), data={"currency": currency},
                params={"unit": unit.name, "currency": currency},
            )  # fmt: skip


def bundle_create(*, hub: Hub, actor: User, name: str, currency: str, price_minor: int, credits_minor: int) -> Bundle:
    """A "pay X, get Y" offer. Y must be worth more than X at the hub's price: the extra is the
    bonus, granted on top of the paid credit."""
    name = (name or "").strip()[:80]
    if not name:
        raise DomainError("validation_error", _("Give the bundle a name, e.g. “Family pack”."))
    unit = credit_unit_of(hub=hub)
    amount_check(price_minor)
    amount_check(credits_minor)
    worth = topup_quote(hub=hub, currency=currency, price_minor=price_minor).paid_minor
    if credits_minor <= worth:
        raise DomainError(
            "validation_error",
            _("A bundle gives more than the price buys on its own (%(worth)s).")
            % {"worth": money_format(worth, unit, reader_locale())},
        )
    try:
        with transaction.atomic():
            bundle = Bundle.objects.with_scopes_disabled().create(
                hub=hub, name=name, currency=currency, price_minor=price_minor, unit_code=unit.code,
                credits_minor=credits_minor,
            )  # fmt: skip
            audit_record(
                hub=hub, actor=actor, action="credit_settings.bundle", subject=bundle,
                summary=gettext_noop("Created the bundle %(name)s"), params={"name": name},
                data={"currency": currency, "price_minor": price_minor, "credits_minor": credits_minor},
            )  # fmt: skip
    except IntegrityError:
        raise DomainError("validation_error", _("Another bundle already has this price.")) from None
    return bundle


def bundle_archive(*, hub: Hub, actor: User, bundle_id: int) -> None:
    """Stop offering a bundle; credit bought with it is untouched."""
    with transaction.atomic():
        bundle = Bundle.objects.with_scopes_disabled().select_for_update().filter(hub=hub, id=bundle_id).first()
        if bundle is None:
            raise DomainError("not_found", _("That bundle does not exist."))
        if bundle.active:
            bundle.active = False
            bundle.save(update_fields=["active"])
            audit_record(hub=hub, actor=actor, action="credit_settings.bundle_archive",
                         summary=gettext_noop("Stopped the bundle %(name)s"), subject=bundle,
                         params={"name": bundle.name})  # fmt: skip


# --- crew actions on a customer's credit ----------------------------------------------------------


class CreditAction:
    """What crew can do to an account by hand, and the hub account on the other side of each."""

    ADD_PAID = "add_paid"  # a correction in the customer's favour, as paid (refundable) credit
    ADD_GRANTED = "add_granted"  # goodwill, a voucher: granted credit, may expire
    REMOVE = "remove"  # a correction against the customer
    EXTERNAL_PAYMENT = "external_payment"  # cash, bank transfer, point of sale: paid credit
    REFUND = "refund"  # money owed to the customer, given back as credit

    ALL = (ADD_PAID, ADD_GRANTED, REMOVE, EXTERNAL_PAYMENT, REFUND)
    KIND = {
        ADD_PAID: "adjustment",
        ADD_GRANTED: "grant",
        REMOVE: "adjustment",
        EXTERNAL_PAYMENT: "top_up",
        REFUND: "refund",
    }
    OTHER_SIDE = {
        ADD_PAID: SystemAccount.ADJUSTMENTS,
        ADD_GRANTED: SystemAccount.GRANTED_CREDIT_EXPENSE,
        REMOVE: SystemAccount.ADJUSTMENTS,
        EXTERNAL_PAYMENT: SystemAccount.EXTERNAL_PAYMENTS,
        REFUND: SystemAccount.REFUNDS,
    }


ACTION_LABELS = {
    CreditAction.ADD_PAID: gettext_noop("Added"),
    CreditAction.ADD_GRANTED: gettext_noop("Granted"),
    CreditAction.REMOVE: gettext_noop("Removed"),
    CreditAction.EXTERNAL_PAYMENT: gettext_noop("Recorded a payment of"),
    CreditAction.REFUND: gettext_noop("Refunded to credit"),
}
# Translated into the hub's language for the ledger's memo, and into the reader's in the form.
EXTERNAL_METHODS = {
    "cash": gettext_noop("Cash"),
    "bank_transfer": gettext_noop("Bank transfer"),
    "point_of_sale": gettext_noop("Point of sale"),
}


def _holder_account(hub: Hub, account_id: int) -> Account:
    account = ledger_selectors.holder_get(hub_id=hub.id, account_id=account_id)
    if account is None:
        raise DomainError("account_not_found", _("That customer account does not exist at this hub."))
    return account


def credit_apply(
    *,
    hub: Hub,
    actor: User | None,
    account_id: int,
    action: str,
    amount_minor: int,
    comment: str,
    key: str,
    expires_at: datetime | None = None,
    method: str = "",
    for_order: bool = False,
) -> Posted:
    """Add, remove, refund or record credit on a customer or organisation account, by hand.

    `comment` is required: it is the reason kept on the transaction and shown in the history.
    A replayed `key` (a form sent twice) posts nothing more. A payment `for_order` (cash at
    pickup) pays for an order: it becomes credit at the hub's price, without bundle or bonus.
    """
    if action not in CreditAction.ALL:
        raise DomainError("validation_error", _("Choose what to do."))
    amount_check(amount_minor)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("comment_required", _("Say why: the comment is kept with the entry."))
    if len(comment) > 500:
        raise DomainError("validation_error", _("Keep the comment under 500 characters."))
    if action == CreditAction.EXTERNAL_PAYMENT and method not in EXTERNAL_METHODS:
        raise DomainError("validation_error", _("Say how the customer paid: cash, bank transfer or point of sale."))
    if action != CreditAction.ADD_GRANTED:
        expires_at = None
    elif expires_at is not None and expires_at <= timezone.now():
        raise DomainError("invalid_expiry", _("Credit must expire in the future."))
    account = _holder_account(hub, account_id)
    unit = unit_get(hub_id=hub.id, code=account.unit)
    bought: dict[str, Any] | str = ""
    if action == CreditAction.EXTERNAL_PAYMENT:
        # Money received becomes credit at the hub's price, with its bundle or bonus, like a top-up.
        quote = topup_quote(hub=hub, currency=hub.currency, price_minor=amount_minor)
        if for_order:
            quote = replace(quote, bonus_minor=0, bundle_id=None, bundle_name="")
        legs = purchase_legs(hub=hub, account=account, quote=quote, source_code=SystemAccount.EXTERNAL_PAYMENTS)
        paid_for = audit_money(amount_minor, hub.currency)
        if quote.unit.code != hub.currency or quote.bonus_minor:
            bought = audit_money(quote.total_minor, unit.code)
    else:
        other = ledger.account_system_get(hub_id=hub.id, code=CreditAction.OTHER_SIDE[action], unit=account.unit)
        if action == CreditAction.REMOVE:
            legs = [Leg(account.id, -amount_minor, account.unit), Leg(other.id, amount_minor, account.unit)]
        else:
            lot_kind = "granted" if action == CreditAction.ADD_GRANTED else "paid"
            legs = [
                Leg(other.id, -amount_minor, account.unit),
                Leg(account.id, amount_minor, account.unit, lot_kind=lot_kind, lot_expires_at=expires_at),
            ]
        paid_for = audit_money(amount_minor, unit.code)
    # Stored in Hubtab's words ("Cash: …"), shown in the reader's language (ledger.labels).
    memo = f"{EXTERNAL_METHODS[method]}: {comment}" if method else comment
    with transaction.atomic():
        posted = ledger.transaction_post(
            hub_id=hub.id,
            key=key,
            legs=legs,
            kind=CreditAction.KIND[action],
            memo=memo,
            actor_id=actor.id if actor else None,
            reason=comment,
        )
        if not posted.replayed:
            audit_record(
                hub=hub,
                actor=actor,
                action=f"credit.{action}",
                summary=gettext_noop("%(action_word)s %(amount)s (%(bought)s): %(comment)s")
                if bought
                else gettext_noop("%(action_word)s %(amount)s: %(comment)s"),
                params={"action_word": ACTION_LABELS[action], "amount": paid_for, "bought": bought, "comment": comment},
                subject=account,
                data={
                    "transaction_id": posted.transaction_id,
                    "amount_minor": amount_minor,
                    "method": method,
                    "expires_at": expires_at.isoformat() if expires_at else None,
                },
            )
    return posted


def purchase_legs(*, hub: Hub, account: Account, quote: Quote, source_code: str) -> list[Leg]:
    """The legs of credit bought with money: the money comes from `source_code` (a gateway's
    clearing account, or payments received by hand) and becomes paid credit, plus any bonus as
    granted credit. In named credits the money goes to the hub's credit sales and the credits
    come from credit issued, so each unit sums to zero and the legs record the rate paid."""
    if quote.unit.code != account.unit:
        raise DomainError("unit_mismatch", _("This account counts in %(unit)s.") % {"unit": account.unit})
    source = ledger.account_system_get(hub_id=hub.id, code=source_code, unit=quote.currency)
    credit = Leg(account.id, quote.paid_minor, account.unit, lot_kind="paid")
    if quote.unit.is_currency:
        legs = [Leg(source.id, -quote.price_minor, quote.currency), credit]
    else:
        sales = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.CREDIT_SALES, unit=quote.currency)
        issued = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.CREDIT_ISSUED, unit=account.unit)
        legs = [
            Leg(source.id, -quote.price_minor, quote.currency),
            Leg(sales.id, quote.price_minor, quote.currency),
            Leg(issued.id, -quote.paid_minor, account.unit),
            credit,
        ]
    if quote.bonus_minor:
        bonus = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.GRANTED_CREDIT_EXPENSE, unit=account.unit)
        legs += [
            Leg(bonus.id, -quote.bonus_minor, account.unit),
            Leg(account.id, quote.bonus_minor, account.unit, lot_kind="granted"),
        ]
    return legs


def topup_credit_post(
    *, hub: Hub, account_id: int, quote: Quote, key: str, source_code: str, memo: str, actor_id: int | None,
    reason: str,
) -> Posted:  # fmt: skip
    """Post the credit a payment bought (its price from `source_code`, the payment's clearing or
    money received by hand), once per `key`: what the payments domain calls when money arrives."""
    account = ledger_selectors.account_get(hub_id=hub.id, account_id=account_id)
    return ledger.transaction_post(
        hub_id=hub.id, key=key, legs=purchase_legs(hub=hub, account=account, quote=quote, source_code=source_code),
        kind="top_up", memo=memo, actor_id=actor_id, reason=reason,
    )  # fmt: skip


def topup_refund_post(
    *, hub: Hub, account_id: int, quote: Quote, key: str, source_code: str, memo: str, actor_id: int | None,
    reason: str,
) -> Posted:  # fmt: skip
    """Take back the paid credit a refund to the card returns (`quote.paid_minor` of it), refused
    when the account no longer holds that much paid credit."""
    account = ledger_selectors.account_get(hub_id=hub.id, account_id=account_id)
    return ledger.paid_credit_take(
        hub_id=hub.id, account_id=account.id, amount_minor=quote.paid_minor, key=key,
        legs=purchase_refund_legs(hub=hub, account=account, quote=quote, source_code=source_code),
        kind="refund_to_card", memo=memo, actor_id=actor_id, reason=reason,
    )  # fmt: skip


def posting_undo(*, hub: Hub, transaction_id: int, key: str, reason: str) -> Posted:
    """Post the exact opposite of a posting its owner made and now withdraws (a card refund the
    gateway refused); the crew's reversals go through `transaction_correct` instead."""
    return ledger.transaction_reverse(hub_id=hub.id, transaction_id=transaction_id, key=key, reason=reason[:500])


def purchase_refund_legs(*, hub: Hub, account: Account, quote: Quote, source_code: str) -> list[Leg]:
    """The opposite of `purchase_legs` for the money and the paid credit (never the bonus): paid
    credit leaves the account and the money goes back out through `source_code`."""
    bought = purchase_legs(hub=hub, account=account, quote=replace(quote, bonus_minor=0), source_code=source_code)
    return [Leg(leg.account_id, -leg.amount_minor, leg.unit) for leg in bought]


def credit_apply_many(
    *,
    hub: Hub,
    actor: User,
    account_ids: list[int],
    action: str,
    amount_minor: int,
    comment: str,
    key: str,
    expires_at: datetime | None = None,
) -> list[Posted]:
    """The same credit for many customers at once, all or none (one transaction per customer)."""
    if not account_ids:
        raise DomainError("validation_error", _("Choose at least one customer."))
    if action not in (CreditAction.ADD_PAID, CreditAction.ADD_GRANTED):
        raise DomainError("validation_error", _("Many customers at once can only be given credit."))
    with transaction.atomic():
        return [
            credit_apply(
                hub=hub,
                actor=actor,
                account_id=account_id,
                action=action,
                amount_minor=amount_minor,
                comment=comment,
                key=f"{key}:{account_id}",
                expires_at=expires_at,
            )
            for account_id in sorted(set(account_ids))
        ]


def transaction_correct(*, hub: Hub, actor: User, transaction_id: int, reason: str, key: str) -> Posted:
    """Reverse a mistaken transaction (the ledger posts its exact opposite), with who and why.

    Only what was posted by hand or over the API: a posting an order, a payment or a card refund
    made is undone through its owner, which keeps its own record of what it took and gave back."""
    reason = (reason or "").strip()
    posted_before = ledger_selectors.transaction_key_memo(hub_id=hub.id, transaction_id=transaction_id)
    owner = posting_owner(posted_before[0]) if posted_before else None
    if owner is not None:
        raise _owned_refusal(owner, posted_before[1] if posted_before else "")
    holders = ledger_selectors.holders_of_transaction(hub_id=hub.id, transaction_id=transaction_id)
    with transaction.atomic():
        posted = ledger.transaction_reverse(
            hub_id=hub.id, transaction_id=transaction_id, key=key, reason=reason, actor_id=actor.id
        )
        for holder in holders if not posted.replayed else []:
            audit_record(
                hub=hub,
                actor=actor,
                action="credit.reverse",
                summary=gettext_noop("Reversed a transaction: %(reason)s"),
                params={"reason": reason},
                subject=holder,
                data={"transaction_id": transaction_id, "reversal_id": posted.transaction_id},
            )
    return posted


def _owned_refusal(owner: Owner, memo: str) -> DomainError:
    """Why a posting with an owner is not reversed by hand, and what to do instead."""
    if owner.kind == OwnerKind.ORDER:
        return DomainError(
            "reverse_refused_order",
            _("“%(memo)s” was posted by an order. To give money back, refund the order from its page: "
              "a reversal here would leave the order refundable.") % {"memo": memo},
        )  # fmt: skip
    if owner.kind == OwnerKind.PAYMENT:
        return DomainError(
            "reverse_refused_payment",
            _("“%(memo)s” is the credit of payment %(id)s. To send a card payment back, refund it from the "
              "customer's Card payments page; to take back other credit, use Remove credit with a note.")
            % {"memo": memo, "id": owner.id},
        )  # fmt: skip
    return DomainError(
        "reverse_refused_refund",
        _("“%(memo)s” is a refund to the card; it follows the card refund's own outcome and is not reversed "
          "by hand.") % {"memo": memo},
    )  # fmt: skip


# --- orders paid from credit (the shop and the API) -----------------------------------------------


def charge_post(
    *, hub: Hub, account_id: int, amount_minor: int, reference: str, description: str, key: str,
    actor: User | None = None,
) -> Posted:  # fmt: skip
    """Take an order's amount from the account into the hub's sales, within the spending limit."""
    amount_check(amount_minor)
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("validation_error", _("Give the order's reference."))
    # The customer's account and the hub's sales account in one query (this runs on every order).
    account, sales = ledger_selectors.holder_and_system_get(hub_id=hub.id, account_id=account_id,
                                                            code=SystemAccount.SALES)  # fmt: skip
    if account is None:
        raise DomainError("account_not_found", _("That customer account does not exist at this hub."))
    sales = sales or ledger.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=account.unit)
    return ledger.transaction_post(
        hub_id=hub.id,
        key=key,
        legs=[Leg(account.id, -amount_minor, account.unit), Leg(sales.id, amount_minor, account.unit)],
        kind="charge",
        memo=(description or reference)[:500],
        actor_id=actor.id if actor else None,
        reason=reference,
    )


def charge_refund_post(
    *, hub: Hub, account_id: int, parts: Sequence[LotDraw], reference: str, reason: str, key: str,
    actor: User | None = None,
) -> Posted:  # fmt: skip
    """Give part of a paid order back: out of the hub's sales, into the account as the kinds of
    credit that paid it (`parts`: granted credit comes back granted, with its expiry)."""
    if not parts:
        raise DomainError("invalid_amount", _("Nothing to refund."))
    account = _holder_account(hub, account_id)
    amount_minor = amount_check(sum(part.amount_minor for part in parts))
    sales = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=account.unit)
    credits = [
        Leg(account.id, amount_check(part.amount_minor), account.unit, lot_kind=part.kind,
            lot_expires_at=part.expires_at if part.kind == "granted" else None)
        for part in parts
    ]  # fmt: skip
    return ledger.transaction_post(
        hub_id=hub.id,
        key=key,
        legs=[Leg(sales.id, -amount_minor, account.unit), *credits],
        kind="order_refund",
        memo=f"Refund of {reference}",  # read as "Refund of order #12" in the reader's language (ledger.labels)
        actor_id=actor.id if actor else None,
        reason=(reason or reference)[:500],
    )


def order_hold_place(
    *, hub: Hub, account_id: int, amount_minor: int, reference: str, key: str, expires_at: datetime | None = None,
) -> HoldResult:  # fmt: skip
    """Reserve an order's amount on the account until it is captured, voided or expires."""
    _holder_account(hub, account_id)
    return ledger.hold_place(
        hub_id=hub.id, key=key, account_id=account_id, amount_minor=amount_minor, expires_at=expires_at,
        reference=(reference or "").strip()[:200],
    )  # fmt: skip


def order_hold_capture(
    *, hub: Hub, hold_id: int, key: str, amount_minor: int | None = None, actor: User | None = None
) -> HoldResult:
    """Take the final amount of a held order into the hub's sales and release the rest."""
    hold = ledger_selectors.hold_get(hub_id=hub.id, hold_id=hold_id)
    sales = ledger.account_system_get(hub_id=hub.id, code=SystemAccount.SALES, unit=hold.unit)
    return ledger.hold_capture(
        hub_id=hub.id, hold_id=hold_id, to_account_id=sales.id, amount_minor=amount_minor, key=key,
        actor_id=actor.id if actor else None,
    )  # fmt: skip


def order_hold_void(*, hub: Hub, hold_id: int) -> HoldResult:
    return ledger.hold_void(hub_id=hub.id, hold_id=hold_id)


def account_floor_change(*, hub: Hub, account_id: int, floor_minor: int, why: str, actor: User | None = None) -> bool:
    """Set one account's spending limit for a reason the system has (a card that expired), audited.
    Returns whether it changed."""
    account = _holder_account(hub, account_id)
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
    account = _holder_account(hub, account_id)
    with transaction.atomic():
        changes: dict[str, list[object]] = {}
        if account.floor_minor != floor_minor:
            changes["floor_minor"] = [account.floor_minor, floor_minor]
            ledger.account_floor_set(hub_id=hub.id, account_id=account.id, floor_minor=floor_minor)
        rules, _created = AccountRules.objects.with_scopes_disabled().get_or_create(hub=hub, account_id=account.id)
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


# --- organisations --------------------------------------------------------------------------------


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
        organisation = Organisation.objects.with_scopes_disabled().create(hub=hub, name=name, account_id=account.id)
        audit_record(hub=hub, actor=actor, action="organisation.create",
                     summary=gettext_noop("Created the organisation %(name)s"), params={"name": name},
                     subject=account)  # fmt: skip
    return organisation


def organisation_member_set(
    *, hub: Hub, actor: User, organisation: Organisation, member_account_id: int, monthly_limit_minor: int | None
) -> OrganisationMember:
    """Add a member (a customer's account) or change their monthly limit (None: no limit)."""
    member_account = _holder_account(hub, member_account_id)
    if member_account.kind != AccountKind.CUSTOMER:
        raise DomainError("validation_error", _("Members are customers."))
    if monthly_limit_minor is not None:
        amount_check(monthly_limit_minor, allow_zero=True)
    with transaction.atomic():
        member, created = OrganisationMember.objects.with_scopes_disabled().update_or_create(
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
        deleted, _rows = (
            OrganisationMember.objects.with_scopes_disabled()
            .filter(hub=hub, organisation=organisation, member_account_id=member_account_id)
            .delete()
        )
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
            OrganisationMember.objects.with_scopes_disabled()
            .select_for_update()
            .filter(hub=hub, organisation=organisation, member_account_id=member_account_id)
            .first()
        )
        if member is None:
            raise DomainError("not_a_member", _("This customer is not a member of the organisation."))
        if member.monthly_limit_minor is not None:
            local = timezone.localtime(now, timezone=ZoneInfo(hub.timezone))
            month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            spent = (
                OrganisationSpend.objects.with_scopes_disabled()
                .filter(organisation=organisation, member_account_id=member_account_id, spent_at__gte=month_start)
                .aggregate(total=Sum("amount_minor"))["total"]
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
            OrganisationSpend.objects.with_scopes_disabled().create(
                hub=hub, organisation=organisation, member_account_id=member_account_id,
                transaction_id=posted.transaction_id, amount_minor=amount_minor, spent_at=now,
            )  # fmt: skip
    return posted
