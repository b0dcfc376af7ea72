"""Top-ups by card: started, charged and settled once, with the credit, the receipt and word to the domains above."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import Quote, credit_settings_of, topup_quote
from hubtab.accounts.services import topup_credit_post
from hubtab.core.dates import moment_short
from hubtab.core.errors import DomainError
from hubtab.core.faults import crash_point
from hubtab.core.guards import exclusive
from hubtab.core.models import Hub, User
from hubtab.core.money import currency_unit, money_format, reader_locale, unit_get
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_state
from hubtab.ledger.types import SystemAccount
from hubtab.messaging.services import message_queue
from hubtab.payments import events, locks
from hubtab.payments.cards import _card_known, _card_save
from hubtab.payments.gateway import CardFacts, ChargeDeclined, GatewayUnavailable, IntentState, PaymentGateway
from hubtab.payments.keys import _gateway_customer, gateway_for
from hubtab.payments.models import (
    GatewayCustomer,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from hubtab.payments.signals import payment_succeeded

log = logging.getLogger(__name__)

# Memos are stored in Hubtab's words and shown in the reader's language (ledger.labels).
CARD_TOP_UP_MEMO = gettext_noop("Card top-up")

# A payment whose outcome nobody told us about for this long is asked about by the reconcile job.
RECONCILE_AFTER = timedelta(minutes=5)

# Statuses a payment can still leave; SUCCEEDED and CANCELED are final, FAILED can still succeed
# (the customer tries again on the same payment with another card).
_FINAL = (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)


def topup_start(
    *, hub: Hub, customer: Customer, actor: User | None, price_minor: int | None = None,
    credits_minor: int | None = None, save_card: bool = False, method: str = PaymentMethod.CARD,
    for_shortfall: bool = False,
) -> Payment:  # fmt: skip
    """A top-up the customer is about to pay: what they pay and what it buys are fixed now (a price
    change later does not change it). By card, nothing is asked of the gateway yet; by bank
    transfer, the payment waits for finance to see the money arrive. A top-up `for_shortfall` pays
    exactly what an order lacks, so the hub's smallest top-up does not apply to it."""
    settings = credit_settings_of(hub=hub)
    if not settings.enabled:
        raise DomainError("credit_off", _("This hub does not keep credit accounts."))
    if method == PaymentMethod.CARD:
        gateway_for(hub)  # refuse at once if the hub takes no cards
    elif method != PaymentMethod.BANK_TRANSFER or not settings.takes_bank_transfers:
        raise DomainError("validation_error", _("This hub does not take bank transfers."))
    quote = topup_quote(hub=hub, currency=hub.currency, price_minor=price_minor, credits_minor=credits_minor)
    minimum_minor = 1 if for_shortfall else settings.topup_min_minor
    if not quote.bundle_id and not minimum_minor <= quote.paid_minor <= settings.topup_max_minor:
        raise DomainError(
            "invalid_amount",
            _("Top up between %(min)s and %(max)s.")
            % {
                "min": money_format(settings.topup_min_minor, quote.unit, reader_locale()),
                "max": money_format(settings.topup_max_minor, quote.unit, reader_locale()),
            },
        )
    is_transfer = method == PaymentMethod.BANK_TRANSFER
    return Payment.objects.create(
        hub=hub, account_id=customer.account_id, customer=customer, currency=quote.currency,
        price_minor=quote.price_minor, unit=quote.unit.code, paid_minor=quote.paid_minor,
        bonus_minor=quote.bonus_minor, bundle_name=quote.bundle_name, key=f"topup-{uuid.uuid4()}",
        save_card=save_card and not is_transfer, created_by=actor, method=method,
        status=PaymentStatus.PENDING if is_transfer else PaymentStatus.CREATED,
    )  # fmt: skip


