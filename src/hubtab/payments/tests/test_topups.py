"""Card top-ups end to end against localstripe with the official SDK: credit is posted once, when
the gateway confirms, whoever tells us first; faults (timeouts, duplicate, late or forged
webhooks, declines) never create or lose credit."""

import json
import socket
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from hubtab.crm.services import customer_create
from hubtab.ledger.models import Transaction
from hubtab.ledger.selectors import account_state
from hubtab.ledger.verify import ledger_verify
from hubtab.messaging.models import Delivery
from hubtab.payments.models import Payment, PaymentStatus, SavedCard, WebhookEvent
from hubtab.payments.services import (
    payment_refresh,
    payments_reconcile,
    topup_card_form,
    topup_charge,
    topup_start,
)
from hubtab.testing import stripe_card_entered, stripe_customer_authenticates, stripe_signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def marie(stripe_hub):
    return customer_create(hub=stripe_hub, email="marie@example.org", first_name="Marie", last_name="Dubois")


def _card_entered(hub, customer, localstripe_url, price_minor=2000, card="4242424242424242", save_card=False):
    """The customer chose an amount and typed a card into the gateway's form."""
    payment = topup_start(hub=hub, customer=customer, actor=None, price_minor=price_minor, save_card=save_card)
    stripe_card_entered(localstripe_url, topup_card_form(hub=hub, payment=payment), card)
    return payment


def _balance(hub, customer):
    return account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor


def _top_ups(hub):
    return Transaction.objects.across_hubs().filter(hub_id=hub.id, kind="top_up").count()


def _event(payment, event_type="payment_intent.succeeded", event_id="evt_1"):
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "created": 1,
         "data": {"object": {"id": payment.gateway_ref, "object": "payment_intent"}}}
    ).encode()  # fmt: skip


def _webhook(client, hub_slug, payload, signature=None):
    return client.post(
        f"/webhooks/stripe/{hub_slug}/", payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature if signature is not None else stripe_signed(payload),
    )  # fmt: skip


def test_a_card_top_up_credits_the_account_once_when_the_gateway_confirms(stripe_hub, marie, localstripe_url):
    payment = _card_entered(stripe_hub, marie, localstripe_url)
    assert payment.status == PaymentStatus.CREATED and _balance(stripe_hub, marie) == 0  # not before it is paid
    for _ in range(3):  # the card form sent three times
        payment, _state = topup_charge(hub=stripe_hub, payment_id=payment.id)
    payment = payment_refresh(hub=stripe_hub, payment=payment)  # and the return page
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _balance(stripe_hub, marie) == 2000 and _top_ups(stripe_hub) == 1
    receipts = Delivery.objects.across_hubs().filter(kind="payment_receipt", customer=marie)
    assert [d.subject for d in receipts] == ["Green Valley Food Hub : votre rechargement de 20,00\xa0€"]  # hub: fr
    body = receipts[0].body
    assert "Visa" in body and "4242" in body and "20,00\xa0€" in body  # the card, and the balance now
    assert str(timezone.localtime(payment.settled_at, ZoneInfo("Europe/Paris")).year) in body  # when it was paid
    assert ledger_verify(hub_id=stripe_hub.id) == []


def test_a_declined_card_fails_the_payment_and_credits_nothing(stripe_hub, marie, localstripe_url):
    payment = _card_entered(stripe_hub, marie, localstripe_url, card="4000000000000341")  # declined when charged
    payment, _state = topup_charge(hub=stripe_hub, payment_id=payment.id)
    assert payment.status == PaymentStatus.FAILED and "declined" in payment.failure_message
    assert _balance(stripe_hub, marie) == 0 and _top_ups(stripe_hub) == 0


def test_a_saved_card_keeps_only_brand_last_digits_and_expiry(stripe_hub, marie, localstripe_url):
    payment = _card_entered(stripe_hub, marie, localstripe_url, price_minor=1000, save_card=True)
    topup_charge(hub=stripe_hub, payment_id=payment.id)
    card = SavedCard.objects.across_hubs().get(account_id=marie.account_id)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2031)
    assert card.payment_method_ref.startswith("pm_")


def test_top_ups_outside_the_hubs_limits_are_refused_and_leave_nothing(stripe_hub, marie):
    from hubtab.core.errors import DomainError

    for price_minor in (100, 60000):  # below 5.00, above 500.00
        with pytest.raises(DomainError) as refused:
            topup_start(hub=stripe_hub, customer=marie, actor=None, price_minor=price_minor)
        assert refused.value.code == "invalid_amount"
    assert Payment.objects.across_hubs().count() == 0


