"""The gateway's look-ups for scheduled off-session charges, through the official SDK against the
Stripe proxy in front of localstripe: a charge found again by its key after its answer was lost,
banks' decline codes, and a payment waiting on the customer cancelled."""

import pytest
import stripe

from hubtab.core.errors import DomainError
from hubtab.payments.gateway import ChargeDeclined, GatewayUnavailable, IntentState, StripeGateway
from hubtab.payments.services import gateway_for
from hubtab.testing import stripe_card_entered

DECLINING_CARD = "4000000000000341"  # saved fine, every charge declined (the proxy says why)
BANK_CHECK_CARD = "4000002500003155"  # the bank asks the customer on every charge


def _customer_with_card(gateway, proxy_url, name, card="4242424242424242"):
    """A gateway customer with a card saved through the card form: (customer ref, payment method ref)."""
    customer_ref = gateway.customer_ensure(key=f"customer-{name}", email=f"{name}@example.org", name=name)
    setup_ref, client_secret = gateway.setup_create(key=f"setup-{name}", customer_ref=customer_ref)
    stripe_card_entered(proxy_url, client_secret, card)
    status, method_ref = gateway.setup_get(setup_ref)
    assert status == "succeeded"
    return customer_ref, method_ref


def _charge(gateway, customer_ref, method_ref, key, amount_minor=1500):
    return gateway.intent_create(
        key=key, amount_minor=amount_minor, currency="EUR", customer_ref=customer_ref,
        payment_method_ref=method_ref, off_session=True, description="debt",
    )  # fmt: skip


def test_a_charge_is_found_again_by_its_key_among_its_customers_payments_only(stripe_proxy_hub, stripe_proxy):
    gateway = gateway_for(stripe_proxy_hub)
    marie, marie_card = _customer_with_card(gateway, stripe_proxy.url, "marie")
    paul, paul_card = _customer_with_card(gateway, stripe_proxy.url, "paul")
    charged = _charge(gateway, marie, marie_card, "debt-marie-1")
    _charge(gateway, marie, marie_card, "debt-marie-2", amount_minor=700)
    pauls = _charge(gateway, paul, paul_card, "debt-paul-1")

    found = gateway.intent_find(key="debt-marie-1", customer_ref=marie)
    assert found == charged and found.status == "succeeded" and found.amount_minor == 1500
    assert gateway.intent_find(key="debt-marie-3", customer_ref=marie) is None  # never made
    assert gateway.intent_find(key="debt-paul-1", customer_ref=marie) is None  # another customer's
    assert gateway.intent_find(key="debt-paul-1", customer_ref=paul) == pauls


def test_the_proxy_lists_a_customers_payments_newest_first_page_by_page(stripe_proxy_hub, stripe_proxy):
    gateway = gateway_for(stripe_proxy_hub)
    marie, card = _customer_with_card(gateway, stripe_proxy.url, "marie")
    refs = [_charge(gateway, marie, card, f"debt-{n}").ref for n in range(3)]
    client = stripe.StripeClient("sk_test_hubtab", base_addresses={"api": stripe_proxy.url})

    first = client.v1.payment_intents.list(params={"customer": marie, "limit": 2})
    assert [intent.id for intent in first.data] == refs[::-1][:2] and first.has_more
    assert [intent.id for intent in first.auto_paging_iter()] == refs[::-1]  # the SDK follows the pages
    assert client.v1.payment_intents.list(params={"customer": "cus_nobody"}).data == []


def test_a_lost_answer_leaves_the_outcome_unknown_until_the_charge_is_found_by_its_key(stripe_proxy_hub, stripe_proxy):
    gateway = gateway_for(stripe_proxy_hub)
    marie, card = _customer_with_card(gateway, stripe_proxy.url, "marie")
    stripe_proxy.lose_answers(1)
    with pytest.raises(GatewayUnavailable):
        _charge(gateway, marie, card, "debt-lost")
    assert stripe_proxy.answers_lost == 1

    found = gateway.intent_find(key="debt-lost", customer_ref=marie)
    assert found is not None and found.status == "succeeded" and found.amount_minor == 1500
    assert _charge(gateway, marie, card, "debt-next").status == "succeeded"  # only one answer was lost


def test_a_retry_after_a_lost_answer_gets_the_same_charge_not_a_second_one(stripe_proxy_hub, stripe_proxy, settings):
    settings.HUBTAB_STRIPE_RETRIES = 1  # the SDK retries a network failure with the same idempotency key
    gateway = gateway_for(stripe_proxy_hub)
    marie, card = _customer_with_card(gateway, stripe_proxy.url, "marie")
    stripe_proxy.lose_answers(1)
    state = _charge(gateway, marie, card, "debt-retried")
    assert state.status == "succeeded" and stripe_proxy.answers_lost == 1
    client = stripe.StripeClient("sk_test_hubtab", base_addresses={"api": stripe_proxy.url})
    assert [intent.id for intent in client.v1.payment_intents.list(params={"customer": marie}).data] == [state.ref]


