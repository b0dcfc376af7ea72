"""The one face Hubtab's payments use to talk to a payment provider (`PaymentGateway`), and its
Stripe implementation on the official SDK. Nothing here touches the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import stripe
from django.conf import settings

from hubtab.core.errors import DomainError

log = logging.getLogger(__name__)


def stripe_js_url() -> str:
    """Where pages load Stripe.js from: Stripe, or the fake server the API base points at."""
    if settings.HUBTAB_STRIPE_JS_URL:
        return str(settings.HUBTAB_STRIPE_JS_URL)
    base = settings.HUBTAB_STRIPE_API_BASE
    return f"{base}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


class GatewayUnavailable(Exception):  # a state, not a bug: the outcome is unknown
    """The gateway did not answer (timeout, network): what happened is unknown until reconciled."""


class ChargeDeclined(DomainError):
    """The bank said no and the gateway's answer held no payment to show it in (a decline that
    carries one comes back as that payment's state instead, status "failed")."""

    def __init__(self, message: str, *, decline_code: str, intent_ref: str = "") -> None:
        super().__init__("card_declined", message)
        self.decline_code = decline_code  # the bank's reason, e.g. "insufficient_funds", "lost_card"
        self.intent_ref = intent_ref  # the declined payment, when the gateway named it


@dataclass(frozen=True)
class IntentState:
    """A payment as the gateway sees it, in Hubtab's terms (`PaymentStatus` values)."""

    ref: str
    status: str
    amount_minor: int
    currency: str
    client_secret: str = ""
    payment_method_ref: str = ""
    failure_message: str = ""
    # Why the last attempt failed: the bank's decline code ("lost_card", "insufficient_funds"), or
    # else the gateway's error code ("card_declined", "authentication_required").
    decline_code: str = ""


@dataclass(frozen=True)
class CardFacts:
    payment_method_ref: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class GatewayEvent:
    event_id: str
    type: str
    object_ref: str  # the PaymentIntent or SetupIntent it is about


class PaymentGateway(Protocol):
    def customer_ensure(self, *, key: str, email: str, name: str) -> str: ...

    def intent_create(
        self, *, key: str, amount_minor: int, currency: str, customer_ref: str, payment_method_ref: str,
        off_session: bool, description: str,
    ) -> IntentState: ...  # fmt: skip

    def intent_get(self, ref: str) -> IntentState: ...

    def intent_find(self, *, key: str, customer_ref: str) -> IntentState | None: ...

    def intent_cancel(self, ref: str) -> IntentState: ...

    def setup_create(self, *, key: str, customer_ref: str) -> tuple[str, str]: ...

    def setup_get(self, ref: str) -> tuple[str, str]: ...

    def card_get(self, payment_method_ref: str) -> CardFacts: ...

    def refund(self, *, key: str, intent_ref: str, amount_minor: int) -> str: ...

    def event_parse(self, *, payload: bytes, signature: str) -> GatewayEvent: ...


# Stripe's PaymentIntent statuses, as Hubtab's.
_STATUS = {
    "requires_payment_method": "created",
    "requires_confirmation": "created",
    "requires_action": "requires_action",
    "processing": "pending",
    "requires_capture": "pending",
    "succeeded": "succeeded",
    "canceled": "canceled",
}


