"""Payments into customers' accounts: top-ups by card through the hub's gateway, and what the
gateway tells us about them afterwards.

Credit for a payment is posted exactly once, under the payment's row lock and with a ledger key of
its own, by whichever path learns of the success first: the customer's return to the shop, the
gateway's webhook, or the reconcile job that asks about payments whose outcome is unknown. No
network call is made while a database transaction is open.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hubtab.accounts.selectors import Quote, credit_settings_of, topup_quote
from hubtab.accounts.services import account_floor_change, purchase_legs, purchase_refund_legs
from hubtab.core.dates import moment_short, morning_of
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub, User
from hubtab.core.money import amount_check, currency_unit, money_format, reader_locale, unit_get
from hubtab.core.services import audit_money, audit_record
from hubtab.crm.models import Customer
from hubtab.ledger import services as ledger
from hubtab.ledger.models import Account
from hubtab.ledger.selectors import account_state
from hubtab.ledger.services import SystemAccount
from hubtab.messaging.services import delivery_queue
from hubtab.payments.gateway import CardFacts, GatewayUnavailable, IntentState, PaymentGateway, StripeGateway
from hubtab.payments.models import (
    AutoTopUp,
    AutoTopUpKind,
    AutoTopUpPeriod,
    CardLimitSuspension,
    GatewayAccount,
    GatewayCustomer,
    Payment,
    PaymentMethod,
    PaymentRefund,
    PaymentStatus,
    RefundStatus,
    SavedCard,
    WebhookEvent,
)
from hubtab.payments.signals import payment_succeeded

log = logging.getLogger(__name__)

# Memos are stored in Hubtab's words and shown in the reader's language (ledger.labels).
CARD_TOP_UP_MEMO = gettext_noop("Card top-up")
BANK_TRANSFER_MEMO = gettext_noop("Bank transfer")

# A payment whose outcome nobody told us about for this long is asked about by the reconcile job.
RECONCILE_AFTER = timedelta(minutes=5)
# Statuses a payment can still leave; SUCCEEDED and CANCELED are final, FAILED can still succeed
# (the customer tries again on the same payment with another card).
_FINAL = (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)


# --- the hub's gateway ----------------------------------------------------------------------------


def gateway_account_set(
    *, hub: Hub, actor: User | None, publishable_key: str, secret_key: str = "", webhook_secret: str = ""
) -> GatewayAccount:
    """Save the hub's Stripe keys. A blank secret keeps the one saved (it is never shown back)."""
    publishable_key = (publishable_key or "").strip()
    secret_key = (secret_key or "").strip()
    webhook_secret = (webhook_secret or "").strip()
    if not publishable_key.startswith("pk_"):
        raise DomainError("validation_error", _("The publishable key starts with pk_."))
    if secret_key and not secret_key.startswith(("sk_", "rk_")):
        raise DomainError("validation_error", _("The secret key starts with sk_ (or rk_ for a restricted key)."))
    if webhook_secret and not webhook_secret.startswith("whsec_"):
        raise DomainError("validation_error", _("The webhook signing secret starts with whsec_."))
    with transaction.atomic():
        account = GatewayAccount.objects.with_scopes_disabled().select_for_update().filter(hub=hub).first()
        if account is None and not secret_key:
            raise DomainError("validation_error", _("Enter the secret key."))
        account = account or GatewayAccount(hub=hub)
        account.publishable_key = publishable_key
        account.secret_key = secret_key or account.secret_key
        account.webhook_secret = webhook_secret or account.webhook_secret
        account.updated_at = timezone.now()
        account.updated_by = actor
        account.save()
        audit_record(hub=hub, actor=actor, action="payments.gateway", summary=gettext_noop("Changed the Stripe keys"),
                     subject=account, data={"secret_key": account.secret_key_hint})  # fmt: skip
    return account


def gateway_for(hub: Hub) -> PaymentGateway:
    account = GatewayAccount.objects.with_scopes_disabled().filter(hub=hub).first()
    if account is None:
        raise DomainError("payments_off", _("This hub does not take card payments yet."))
    return StripeGateway(secret_key=account.secret_key, webhook_secret=account.webhook_secret)