def topup_card_form(*, hub: Hub, payment: Payment) -> str:
    """The client secret of the gateway's card form for this payment (a SetupIntent: the card goes
    from the customer's browser to the gateway, never through Hubtab)."""
    if payment.status != PaymentStatus.CREATED or payment.payment_method_ref:
        raise DomainError("payment_not_open", _("This payment is no longer waiting for a card."))
    customer = payment.customer
    if customer is None:
        raise DomainError("payment_orphaned", _("This payment has no customer."))
    gateway = gateway_for(hub)
    try:
        customer_ref = _gateway_customer(hub, gateway, customer)
        setup_ref, client_secret = gateway.setup_create(key=f"{payment.key}:setup", customer_ref=customer_ref)
    except GatewayUnavailable:
        raise DomainError(
            "gateway_unavailable", _("The payment provider is not answering. Nothing was charged; try again shortly.")
        ) from None
    Payment.objects.filter(hub_id=payment.hub_id, id=payment.id).update(setup_ref=setup_ref)
    payment.setup_ref = setup_ref
    return client_secret


def topup_charge(*, hub: Hub, payment_id: int) -> tuple[Payment, IntentState | None]:
    """Charge the card the customer just entered in the gateway's form. Sending the form twice
    charges once: the card is claimed under the payment's lock, and the charge carries the
    payment's key. The state is None when the gateway did not answer: the payment is UNKNOWN and
    the reconcile job asks again, with the same key."""
    payment = Payment.objects.get(hub=hub, id=payment_id)
    if not payment.setup_ref:
        raise DomainError("payment_not_open", _("Enter a card first."))
    gateway = gateway_for(hub)
    try:
        setup_status, method_ref = gateway.setup_get(payment.setup_ref)
    except GatewayUnavailable:
        raise DomainError(
            "gateway_unavailable", _("The payment provider is not answering. Nothing was charged; try again shortly.")
        ) from None
    if setup_status != "succeeded" or not method_ref:
        raise DomainError("card_not_ready", _("The card was not accepted; check it and try again."))
    with transaction.atomic():
        claimed = Payment.objects.filter(
            hub_id=payment.hub_id, id=payment.id, status=PaymentStatus.CREATED, payment_method_ref=""
        ).update(payment_method_ref=method_ref, updated_at=timezone.now())
    if not claimed:  # already charged (the form sent twice): tell what we know
        return payment_refresh(hub=hub, payment=payment), None
    payment.payment_method_ref = method_ref
    return _charge(hub, gateway, payment)


def _charge(hub: Hub, gateway: PaymentGateway, payment: Payment) -> tuple[Payment, IntentState | None]:
    """Charge the payment's card once. One process at a time charges a payment (the guard); a
    payment that was sent to the gateway before, with no answer kept (a timeout, a crash), is
    looked up there by its key first and charged only if the gateway never saw it: the key alone
    does not protect us (Stripe forgets keys after a day, and test servers ignore them)."""
    with exclusive("payment-charge", payment.id) as held:
        if not held:  # another process is charging it now: it records the outcome
            return payment, None
        payment = Payment.objects.get(hub=hub, id=payment.id)
        if payment.status in _FINAL or payment.gateway_ref:
            return payment_refresh(hub=hub, payment=payment), None
        customer_ref = GatewayCustomer.objects.get(hub=hub, account_id=payment.account_id).ref
        if payment.charge_sent_at is not None:
            try:
                found = gateway.intent_find(key=payment.key, customer_ref=customer_ref)
            except GatewayUnavailable:
                _status_set(payment, PaymentStatus.UNKNOWN)
                return payment, None
            except DomainError as exc:  # the gateway can't say: leave it for the next look, never charge blindly
                log.warning("payment %s: looking it up at the gateway failed: %s", payment.id, exc.message)
                return payment, None
            if found is not None:
                return _charge_answered(hub, payment, found), found
        else:
            payment.charge_sent_at = timezone.now()
            Payment.objects.filter(hub_id=payment.hub_id, id=payment.id).update(charge_sent_at=payment.charge_sent_at)
        crash_point("payment.before_charge")
        try:
            state = gateway.intent_create(
                key=payment.key, amount_minor=payment.price_minor, currency=payment.currency,
                customer_ref=customer_ref, payment_method_ref=payment.payment_method_ref,
                off_session=payment.off_session, description=f"{hub.name}: {payment.memo or 'top-up'}",
            )  # fmt: skip
        except GatewayUnavailable:
            _status_set(payment, PaymentStatus.UNKNOWN)
            return payment, None
        except ChargeDeclined as exc:
            _status_set(payment, PaymentStatus.FAILED, failure=exc.message, decline_code=exc.decline_code)
            return payment, None
        except DomainError as exc:
            _status_set(payment, PaymentStatus.FAILED, failure=exc.message)
            return payment, None
        crash_point("payment.after_charge")
        return _charge_answered(hub, payment, state), state


