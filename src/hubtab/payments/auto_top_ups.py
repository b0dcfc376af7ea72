"""Automatic top-ups from a saved card: below a line, or every week or month from the hub's morning."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hubtab.accounts.selectors import credit_settings_of, topup_quote
from hubtab.core.dates import morning_of
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import amount_check, currency_unit, money_format, reader_locale, unit_get
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_state
from hubtab.messaging.services import message_queue
from hubtab.payments import locks
from hubtab.payments.cards import card_expired
from hubtab.payments.keys import gateway_for
from hubtab.payments.models import (
    AutoTopUp,
    AutoTopUpKind,
    AutoTopUpPeriod,
    Payment,
    PaymentStatus,
    SavedCard,
)
from hubtab.payments.off_session import payment_off_session_create
from hubtab.payments.topups import _charge


def auto_top_up_set(
    *, hub: Hub, customer: Customer, card_id: int, kind: str, threshold_minor: int | None = None,
    target_minor: int | None = None, amount_minor: int | None = None, period: str = "", active: bool = True,
) -> AutoTopUp:  # fmt: skip
    """Set the customer's one auto top-up rule (saving it again re-arms a threshold rule)."""
    card = SavedCard.objects.filter(
        hub=hub, account_id=customer.account_id, id=card_id, removed_at__isnull=True
    ).first()
    if card is None:
        raise DomainError("validation_error", _("Choose one of your saved cards."))
    if card_expired(card, timezone.now()):
        raise DomainError("card_expired", _("That card has expired; save a new one first."))
    settings = credit_settings_of(hub=hub)
    if kind == AutoTopUpKind.THRESHOLD:
        if threshold_minor is None or (target_minor is None) == (amount_minor is None):
            raise DomainError(
                "validation_error", _("Give the line, and either the balance to top up to or the amount.")
            )
        amount_check(threshold_minor, allow_zero=True, allow_negative=True)
        if target_minor is not None and target_minor <= threshold_minor:
            raise DomainError("validation_error", _("Top up to more than the line."))
        period = ""
    elif kind == AutoTopUpKind.INTERVAL:
        if period not in AutoTopUpPeriod.values or amount_minor is None:
            raise DomainError("validation_error", _("Give the period and the amount."))
        threshold_minor = target_minor = None
    else:
        raise DomainError("validation_error", _("Choose when to top up."))
    for value in (target_minor, amount_minor):
        if value is not None:
            amount_check(value)
    if amount_minor is not None and not settings.topup_min_minor <= amount_minor <= settings.topup_max_minor:
        unit = unit_get(hub_id=hub.id, code=customer.account.unit)
        raise DomainError("invalid_amount", _("Top up between %(min)s and %(max)s.") % {
            "min": money_format(settings.topup_min_minor, unit, reader_locale()),
            "max": money_format(settings.topup_max_minor, unit, reader_locale()),
        })  # fmt: skip
    rule, _created = AutoTopUp.objects.update_or_create(
        hub=hub, account_id=customer.account_id,
        defaults={
            "customer": customer, "card": card, "kind": kind, "threshold_minor": threshold_minor,
            "target_minor": target_minor, "amount_minor": amount_minor, "period": period, "active": active,
            "armed": True, "updated_at": timezone.now(),
        },
    )  # fmt: skip
    return rule


def _period_label(rule: AutoTopUp, local: datetime) -> str:
    if rule.period == AutoTopUpPeriod.WEEK:
        year, week, _day = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


def auto_top_ups_run(*, now: datetime | None = None) -> dict[str, int]:
    """Charge every auto top-up that is due, each at most once per crossing or period; safe to run
    twice or concurrently (the payment's key is unique). Customers are told when their bank wants
    them to confirm, or when the charge failed."""
    now = now or timezone.now()
    counts = {"charged": 0, "action_required": 0, "failed": 0}
    # The morning job walks every hub's rules.
    rules = AutoTopUp.objects.across_hubs().filter(active=True).select_related("hub", "card", "customer")
    for rule in rules.order_by("id"):
        payment = _auto_payment_due(rule, now)
        if payment is None:
            continue
        payment, _state = _charge(rule.hub, gateway_for(rule.hub), payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            counts["charged"] += 1
        elif payment.status == PaymentStatus.REQUIRES_ACTION:
            counts["action_required"] += 1
            _auto_notice(rule.hub, payment, "action")
        elif payment.status == PaymentStatus.FAILED:
            counts["failed"] += 1
            _auto_notice(rule.hub, payment, "failed")
    return counts


def _auto_payment_due(rule: AutoTopUp, now: datetime) -> Payment | None:
    """The payment this rule owes now, created once (None if nothing is due)."""
    hub = rule.hub
    balance = account_state(hub_id=hub.id, account_id=rule.account_id).balance_minor
    if rule.kind == AutoTopUpKind.THRESHOLD:
        assert rule.threshold_minor is not None
        if balance >= rule.threshold_minor:
            if not rule.armed:  # back above the line: the next crossing may charge again
                AutoTopUp.objects.filter(hub_id=rule.hub_id, id=rule.id).update(armed=True)
            return None
        with transaction.atomic():
            locked = locks.auto_top_up_locked(hub=hub, rule_id=rule.id)
            if not locked.armed:
                return None
            locked.armed = False
            locked.crossings += 1
            locked.save(update_fields=["armed", "crossings"])
            credits = locked.amount_minor or (locked.target_minor or 0) - balance
            return _auto_payment_create(rule, credits, key=f"auto-{rule.id}-crossing-{locked.crossings}")
    local = timezone.localtime(now, ZoneInfo(hub.timezone))
    if local < morning_of(local.date(), timezone_name=hub.timezone, hour=credit_settings_of(hub=hub).morning_hour):
        return None
    key = f"auto-{rule.id}-{_period_label(rule, local)}"
    if Payment.objects.filter(hub=hub, key=key).exists():
        return None
    assert rule.amount_minor is not None
    return _auto_payment_create(rule, rule.amount_minor, key=key)


def _auto_payment_create(rule: AutoTopUp, credits_minor: int, *, key: str) -> Payment | None:
    hub = rule.hub
    settings = credit_settings_of(hub=hub)
    credits_minor = min(max(credits_minor, settings.topup_min_minor), settings.topup_max_minor)
    if card_expired(rule.card, timezone.now()) or rule.card.removed_at is not None:
        return None
    quote = topup_quote(hub=hub, currency=hub.currency, credits_minor=credits_minor)
    try:
        with transaction.atomic():
            return payment_off_session_create(hub=hub, customer=rule.customer, card=rule.card, quote=quote, key=key)
    except IntegrityError:
        return None  # another run made it first


def _auto_notice(hub: Hub, payment: Payment, what: str) -> None:
    customer = payment.customer
    if customer is None:
        return
    link = f"{django_settings.HUBTAB_BASE_URL}{reverse('topup_done', args=[hub.slug, payment.id])}"
    with translation.override(hub.locale):
        context = {"name": customer.first_name or customer.full_name, "hub": hub.name, "link": link,
                   "paid": money_format(payment.price_minor, currency_unit(payment.currency), hub.locale),
                   "why": payment.failure_message or _("declined")}  # fmt: skip
    message_queue(hub=hub, customer=customer, kind=f"auto_top_up_{what}", dedupe_key=f"auto-top-up-{what}:{payment.id}",
                  template=f"payments/email/auto_top_up_{what}", context=context)  # fmt: skip