def test_a_signed_webhook_credits_once_and_duplicates_or_late_events_change_nothing(
    client, stripe_hub, marie, localstripe_url
):
    payment = _card_entered(stripe_hub, marie, localstripe_url, card="4000002760003184")  # the bank asks
    payment, state = topup_charge(hub=stripe_hub, payment_id=payment.id)
    assert payment.status == PaymentStatus.REQUIRES_ACTION and _balance(stripe_hub, marie) == 0
    stripe_customer_authenticates(localstripe_url, state.client_secret)  # then the customer closes the page
    response = _webhook(client, stripe_hub.slug, _event(payment))
    assert response.status_code == 200 and _balance(stripe_hub, marie) == 2000
    assert _webhook(client, stripe_hub.slug, _event(payment)).json()["ok"] == "duplicate evt_1"
    # An older failure event arriving late does not undo the payment.
    late = _webhook(client, stripe_hub.slug, _event(payment, "payment_intent.payment_failed", "evt_0"))
    assert late.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _balance(stripe_hub, marie) == 2000 and _top_ups(stripe_hub) == 1


def test_forged_unknown_or_foreign_webhooks_are_refused_and_write_nothing(
    client, stripe_hub, other_hub, marie, localstripe_url, caplog
):
    payment = _card_entered(stripe_hub, marie, localstripe_url, card="4000002760003184")
    payment, state = topup_charge(hub=stripe_hub, payment_id=payment.id)
    stripe_customer_authenticates(localstripe_url, state.client_secret)
    payload = _event(payment)
    forged = _webhook(client, stripe_hub.slug, payload, signature=stripe_signed(payload, secret="whsec_wrong"))
    assert forged.status_code == 400
    assert "signature" in caplog.text
    unknown = json.dumps({"id": "evt_x", "object": "event", "type": "payment_intent.succeeded", "created": 1,
                          "data": {"object": {"id": "pi_not_ours"}}}).encode()  # fmt: skip
    assert _webhook(client, stripe_hub.slug, unknown).status_code == 404
    assert "unknown payment pi_not_ours" in caplog.text
    # The payment is this hub's: another hub's endpoint (with no gateway) refuses it.
    assert _webhook(client, other_hub.slug, payload).status_code == 400
    assert WebhookEvent.objects.across_hubs().count() == 0
    assert _balance(stripe_hub, marie) == 0 and _top_ups(stripe_hub) == 0


@pytest.fixture
def silent_gateway(settings):
    """A server that accepts connections and never answers: every gateway call times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_timeout_leaves_the_outcome_unknown_and_the_reconcile_job_credits_once(
    stripe_hub, marie, localstripe_url, silent_gateway, settings
):
    payment = _card_entered(stripe_hub, marie, localstripe_url, card="4000002760003184")
    payment, state = topup_charge(hub=stripe_hub, payment_id=payment.id)
    stripe_customer_authenticates(localstripe_url, state.client_secret)
    # The customer comes back while the gateway does not answer: nothing is decided or credited.
    settings.HUBTAB_STRIPE_API_BASE, settings.HUBTAB_STRIPE_TIMEOUT = silent_gateway, 0.5
    payment = payment_refresh(hub=stripe_hub, payment=payment)
    assert payment.status == PaymentStatus.REQUIRES_ACTION and _balance(stripe_hub, marie) == 0
    # Later the job asks again and learns it was paid.
    settings.HUBTAB_STRIPE_API_BASE = localstripe_url
    later = timezone.now() + timedelta(minutes=10)
    assert payments_reconcile(now=later) == {"checked": 1, "succeeded": 1}
    assert payments_reconcile(now=later) == {"checked": 0, "succeeded": 0}
    assert _balance(stripe_hub, marie) == 2000 and _top_ups(stripe_hub) == 1


@pytest.fixture
def gateway_losing_charges(localstripe_url, settings):
    """A faulty network in front of localstripe: it passes every call on, except that charges
    (POST /v1/payment_intents) are dropped unanswered, so the caller times out."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.command == "POST" and self.path.rstrip("/") == "/v1/payment_intents":
                threading.Event().wait(2)  # longer than the client waits
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = requests.request(self.command, localstripe_url + self.path, data=body, headers=headers, timeout=10)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_DELETE = _forward

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.HUBTAB_STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    settings.HUBTAB_STRIPE_TIMEOUT = 0.5
    yield
    server.shutdown()
    server.server_close()