@pytest.mark.parametrize(
    ("decline_code", "message"),
    [
        ("lost_card", "Your card was declined."),  # the customer is not told the card was reported lost
        ("insufficient_funds", "Your card has insufficient funds."),
        ("authentication_required", "Your card was declined. This transaction requires authentication."),
    ],
)
def test_a_bank_decline_comes_back_as_a_failed_payment_with_the_banks_reason(
    stripe_proxy_hub, stripe_proxy, decline_code, message
):
    gateway = gateway_for(stripe_proxy_hub)
    marie, card = _customer_with_card(gateway, stripe_proxy.url, "marie", card=DECLINING_CARD)
    stripe_proxy.decline(card, decline_code)

    # Stripe's card error holds the payment in its failed state: the gateway answers with it.
    state = _charge(gateway, marie, card, f"debt-{decline_code}")
    assert state == IntentState(
        ref=state.ref, status="failed", amount_minor=1500, currency="EUR", client_secret=state.client_secret,
        payment_method_ref=card, failure_message=message, decline_code=decline_code,
    )  # fmt: skip
    assert gateway.intent_get(state.ref) == state  # and every later read says the same
    assert gateway.intent_find(key=f"debt-{decline_code}", customer_ref=marie) == state


def test_stripes_card_error_body_names_the_banks_reason_and_holds_the_payment(stripe_proxy_hub, stripe_proxy):
    gateway = gateway_for(stripe_proxy_hub)
    marie, card = _customer_with_card(gateway, stripe_proxy.url, "marie", card=DECLINING_CARD)
    stripe_proxy.decline(card, "authentication_required")
    client = stripe.StripeClient("sk_test_hubtab", base_addresses={"api": stripe_proxy.url})
    params = {"amount": 900, "currency": "eur", "customer": marie, "payment_method": card, "confirm": True,
              "off_session": True}  # fmt: skip
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    error = raised.value.error
    assert (raised.value.code, error.type, error.decline_code) == ("authentication_required", "card_error",
                                                                   "authentication_required")  # fmt: skip
    assert error.payment_intent.status == "requires_payment_method" and error.charge
    assert error.payment_intent.last_payment_error.decline_code == "authentication_required"


def test_a_decline_without_the_payment_in_the_answer_is_a_domain_error_with_the_reason(stripe_proxy_hub, stripe_proxy):
    # localstripe's own decline (a card the proxy was told nothing about) holds no payment.
    gateway = gateway_for(stripe_proxy_hub)
    marie, card = _customer_with_card(gateway, stripe_proxy.url, "marie", card=DECLINING_CARD)
    with pytest.raises(ChargeDeclined) as raised:
        _charge(gateway, marie, card, "debt-plain-decline")
    declined = raised.value
    assert isinstance(declined, DomainError) and declined.code == "card_declined"
    assert (declined.decline_code, declined.intent_ref, declined.message) == ("card_declined", "",
                                                                              "Your card was declined.")  # fmt: skip
    # Its payment was still made at the gateway, and its key finds it.
    found = gateway.intent_find(key="debt-plain-decline", customer_ref=marie)
    assert found is not None and (found.status, found.decline_code) == ("failed", "card_declined")


def test_a_payment_waiting_on_the_customers_bank_is_cancelled_and_a_final_one_stays_as_it_is(
    stripe_proxy_hub, stripe_proxy
):
    gateway = gateway_for(stripe_proxy_hub)
    marie, card = _customer_with_card(gateway, stripe_proxy.url, "marie", card=BANK_CHECK_CARD)
    waiting = _charge(gateway, marie, card, "debt-waiting")
    assert waiting.status == "requires_action"
    assert gateway.intent_cancel(waiting.ref).status == "canceled"
    assert gateway.intent_cancel(waiting.ref).status == "canceled"  # already final: its state, no error

    paul, pauls_card = _customer_with_card(gateway, stripe_proxy.url, "paul")
    paid = _charge(gateway, paul, pauls_card, "debt-paid")
    assert gateway.intent_cancel(paid.ref) == paid  # a succeeded charge cannot be cancelled
    with pytest.raises(DomainError):
        gateway.intent_cancel("pi_unknown")


def test_a_gateway_that_does_not_answer_is_unavailable_for_look_ups_too(stripe_proxy_hub):
    from hubtab.testing import _free_port

    gateway = StripeGateway(secret_key="sk_test_hubtab", api_base=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(GatewayUnavailable):
        gateway.intent_find(key="debt-1", customer_ref="cus_x")
    with pytest.raises(GatewayUnavailable):
        gateway.intent_cancel("pi_x")