def _charge_answered(hub: Hub, payment: Payment, state: IntentState) -> Payment:
    Payment.objects.filter(hub_id=payment.hub_id, id=payment.id, gateway_ref="").update(gateway_ref=state.ref)
    payment.gateway_ref = state.ref
    return payment_settle(hub=hub, payment_id=payment.id, state=state)


def _status_set(payment: Payment, status: str, failure: str = "", decline_code: str = "") -> None:
    with transaction.atomic():
        changed = (
            Payment.objects.filter(hub_id=payment.hub_id, id=payment.id)
            .exclude(status__in=_FINAL)
            .update(status=status, failure_message=failure[:300], decline_code=decline_code[:40],
                    updated_at=timezone.now())
        )  # fmt: skip
        payment.status = status
        payment.failure_message = failure[:300]
        payment.decline_code = decline_code[:40]
        if changed and status == PaymentStatus.FAILED:
            events.payment_failed(payment=payment)


def payment_refresh(*, hub: Hub, payment: Payment) -> Payment:
    """Ask the gateway how the payment stands and record it (the customer's return, the webhook,
    the reconcile job). A charge whose answer was lost is looked up by its key, and sent again
    only if the gateway never saw it (see `_charge`)."""
    payment = Payment.objects.get(hub=hub, id=payment.id)
    if payment.status in _FINAL or not payment.payment_method_ref:
        return payment  # final, or no card given yet: nothing to ask
    if payment.status == PaymentStatus.FAILED and not payment.gateway_ref:
        return payment  # refused before the gateway made a charge: nothing to ask, nothing to retry
    gateway = gateway_for(hub)
    if not payment.gateway_ref:
        return _charge(hub, gateway, payment)[0]
    try:
        state = gateway.intent_get(payment.gateway_ref)
    except GatewayUnavailable:
        return payment  # still open; asked again on the next run
    return payment_settle(hub=hub, payment_id=payment.id, state=state)


def payment_confirmation_secret(*, hub: Hub, payment: Payment) -> str | None:
    """What the customer's browser needs to run their bank's check on this payment (None when the
    gateway does not answer right now)."""
    try:
        return gateway_for(hub).intent_get(payment.gateway_ref).client_secret
    except GatewayUnavailable:
        return None


def payment_settle(*, hub: Hub, payment_id: int, state: IntentState) -> Payment:
    """Record what the gateway says of a payment; post its credit once if it succeeded."""
    card = None
    if state.status == PaymentStatus.SUCCEEDED and state.payment_method_ref:
        payment = Payment.objects.get(hub=hub, id=payment_id)
        if payment.status != PaymentStatus.SUCCEEDED:
            # The card's facts, to keep a card the customer saves and to name it on the receipt.
            card = _card_known(hub, state.payment_method_ref)
            if card is None:
                try:
                    card = gateway_for(hub).card_get(state.payment_method_ref)
                except GatewayUnavailable:
                    card = None  # the credit matters more than the card's name; a saved card can be saved again
    with transaction.atomic():
        locked = locks.payment_locked(hub=hub, payment_id=payment_id)
        if locked is None:
            raise DomainError("not_found", "That payment does not exist at this hub.")
        payment = locked
        if payment.status in _FINAL:
            return payment  # told twice (redirect and webhook, a replayed event): nothing more
        if payment.gateway_ref and state.ref != payment.gateway_ref:
            raise DomainError("payment_mismatch", "That gateway payment belongs to another payment.")
        if state.status == PaymentStatus.SUCCEEDED:
            if (state.amount_minor, state.currency) != (payment.price_minor, payment.currency):
                log.error("payment %s: the gateway took %s %s, not %s %s; no credit posted", payment.id,
                          state.amount_minor, state.currency, payment.price_minor, payment.currency)  # fmt: skip
                raise DomainError("payment_mismatch", "The amount paid differs from the amount asked.")
            _credit_post(hub, payment, card=card)
            if card is not None and payment.save_card:
                _card_save(hub, payment, card)
            crash_point("payment.crediting")  # a crash here rolls the credit back with the rest
        else:
            payment.status = state.status
            payment.failure_message = state.failure_message[:300]
            payment.decline_code = state.decline_code[:40]
            payment.updated_at = timezone.now()
            payment.save(update_fields=["status", "failure_message", "decline_code", "updated_at"])
            if payment.status == PaymentStatus.FAILED:
                events.payment_failed(payment=payment)
    return payment