class StripeGateway:
    """Stripe, with the hub's own keys. `api_base` points the SDK at another server speaking
    Stripe's API (localstripe in tests and the demo)."""

    def __init__(self, *, secret_key: str, webhook_secret: str = "", api_base: str | None = None) -> None:
        base = api_base if api_base is not None else settings.HUBTAB_STRIPE_API_BASE
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": base} if base else {},
            # The SDK retries network failures with the same idempotency key, so a retry is safe.
            max_network_retries=settings.HUBTAB_STRIPE_RETRIES,
            http_client=stripe.new_default_http_client(timeout=settings.HUBTAB_STRIPE_TIMEOUT),
        )

    def _call(self, what: str, call: Any) -> Any:
        try:
            return call()
        except stripe.APIConnectionError as exc:
            log.warning("stripe: %s got no answer: %s", what, exc)
            raise GatewayUnavailable(str(exc)) from exc
        except stripe.CardError as exc:
            # A decline comes back as an error, with the intent in its failed state.
            error = exc.error
            intent = getattr(error, "payment_intent", None)
            if intent is not None and not isinstance(intent, str):
                return intent
            raise ChargeDeclined(
                exc.user_message or "The card was declined.",
                decline_code=str(getattr(error, "decline_code", None) or exc.code or ""),
                intent_ref=str(getattr(intent, "id", intent) or ""),
            ) from exc
        except stripe.StripeError as exc:
            log.warning("stripe: %s refused: %s", what, exc)
            raise DomainError("gateway_error", exc.user_message or "The payment provider refused the request.") from exc

    def customer_ensure(self, *, key: str, email: str, name: str) -> str:
        customer = self._call(
            "customer create",
            lambda: self.client.v1.customers.create(
                params={"email": email, "name": name}, options={"idempotency_key": key}
            ),
        )
        return str(customer.id)

    def intent_create(
        self, *, key: str, amount_minor: int, currency: str, customer_ref: str, payment_method_ref: str,
        off_session: bool, description: str,
    ) -> IntentState:  # fmt: skip
        """Charge a card the customer has just given (on session: the bank may ask them to
        authenticate) or saved before (off session). `key` makes a retry of the same charge safe."""
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": customer_ref,
            "payment_method": payment_method_ref,
            "confirm": True,
            "metadata": {"hubtab_key": key, "hubtab_what": description},
        }
        if off_session:
            params["off_session"] = True
        intent = self._call(
            "charge",
            lambda: self.client.v1.payment_intents.create(params=params, options={"idempotency_key": key}),  # type: ignore[arg-type]
        )
        return _intent_state(intent)

    def intent_get(self, ref: str) -> IntentState:
        return _intent_state(self._call("payment intent get", lambda: self.client.v1.payment_intents.retrieve(ref)))

    def intent_find(self, *, key: str, customer_ref: str) -> IntentState | None:
        """The customer's payment made with `key` (`intent_create` keeps it in the metadata), or
        None if there is none: how a charge whose answer was lost is found again, never made blindly
        a second time. Newest first, so a key sent twice without the gateway's idempotency (more
        than a day apart) gives its latest payment."""

        def search() -> Any:
            first = self.client.v1.payment_intents.list(params={"customer": customer_ref, "limit": 100})
            for intent in first.auto_paging_iter():
                metadata = getattr(intent, "metadata", None)
                if metadata is not None and "hubtab_key" in metadata and metadata["hubtab_key"] == key:
                    return intent
            return None

        intent = self._call("payment intent find", search)
        return _intent_state(intent) if intent is not None else None

    def intent_cancel(self, ref: str) -> IntentState:
        """Cancel a payment still waiting (e.g. for the customer's bank check). One that is already
        final (succeeded, canceled) cannot be: its state is the answer."""
        try:
            intent = self._call("payment intent cancel", lambda: self.client.v1.payment_intents.cancel(ref))
        except DomainError:
            return self.intent_get(ref)  # a ref the gateway does not know raises here
        return _intent_state(intent)

    def setup_create(self, *, key: str, customer_ref: str) -> tuple[str, str]:
        params: dict[str, Any] = {"customer": customer_ref, "payment_method_types": ["card"], "usage": "off_session"}
        setup = self._call(
            "setup intent create",
            lambda: self.client.v1.setup_intents.create(params=params, options={"idempotency_key": key}),  # type: ignore[arg-type]
        )
        return str(setup.id), str(setup.client_secret)

    def setup_get(self, ref: str) -> tuple[str, str]:
        setup = self._call("setup intent get", lambda: self.client.v1.setup_intents.retrieve(ref))
        method = setup.payment_method
        return str(setup.status), str(getattr(method, "id", method) or "")

    def card_get(self, payment_method_ref: str) -> CardFacts:
        method = self._call("card get", lambda: self.client.v1.payment_methods.retrieve(payment_method_ref))
        card = method.card
        return CardFacts(
            payment_method_ref=str(method.id),
            brand=str(card.brand),
            last4=str(card.last4),
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
        )

    def refund(self, *, key: str, intent_ref: str, amount_minor: int) -> str:
        refund = self._call(
            "refund",
            lambda: self.client.v1.refunds.create(
                params={"payment_intent": intent_ref, "amount": amount_minor}, options={"idempotency_key": key}
            ),
        )
        return str(refund.id)

    def event_parse(self, *, payload: bytes, signature: str) -> GatewayEvent:
        """The event, if Stripe's signature over it is good (raises DomainError otherwise)."""
        if not self.webhook_secret:
            raise DomainError("webhook_not_configured", "This hub has no webhook signing secret.")
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise DomainError("bad_signature", f"The webhook signature does not verify: {exc}") from exc
        obj = event.data.object
        return GatewayEvent(event_id=str(event.id), type=str(event.type), object_ref=str(getattr(obj, "id", "")))


def _intent_state(intent: Any) -> IntentState:
    error = getattr(intent, "last_payment_error", None)
    status = _STATUS.get(str(intent.status), "unknown")
    if status == "created" and error:
        status = "failed"  # declined: the customer may try again with another card
    # After a decline Stripe may clear the intent's payment method; the error still names it.
    method = getattr(intent, "payment_method", None) or (getattr(error, "payment_method", None) if error else None)
    return IntentState(
        ref=str(intent.id),
        status=status,
        amount_minor=int(intent.amount),
        currency=str(intent.currency).upper(),
        client_secret=str(getattr(intent, "client_secret", "") or ""),
        payment_method_ref=str(getattr(method, "id", method) or ""),
        failure_message=str(getattr(error, "message", "") or "") if error else "",
        decline_code=str(getattr(error, "decline_code", None) or getattr(error, "code", None) or "") if error else "",
    )