def test_a_charge_the_gateway_never_saw_is_unknown_then_looked_up_and_sent_again_with_the_same_key(
    stripe_hub, marie, localstripe_url, settings, gateway_losing_charges, stripe_proxy
):
    payment = _card_entered(stripe_hub, marie, settings.HUBTAB_STRIPE_API_BASE)
    payment, state = topup_charge(hub=stripe_hub, payment_id=payment.id)
    assert state is None and payment.status == PaymentStatus.UNKNOWN and _balance(stripe_hub, marie) == 0
    # The network heals; the reconcile job looks the charge up by its key (through the proxy, which
    # lists a customer's charges as Stripe does), finds none, and sends it again with that key.
    stripe_proxy.reset()
    settings.HUBTAB_STRIPE_API_BASE = stripe_proxy.url
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=10)) == {"checked": 1, "succeeded": 1}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.gateway_ref.startswith("pi_")
    assert _balance(stripe_hub, marie) == 2000 and _top_ups(stripe_hub) == 1


@pytest.mark.postgres
def test_the_return_page_and_the_webhook_at_the_same_moment_credit_once(stripe_hub, marie, localstripe_url):
    payment = _card_entered(stripe_hub, marie, localstripe_url, card="4000002760003184")
    payment, state = topup_charge(hub=stripe_hub, payment_id=payment.id)
    stripe_customer_authenticates(localstripe_url, state.client_secret)
    barrier = threading.Barrier(4)
    errors = []

    def settle():
        try:
            barrier.wait()
            payment_refresh(hub=stripe_hub, payment=Payment.objects.across_hubs().get(id=payment.id))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=settle) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _balance(stripe_hub, marie) == 2000 and _top_ups(stripe_hub) == 1
    assert ledger_verify(hub_id=stripe_hub.id) == []


def test_each_top_up_choice_says_what_is_paid_and_what_is_got_and_credits_read_as_credits(
    client, stripe_hub, marie, localstripe_url
):
    from decimal import Decimal

    from django.urls import reverse

    from hubtab.accounts.services import credit_settings_update, credit_unit_choose, unit_price_set
    from hubtab.core.services import user_create

    user = user_create(email="marie-login@example.org", password="pw-long-enough", email_verified=True)
    type(marie).objects.filter(hub=stripe_hub, id=marie.id).update(user=user)
    client.force_login(user)
    credit_settings_update(hub=stripe_hub, actor=None, topup_bonus_percent=Decimal(5), topup_presets_minor=[2000])
    page = client.get(reverse("topup", args=[stripe_hub.slug])).content.decode()
    assert "Pay €20.00, get €21.00 (€1.00 bonus)" in page

    credit_settings_update(hub=stripe_hub, actor=None, topup_bonus_percent=Decimal(0), topup_presets_minor=[])
    credit_unit_choose(hub=stripe_hub, actor=None, code="kai", name="kai credits", decimals=0)
    unit_price_set(hub=stripe_hub, actor=None, currency="EUR", credits_minor=10, price_minor=100)
    payment = topup_start(hub=stripe_hub, customer=marie, actor=None, price_minor=5500)
    page = client.get(reverse("topup_card", args=[stripe_hub.slug, payment.id])).content.decode()
    assert "and get <strong>550 kai credits</strong>." in page and "kai credits</strong> of credit" not in page


def test_a_top_up_left_waiting_a_day_is_closed_and_a_late_card_is_not_charged(stripe_hub, marie, localstripe_url):
    from hubtab.payments.services import payments_abandoned_close

    waiting = topup_start(hub=stripe_hub, customer=marie, actor=None, price_minor=2000)
    form_secret = topup_card_form(hub=stripe_hub, payment=waiting)
    assert payments_abandoned_close(now=timezone.now() + timedelta(hours=23)) == 0  # not yet
    assert payments_abandoned_close(now=timezone.now() + timedelta(hours=25)) == 1
    waiting.refresh_from_db()
    assert waiting.status == PaymentStatus.CANCELED and "nothing was charged" in waiting.failure_message
    stripe_card_entered(localstripe_url, form_secret)  # the customer comes back to the old page
    payment, _state = topup_charge(hub=stripe_hub, payment_id=waiting.id)
    assert payment.status == PaymentStatus.CANCELED and not payment.gateway_ref  # never sent to the card
    assert _balance(stripe_hub, marie) == 0