def _gateway_customer(hub: Hub, gateway: PaymentGateway, customer: Customer) -> str:
    """The gateway's customer for this account, created once (the key makes a retry safe)."""
    existing = GatewayCustomer.objects.with_scopes_disabled().filter(hub=hub, account_id=customer.account_id).first()
    if existing is not None:
        return existing.ref
    ref = gateway.customer_ensure(
        key=f"hubtab-customer-{hub.id}-{customer.account_id}", email=customer.email, name=customer.full_name
    )
    try:
        with transaction.atomic():
            GatewayCustomer.objects.with_scopes_disabled().create(hub=hub, account_id=customer.account_id, ref=ref)
    except IntegrityError:
        pass  # made at the same moment by another request, with the same key: the same customer
    return ref


# --- top-ups --------------------------------------------------------------------------------------


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
    elif method != PaymentMethod.BANK_TRANSFER or not settings.bank_transfer_details.strip():
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
    return Payment.objects.with_scopes_disabled().create(
        hub=hub, account_id=customer.account_id, customer=customer, currency=quote.currency,
        price_minor=quote.price_minor, unit=quote.unit.code, paid_minor=quote.paid_minor,
        bonus_minor=quote.bonus_minor, bundle_name=quote.bundle_name, key=f"topup-{uuid.uuid4()}",
        save_card=save_card and not is_transfer, created_by=actor, method=method,
        status=PaymentStatus.PENDING if is_transfer else PaymentStatus.CREATED,
    )  # fmt: skip


def transfer_reference(payment: Payment) -> str:
    """What the customer writes on their bank transfer, so that finance can match it."""
    return f"HT-{payment.hub_id}-{payment.id}"


def transfer_confirm(*, hub: Hub, actor: User, payment_id: int) -> Payment:
    """Finance saw the transfer arrive: the credit is posted, once (a second click does nothing)."""
    with transaction.atomic():
        payment = Payment.objects.with_scopes_disabled().select_for_update().filter(hub=hub, id=payment_id).first()
        if payment is None or payment.method != PaymentMethod.BANK_TRANSFER:
            raise DomainError("not_found", _("No such bank transfer at this hub."))
        if payment.status == PaymentStatus.SUCCEEDED:
            return payment
        if payment.status != PaymentStatus.PENDING:
            raise DomainError("payment_not_open", _("This transfer was cancelled."))
        _credit_post(hub, payment, source_code=SystemAccount.EXTERNAL_PAYMENTS,
                     memo=f"{BANK_TRANSFER_MEMO}: {transfer_reference(payment)}", actor=actor)  # fmt: skip
        audit_record(hub=hub, actor=actor, action="payment.transfer_confirm", subject=payment,
                     summary=gettext_noop("Confirmed the bank transfer %(ref)s"),
                     params={"ref": transfer_reference(payment)})  # fmt: skip
    return payment


def transfer_cancel(*, hub: Hub, actor: User, payment_id: int) -> Payment:
    """The transfer never came (or was made twice by mistake): it will not be credited."""
    with transaction.atomic():
        payment = Payment.objects.with_scopes_disabled().select_for_update().filter(hub=hub, id=payment_id).first()
        if payment is None or payment.method != PaymentMethod.BANK_TRANSFER:
            raise DomainError("not_found", _("No such bank transfer at this hub."))
        if payment.status != PaymentStatus.PENDING:
            raise DomainError("payment_not_open", _("Only a transfer still waiting can be cancelled."))
        payment.status = PaymentStatus.CANCELED
        payment.updated_at = timezone.now()
        payment.save(update_fields=["status", "updated_at"])
        audit_record(hub=hub, actor=actor, action="payment.transfer_cancel", subject=payment,
                     summary=gettext_noop("Cancelled the bank transfer %(ref)s"),
                     params={"ref": transfer_reference(payment)})  # fmt: skip
    return payment


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
    Payment.objects.with_scopes_disabled().filter(id=payment.id).update(setup_ref=setup_ref)
    payment.setup_ref = setup_ref
    return client_secret


def topup_charge(*, hub: Hub, payment_id: int) -> tuple[Payment, IntentState | None]:
    """Charge the card the customer just entered in the gateway's form. Sending the form twice
    charges once: the card is claimed under the payment's lock, and the charge carries the
    payment's key. The state is None when the gateway did not answer: the payment is UNKNOWN and
    the reconcile job asks again, with the same key."""
    payment = Payment.objects.with_scopes_disabled().get(hub=hub, id=payment_id)
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
        claimed = (
            Payment.objects.with_scopes_disabled()
            .filter(id=payment.id, status=PaymentStatus.CREATED, payment_method_ref="")
            .update(payment_method_ref=method_ref, updated_at=timezone.now())
        )
    if not claimed:  # already charged (the form sent twice): tell what we know
        return payment_refresh(hub=hub, payment=payment), None
    payment.payment_method_ref = method_ref
    return _charge(hub, gateway, payment)