def _credit_post(
    hub: Hub,
    payment: Payment,
    *,
    source_code: str = SystemAccount.PAYMENTS_CLEARING,
    memo: str = "",
    actor: User | None = None,
    card: CardFacts | None = None,
) -> None:
    """Inside the payment's lock: the credit, the payment's new state and the receipt, together."""
    quote = Quote(
        currency=payment.currency, price_minor=payment.price_minor, unit=unit_get(hub_id=hub.id, code=payment.unit),
        paid_minor=payment.paid_minor, bonus_minor=payment.bonus_minor, bundle_name=payment.bundle_name,
    )  # fmt: skip
    # Stored in Hubtab's words, put in the reader's language when read (ledger.labels).
    memo = memo or payment.memo or CARD_TOP_UP_MEMO
    memo = f"{memo}: {payment.bundle_name}" if payment.bundle_name else memo
    posted = topup_credit_post(
        hub=hub,
        account_id=payment.account_id,
        quote=quote,
        key=f"payment:{payment.id}",
        source_code=source_code,
        memo=memo,
        actor_id=actor.id if actor else payment.created_by_id,
        reason=f"payment {payment.id} ({payment.gateway_ref})",
    )
    now = timezone.now()
    payment.status = PaymentStatus.SUCCEEDED
    payment.transaction_id = posted.transaction_id
    payment.failure_message = ""
    payment.settled_at = payment.updated_at = now
    payment.save(update_fields=["status", "transaction_id", "failure_message", "settled_at", "updated_at"])
    events.customer_topped_up(payment=payment, actor=actor)
    if payment.customer_id is not None:
        _receipt_queue(hub, payment, quote, card)
    transaction.on_commit(partial(_succeeded_announce, hub, payment.id))


def _succeeded_announce(hub: Hub, payment_id: int) -> None:
    """Tell the domains above (a checkout waiting for this payment) once the credit is committed;
    one that fails is logged and catches up when the customer returns."""
    for receiver, result in payment_succeeded.send_robust(sender=Payment, hub=hub, payment_id=payment_id):
        if isinstance(result, Exception):
            log.error("payment %s: %s failed after success: %r", payment_id, receiver, result)


def _receipt_queue(hub: Hub, payment: Payment, quote: Quote, card: CardFacts | None) -> None:
    """The receipt a customer keeps: what they paid and when, with which card, what it bought and
    their balance now (read inside the payment's transaction, so it includes this top-up)."""
    customer = payment.customer
    assert customer is not None
    balance_minor = account_state(hub_id=hub.id, account_id=payment.account_id).balance_minor
    with translation.override(hub.locale), timezone.override(hub.timezone):
        facts = {
            "name": customer.first_name or customer.full_name, "hub": hub.name,
            "paid": money_format(payment.price_minor, currency_unit(payment.currency), hub.locale),
            "credit": money_format(quote.total_minor, quote.unit, hub.locale),
            "when": moment_short(timezone.localtime(payment.settled_at or timezone.now()), hub.locale),
            "balance": money_format(balance_minor, quote.unit, hub.locale),
            "card": _("%(brand)s card ending in %(last4)s") % {"brand": card.brand.capitalize(), "last4": card.last4}
            if card else str(PaymentMethod(payment.method).label),
        }  # fmt: skip
    message_queue(hub=hub, customer=customer, kind="payment_receipt", dedupe_key=f"payment-receipt:{payment.id}",
                  template="payments/email/receipt", context=facts)  # fmt: skip