def _charge(hub: Hub, gateway: PaymentGateway, payment: Payment) -> tuple[Payment, IntentState | None]:
    customer_ref = GatewayCustomer.objects.with_scopes_disabled().get(hub=hub, account_id=payment.account_id).ref
    try:
        state = gateway.intent_create(
            key=payment.key, amount_minor=payment.price_minor, currency=payment.currency, customer_ref=customer_ref,
            payment_method_ref=payment.payment_method_ref, off_session=payment.off_session,
            description=f"{hub.name}: top-up",
        )  # fmt: skip
    except GatewayUnavailable:
        _status_set(payment, PaymentStatus.UNKNOWN)
        return payment, None
    except DomainError as exc:
        _status_set(payment, PaymentStatus.FAILED, failure=exc.message)
        return payment, None
    Payment.objects.with_scopes_disabled().filter(id=payment.id, gateway_ref="").update(gateway_ref=state.ref)
    payment.gateway_ref = state.ref
    return payment_settle(hub=hub, payment_id=payment.id, state=state), state


def _status_set(payment: Payment, status: str, failure: str = "") -> None:
    Payment.objects.with_scopes_disabled().filter(id=payment.id).exclude(status__in=_FINAL).update(
        status=status, failure_message=failure[:300], updated_at=timezone.now()
    )
    payment.status = status
    payment.failure_message = failure[:300]


def payment_refresh(*, hub: Hub, payment: Payment) -> Payment:
    """Ask the gateway how the payment stands and record it (the customer's return, the webhook,
    the reconcile job). A charge whose answer was lost is sent again with the same key, which the
    gateway answers with the first charge rather than making a second one."""
    payment = Payment.objects.with_scopes_disabled().get(id=payment.id)
    if payment.status in _FINAL or not payment.payment_method_ref:
        return payment  # final, or no card given yet: nothing to ask
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
        payment = Payment.objects.with_scopes_disabled().get(hub=hub, id=payment_id)
        if payment.status != PaymentStatus.SUCCEEDED:
            # The card's facts, to keep a card the customer saves and to name it on the receipt.
            card = _card_known(hub, state.payment_method_ref)
            if card is None:
                try:
                    card = gateway_for(hub).card_get(state.payment_method_ref)
                except GatewayUnavailable:
                    card = None  # the credit matters more than the card's name; a saved card can be saved again
    with transaction.atomic():
        payment = Payment.objects.with_scopes_disabled().select_for_update().get(hub=hub, id=payment_id)
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
        else:
            payment.status = state.status
            payment.failure_message = state.failure_message[:300]
            payment.updated_at = timezone.now()
            payment.save(update_fields=["status", "failure_message", "updated_at"])
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
    account = Account.objects.with_scopes_disabled().get(hub_id=hub.id, id=payment.account_id)
    quote = Quote(
        currency=payment.currency, price_minor=payment.price_minor, unit=unit_get(hub_id=hub.id, code=payment.unit),
        paid_minor=payment.paid_minor, bonus_minor=payment.bonus_minor, bundle_name=payment.bundle_name,
    )  # fmt: skip
    # Stored in Hubtab's words, put in the reader's language when read (ledger.labels).
    memo = memo or CARD_TOP_UP_MEMO
    memo = f"{memo}: {payment.bundle_name}" if payment.bundle_name else memo
    posted = ledger.transaction_post(
        hub_id=hub.id,
        key=f"payment:{payment.id}",
        legs=purchase_legs(hub=hub, account=account, quote=quote, source_code=source_code),
        kind="top_up",
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
    if payment.customer_id is not None:
        _receipt_queue(hub, payment, quote, card)
    transaction.on_commit(partial(_succeeded_announce, hub, payment.id))


def _succeeded_announce(hub: Hub, payment_id: int) -> None:
    """Tell the domains above (a checkout waiting for this payment) once the credit is committed;
    one that fails is logged and catches up when the customer returns."""
    for receiver, result in payment_succeeded.send_robust(sender=Payment, hub=hub, payment_id=payment_id):
        if isinstance(result, Exception):
            log.error("payment %s: %s failed after success: %r", payment_id, receiver, result)


def _card_known(hub: Hub, payment_method_ref: str) -> CardFacts | None:
    saved = SavedCard.objects.with_scopes_disabled().filter(hub=hub, payment_method_ref=payment_method_ref).first()
    if saved is None:
        return None
    return CardFacts(payment_method_ref, saved.brand, saved.last4, saved.exp_month, saved.exp_year)


def _receipt_queue(hub: Hub, payment: Payment, quote: Quote, card: CardFacts | None) -> None:
    """The receipt a customer keeps: what they paid and when, with which card, what it bought and
    their balance now (read inside the payment's transaction, so it includes this top-up)."""
    customer = payment.customer
    assert customer is not None
    balance_minor = account_state(hub_id=hub.id, account_id=payment.account_id).balance_minor
    with translation.override(hub.locale), timezone.override(hub.timezone):
        paid = money_format(payment.price_minor, currency_unit(payment.currency), hub.locale)
        facts = {
            "name": customer.first_name or customer.full_name, "paid": paid, "hub": hub.name,
            "credit": money_format(quote.total_minor, quote.unit, hub.locale),
            "when": moment_short(timezone.localtime(payment.settled_at or timezone.now()), hub.locale),
            "balance": money_format(balance_minor, quote.unit, hub.locale),
            "card": _("%(brand)s card ending in %(last4)s") % {"brand": card.brand.capitalize(), "last4": card.last4}
            if card else str(PaymentMethod(payment.method).label),
        }  # fmt: skip
        delivery_queue(
            hub=hub,
            customer=customer,
            kind="payment_receipt",
            dedupe_key=f"payment-receipt:{payment.id}",
            subject=_("%(hub)s: your top-up of %(paid)s") % {"hub": hub.name, "paid": paid},
            body=_(
                "Hello %(name)s,\n\nThank you: we received %(paid)s and added %(credit)s to your account at %(hub)s."
                "\n\nPaid: %(when)s\nPaid with: %(card)s\nYour balance now: %(balance)s\n"
            )
            % facts,
        )


def _card_save(hub: Hub, payment: Payment, card: CardFacts) -> None:
    """Keep the card's facts (inside the payment's lock), and give back a limit its expiry took."""
    customer_ref = GatewayCustomer.objects.with_scopes_disabled().get(hub=hub, account_id=payment.account_id).ref
    SavedCard.objects.with_scopes_disabled().update_or_create(
        hub=hub, payment_method_ref=card.payment_method_ref,
        defaults={
            "account_id": payment.account_id, "gateway_customer_ref": customer_ref, "brand": card.brand,
            "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year, "removed_at": None,
        },
    )  # fmt: skip
    card_limit_restore(hub=hub, account_id=payment.account_id)


# --- webhooks and the reconcile job ---------------------------------------------------------------


class WebhookRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def webhook_receive(*, hub_slug: str, payload: bytes, signature: str) -> str:
    """Handle one signed event from the hub's gateway. The event is only a nudge: the payment's
    state is asked from the gateway, so events that come twice or out of order change nothing.
    Returns what was done; raises WebhookRefused (and writes nothing) for a bad signature, an
    unknown hub or a payment that is not this hub's."""
    hub = Hub.objects.filter(slug=hub_slug).first()
    if hub is None:
        raise WebhookRefused(404, f"no hub {hub_slug!r}")
    try:
        gateway = gateway_for(hub)
        event = gateway.event_parse(payload=payload, signature=signature)
    except DomainError as exc:
        raise WebhookRefused(400, f"hub {hub.slug}: {exc.message}") from exc
    if not event.type.startswith("payment_intent."):
        return f"ignored {event.type}"
    payment = Payment.objects.with_scopes_disabled().filter(hub=hub, gateway_ref=event.object_ref).first()
    if payment is None:
        reason = f"hub {hub.slug}: {event.type} {event.event_id} is for an unknown payment {event.object_ref}"
        raise WebhookRefused(404, reason)
    if WebhookEvent.objects.with_scopes_disabled().filter(hub=hub, event_id=event.event_id).exists():
        return f"duplicate {event.event_id}"
    payment = payment_refresh(hub=hub, payment=payment)
    try:
        with transaction.atomic():
            WebhookEvent.objects.with_scopes_disabled().create(
                hub=hub, event_id=event.event_id, type=event.type, payment=payment
            )
    except IntegrityError:
        return f"duplicate {event.event_id}"
    return f"payment {payment.id} is {payment.status}"


def payments_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Ask the gateway about every payment left open for a while (a timeout, a lost webhook, a
    customer who closed the page), in every hub. Safe to run twice or concurrently."""
    now = now or timezone.now()
    counts = {"checked": 0, "succeeded": 0}
    open_payments = Payment.objects.with_scopes_disabled().filter(
        status__in=[PaymentStatus.UNKNOWN, PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION],
        payment_method_ref__gt="",  # a card was given: there is something to ask about
        updated_at__lt=now - RECONCILE_AFTER,
        created_at__gt=now - timedelta(days=7),  # Stripe keeps idempotency keys for 24 h; older ones are dead
    )
    for payment in open_payments.select_related("hub", "customer").order_by("id")[:500]:
        counts["checked"] += 1
        try:
            settled = payment_refresh(hub=payment.hub, payment=payment)
        except DomainError as exc:
            log.warning("reconcile: payment %s: %s", payment.id, exc.message)
            continue
        counts["succeeded"] += settled.status == PaymentStatus.SUCCEEDED
        if settled.status == payment.status:  # nothing new: look again later, not on every run
            Payment.objects.with_scopes_disabled().filter(id=payment.id).update(updated_at=now)
    return counts


# A card top-up nobody went on with (the card never charged) is closed after this long.
ABANDONED_AFTER = timedelta(hours=24)


def payments_abandoned_close(*, now: datetime | None = None) -> int:
    """Close card top-ups left waiting for the customer: started, never charged, a day old. One
    statement each, on the same condition the charge claims its card under (still created, no
    card claimed), so a customer paying at that moment either pays or finds it closed, never both."""
    now = now or timezone.now()
    message = gettext_noop("Not paid within a day: nothing was charged.")  # translated where it is shown
    return (
        Payment.objects.with_scopes_disabled()
        .filter(
            status=PaymentStatus.CREATED,
            payment_method_ref="",
            method=PaymentMethod.CARD,
            created_at__lt=now - ABANDONED_AFTER,
        )
        .update(status=PaymentStatus.CANCELED, failure_message=message, updated_at=now)
    )


# --- refunds to the card --------------------------------------------------------------------------


def payment_refund(
    *, hub: Hub, actor: User, payment_id: int, amount_minor: int, reason: str, key: str
) -> PaymentRefund:
    """Give money back to the card a top-up came from (finance). The paid credit it bought is taken
    from the account first, in proportion (granted credit, bonuses included, is never refunded);
    then the gateway is asked. Sending the same form twice refunds once."""
    refund = payment_refund_prepare(
        hub=hub, actor=actor, payment_id=payment_id, amount_minor=amount_minor, reason=reason, key=key
    )
    return refund_send(hub=hub, refund=refund)


def refund_credit_minor(payment: Payment, amount_minor: int) -> int:
    """The paid credit a refund of `amount_minor` (money) takes back: in proportion, so that
    refunding the whole payment takes exactly what it bought."""
    return (payment.refunded_minor + amount_minor) * payment.paid_minor // payment.price_minor - (
        payment.refunded_minor * payment.paid_minor // payment.price_minor
    )


def payment_refund_prepare(
    *, hub: Hub, actor: User, payment_id: int, amount_minor: int, reason: str, key: str
) -> PaymentRefund:
    """The database half of a refund to the card, in one transaction (a caller's, when it has one):
    the paid credit is taken from the account and the refund recorded, to be sent by `refund_send`
    (or by the reconcile job, if nothing sends it)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("comment_required", _("Say why: the reason is kept with the refund."))
    amount_check(amount_minor)
    existing = PaymentRefund.objects.with_scopes_disabled().filter(hub=hub, key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        payment = Payment.objects.with_scopes_disabled().select_for_update().filter(hub=hub, id=payment_id).first()
        if payment is None:
            raise DomainError("not_found", _("That payment does not exist at this hub."))
        if payment.status != PaymentStatus.SUCCEEDED or not payment.gateway_ref:
            raise DomainError("not_refundable", _("Only a card payment that went through can be refunded."))
        left = payment.card_refundable_minor
        if amount_minor > left:
            currency = currency_unit(payment.currency)
            raise DomainError(
                "not_refundable",
                _("At most %(left)s of this payment can still be refunded.")
                % {"left": money_format(left, currency, reader_locale())},
            )
        credit_minor = refund_credit_minor(payment, amount_minor)
        if credit_minor <= 0:
            raise DomainError("invalid_amount", _("That amount is too small to give back any credit."))
        account = Account.objects.with_scopes_disabled().get(hub_id=hub.id, id=payment.account_id)
        unit = unit_get(hub_id=hub.id, code=payment.unit)
        quote = Quote(currency=payment.currency, price_minor=amount_minor, unit=unit, paid_minor=credit_minor,
                      bonus_minor=0)  # fmt: skip
        refund = PaymentRefund.objects.with_scopes_disabled().create(
            hub=hub, payment=payment, amount_minor=amount_minor, credit_minor=credit_minor, key=key,
            reason=reason[:500], actor=actor,
        )  # fmt: skip
        posted = ledger.paid_credit_take(
            hub_id=hub.id, account_id=account.id, amount_minor=credit_minor, key=f"refund:{refund.id}",
            legs=purchase_refund_legs(
                hub=hub, account=account, quote=quote, source_code=SystemAccount.PAYMENTS_CLEARING
            ),
            kind="refund_to_card", memo=gettext_noop("Refund to card"), actor_id=actor.id, reason=reason,
        )  # fmt: skip
        refund.transaction_id = posted.transaction_id
        refund.save(update_fields=["transaction_id"])
        payment.refunded_minor += amount_minor
        payment.save(update_fields=["refunded_minor"])
        audit_record(
            hub=hub, actor=actor, action="payment.refund", subject=account,
            summary=gettext_noop("Refunded %(amount)s to the card: %(reason)s"),
            params={"amount": audit_money(amount_minor, payment.currency), "reason": reason},
            data={"payment_id": payment.id, "refund_id": refund.id, "credit_minor": credit_minor},
        )  # fmt: skip
    return refund


def refund_send(*, hub: Hub, refund: PaymentRefund) -> PaymentRefund:
    """Ask the gateway to send the refund (again, with the same key, after a timeout)."""
    if refund.status not in (RefundStatus.PENDING, RefundStatus.UNKNOWN):
        return refund
    try:
        gateway_ref = gateway_for(hub).refund(key=refund.key, intent_ref=refund.payment.gateway_ref,
                                              amount_minor=refund.amount_minor)  # fmt: skip
    except GatewayUnavailable:
        PaymentRefund.objects.with_scopes_disabled().filter(id=refund.id).update(
            status=RefundStatus.UNKNOWN, updated_at=timezone.now()
        )
        refund.status = RefundStatus.UNKNOWN
        return refund
    except DomainError as exc:
        return _refund_refused(hub, refund, exc.message)
    PaymentRefund.objects.with_scopes_disabled().filter(id=refund.id).update(
        status=RefundStatus.SUCCEEDED, gateway_ref=gateway_ref, updated_at=timezone.now()
    )
    refund.status, refund.gateway_ref = RefundStatus.SUCCEEDED, gateway_ref
    return refund


def _refund_refused(hub: Hub, refund: PaymentRefund, message: str) -> PaymentRefund:
    """The gateway said no: the credit taken for it goes back to the account, once."""
    with transaction.atomic():
        locked = PaymentRefund.objects.with_scopes_disabled().select_for_update().get(id=refund.id)
        if locked.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
            return locked
        reversal = ledger.transaction_reverse(
            hub_id=hub.id, transaction_id=locked.transaction_id, key=f"refund-refused:{locked.id}",
            reason=f"The card refund was refused: {message}"[:500],
        )  # fmt: skip
        Payment.objects.with_scopes_disabled().filter(id=locked.payment_id).update(
            refunded_minor=F("refunded_minor") - locked.amount_minor
        )
        locked.status = RefundStatus.FAILED
        locked.failure_message = message[:300]
        locked.reversal_transaction_id = reversal.transaction_id
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "failure_message", "reversal_transaction_id", "updated_at"])
    return locked


def refunds_reconcile() -> int:
    """Send again every refund whose answer was lost (same key: the gateway refunds once)."""
    sent = 0
    for refund in (
        PaymentRefund.objects.with_scopes_disabled()
        .filter(
            status__in=[RefundStatus.PENDING, RefundStatus.UNKNOWN], updated_at__lt=timezone.now() - RECONCILE_AFTER
        )
        .select_related("hub", "payment")[:200]
    ):
        sent += refund_send(hub=refund.hub, refund=refund).status == RefundStatus.SUCCEEDED
    return sent


# --- auto top-up ----------------------------------------------------------------------------------

# Interval top-ups are charged from this hour of the hub's morning on.


def auto_top_up_set(
    *, hub: Hub, customer: Customer, card_id: int, kind: str, threshold_minor: int | None = None,
    target_minor: int | None = None, amount_minor: int | None = None, period: str = "", active: bool = True,
) -> AutoTopUp:  # fmt: skip
    """Set the customer's one auto top-up rule (saving it again re-arms a threshold rule)."""
    card = (
        SavedCard.objects.with_scopes_disabled()
        .filter(hub=hub, account_id=customer.account_id, id=card_id, removed_at__isnull=True)
        .first()
    )
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
    rule, _created = AutoTopUp.objects.with_scopes_disabled().update_or_create(
        hub=hub, account_id=customer.account_id,
        defaults={
            "customer": customer, "card": card, "kind": kind, "threshold_minor": threshold_minor,
            "target_minor": target_minor, "amount_minor": amount_minor, "period": period, "active": active,
            "armed": True, "updated_at": timezone.now(),
        },
    )  # fmt: skip
    return rule


def card_expired(card: SavedCard, now: datetime) -> bool:
    """A card is good to the end of its expiry month."""
    return (now.year, now.month) > (card.exp_year, card.exp_month)


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
    rules = AutoTopUp.objects.with_scopes_disabled().filter(active=True).select_related("hub", "card", "customer")
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
                AutoTopUp.objects.with_scopes_disabled().filter(id=rule.id).update(armed=True)
            return None
        with transaction.atomic():
            locked = AutoTopUp.objects.with_scopes_disabled().select_for_update().get(id=rule.id)
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
    if Payment.objects.with_scopes_disabled().filter(hub=hub, key=key).exists():
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
    customer_ref = rule.card.gateway_customer_ref
    GatewayCustomer.objects.with_scopes_disabled().get_or_create(
        hub=hub, account_id=rule.account_id, defaults={"ref": customer_ref}
    )
    try:
        with transaction.atomic():
            return Payment.objects.with_scopes_disabled().create(
                hub=hub, account_id=rule.account_id, customer=rule.customer, currency=quote.currency,
                price_minor=quote.price_minor, unit=quote.unit.code, paid_minor=quote.paid_minor,
                bonus_minor=quote.bonus_minor, bundle_name=quote.bundle_name, key=key, off_session=True,
                payment_method_ref=rule.card.payment_method_ref,
            )  # fmt: skip
    except IntegrityError:
        return None  # another run made it first


def _auto_notice(hub: Hub, payment: Payment, what: str) -> None:
    customer = payment.customer
    if customer is None:
        return
    link = f"{django_settings.HUBTAB_BASE_URL}{reverse('topup_done', args=[hub.slug, payment.id])}"
    with translation.override(hub.locale):
        paid = money_format(payment.price_minor, currency_unit(payment.currency), hub.locale)
        if what == "action":
            subject = _("%(hub)s: confirm your automatic top-up of %(paid)s") % {"hub": hub.name, "paid": paid}
            body = _(
                "Hello %(name)s,\n\nYour bank wants you to confirm the automatic top-up of %(paid)s at %(hub)s. "
                "Nothing is taken until you do:\n\n%(link)s\n"
            )
        else:
            subject = _("%(hub)s: your automatic top-up of %(paid)s failed") % {"hub": hub.name, "paid": paid}
            body = _(
                "Hello %(name)s,\n\nThe automatic top-up of %(paid)s at %(hub)s did not go through (%(why)s). "
                "Nothing was taken. You can top up or save another card here:\n\n%(link)s\n"
            )
        body = body % {"name": customer.first_name or customer.full_name, "paid": paid, "hub": hub.name,
                       "link": link, "why": payment.failure_message or _("declined")}  # fmt: skip
        delivery_queue(hub=hub, customer=customer, kind=f"auto_top_up_{what}",
                       dedupe_key=f"auto-top-up-{what}:{payment.id}", subject=subject, body=body)  # fmt: skip


# --- cards that expire ----------------------------------------------------------------------------


def cards_expiry_run(*, now: datetime | None = None) -> dict[str, int]:
    """Find saved cards past their expiry, once each. Where the hub backs debt with cards and the
    customer has no other valid card, their spending limit drops to 0. Limits dropped earlier come
    back to the hub's default once a valid card is saved and the balance is at or above 0."""
    now = now or timezone.now()
    counts = {"expired": 0, "limits_dropped": 0, "limits_restored": 0}
    fresh = SavedCard.objects.with_scopes_disabled().filter(removed_at__isnull=True, expired_at__isnull=True)
    for card in fresh.select_related("hub").order_by("id"):
        if not card_expired(card, now):
            continue
        claimed = (
            SavedCard.objects.with_scopes_disabled().filter(id=card.id, expired_at__isnull=True).update(expired_at=now)
        )
        if not claimed:
            continue  # another run saw it first
        counts["expired"] += 1
        hub = card.hub
        if credit_settings_of(hub=hub).card_backed_floor and not _valid_card_exists(hub, card.account_id, now):
            counts["limits_dropped"] += _limit_suspend(hub, card.account_id)
    for suspension in CardLimitSuspension.objects.with_scopes_disabled().select_related("hub").order_by("id"):
        counts["limits_restored"] += card_limit_restore(hub=suspension.hub, account_id=suspension.account_id, now=now)
    return counts


def _valid_card_exists(hub: Hub, account_id: int, now: datetime) -> bool:
    cards = SavedCard.objects.with_scopes_disabled().filter(hub=hub, account_id=account_id, removed_at__isnull=True)
    return any(not card_expired(card, now) for card in cards)


def _limit_suspend(hub: Hub, account_id: int) -> int:
    account = Account.objects.with_scopes_disabled().get(hub_id=hub.id, id=account_id)
    if (account.floor_minor or 0) >= 0:
        return 0  # no debt allowed anyway
    with transaction.atomic():
        _row, created = CardLimitSuspension.objects.with_scopes_disabled().get_or_create(
            hub=hub, account_id=account_id, defaults={"floor_before_minor": account.floor_minor or 0}
        )
        if created:
            account_floor_change(hub=hub, account_id=account_id, floor_minor=0, why="the saved card expired")
    return int(created)


def card_limit_restore(*, hub: Hub, account_id: int, now: datetime | None = None) -> int:
    """Give back the hub's default limit to an account whose card had expired, if it now has a
    valid card and a balance at or above 0. Returns 1 if it did."""
    now = now or timezone.now()
    if not _valid_card_exists(hub, account_id, now):
        return 0
    if account_state(hub_id=hub.id, account_id=account_id).balance_minor < 0:
        return 0
    with transaction.atomic():
        deleted, _rows = (
            CardLimitSuspension.objects.with_scopes_disabled().filter(hub=hub, account_id=account_id).delete()
        )
        if deleted:
            account_floor_change(hub=hub, account_id=account_id, floor_minor=credit_settings_of(hub=hub)
                                 .default_floor_minor, why="a valid card was saved")  # fmt: skip
    return int(bool(deleted))


# --- saving a card without a payment (the customer, or finance for a customer on the phone) ------


def _unavailable() -> DomainError:
    return DomainError("gateway_unavailable", _("The payment provider is not answering; try again shortly."))


def card_setup_start(*, hub: Hub, customer: Customer) -> tuple[str, str]:
    """The gateway's card form for saving a card: (setup reference, client secret)."""
    gateway = gateway_for(hub)
    try:
        customer_ref = _gateway_customer(hub, gateway, customer)
        return gateway.setup_create(key=f"card-setup-{uuid.uuid4()}", customer_ref=customer_ref)
    except GatewayUnavailable:
        raise DomainError(
            "gateway_unavailable", _("The payment provider is not answering; try again shortly.")
        ) from None


def card_setup_finish(*, hub: Hub, customer: Customer, setup_ref: str, actor: User | None) -> SavedCard:
    """Keep the card the gateway's form saved (its facts only), and give back a limit an expired
    card took, where the balance allows."""
    gateway = gateway_for(hub)
    customer_ref = (
        GatewayCustomer.objects.with_scopes_disabled().filter(hub=hub, account_id=customer.account_id).first()
    )
    try:
        status, method_ref = gateway.setup_get(setup_ref)
        card = gateway.card_get(method_ref) if status == "succeeded" and method_ref else None
    except GatewayUnavailable:
        raise DomainError(
            "gateway_unavailable", _("The payment provider is not answering; try again shortly.")
        ) from None
    if card is None or customer_ref is None:
        raise DomainError("card_not_ready", _("The card was not accepted; check it and try again."))
    with transaction.atomic():
        saved, _created = SavedCard.objects.with_scopes_disabled().update_or_create(
            hub=hub, payment_method_ref=card.payment_method_ref,
            defaults={
                "account_id": customer.account_id, "gateway_customer_ref": customer_ref.ref, "brand": card.brand,
                "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year, "removed_at": None,
            },
        )  # fmt: skip
        if actor is not None and actor.pk != getattr(customer, "user_id", None):
            audit_record(hub=hub, actor=actor, action="payment.card_saved", subject=customer,
                         summary=gettext_noop("Saved a card for the customer: %(brand)s ending %(last4)s"),
                         params={"brand": card.brand, "last4": card.last4})  # fmt: skip
        card_limit_restore(hub=hub, account_id=customer.account_id)
    return saved
