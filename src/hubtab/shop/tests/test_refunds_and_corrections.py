"""Refunds of orders and the corrections crew make after ordering, as finance and crew live
them: credit comes back as the kind that paid, the card gets back exactly what it paid, debts
carried from earlier orders stay owed, and a form sent twice or a stale page changes nothing twice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hubtab.accounts.services import credit_settings_update
from hubtab.core.errors import DomainError
from hubtab.core.models import Role
from hubtab.core.services import membership_grant, user_create
from hubtab.ledger.models import Lot
from hubtab.ledger.verify import ledger_verify
from hubtab.payments.models import PaymentRefund
from hubtab.payments.services import topup_card_form, topup_charge
from hubtab.shop.models import Order, OrderEvent, OrderLine, Variant
from hubtab.shop.services import (
    BulkAction,
    CheckoutDraft,
    checkout_key,
    checkout_topup_start,
    order_cancel,
    order_complete,
    order_extra_add,
    order_pack,
    order_payment_link,
    order_refund,
    orders_bulk,
    variant_save,
)
from hubtab.testing import stripe_card_entered


def _lots(account_id, kind):
    return sum(Lot.objects.across_hubs().filter(account_id=account_id, kind=kind)
               .values_list("remaining_minor", flat=True))  # fmt: skip


def _line(order):
    return OrderLine.objects.across_hubs().get(order=order, is_extra=False)


@pytest.fixture
def finance(hub):
    user = user_create(email="finance@example.org", password=None, email_verified=True)
    membership_grant(hub=hub, user=user, role=Role.FINANCE)
    return user


@pytest.mark.django_db
def test_a_refund_gives_a_voucher_back_as_a_voucher_never_as_refundable_money(shop, finance):
    marie = shop.customer()
    shop.books.grant(marie.account, 500)  # a 5,00 voucher
    shop.books.top_up(marie.account, 500)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 2}).id)  # 9,00
    assert (_lots(marie.account_id, "granted"), _lots(marie.account_id, "paid")) == (0, 100)
    order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=600, reason="Broken eggs", key="r1")
    assert (_lots(marie.account_id, "granted"), _lots(marie.account_id, "paid")) == (500, 200)  # voucher first
    order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=300, reason="The rest", key="r2")
    assert (_lots(marie.account_id, "granted"), _lots(marie.account_id, "paid")) == (500, 500)
    assert ledger_verify(hub_id=shop.hub.id) == []


@pytest.mark.django_db
def test_the_debt_an_order_collected_for_an_earlier_one_is_not_refunded_in_bulk(shop, finance):
    marie = shop.customer(credit_minor=1800)
    first = shop.place(marie, {shop.chicken.id: 1})
    order_pack(hub=shop.hub, actor=None, order_id=first.id, packed={_line(first).id: (None, 1548)})
    order_complete(hub=shop.hub, actor=None, order_id=first.id)  # 0,58 owed
    shop.books.top_up(marie.account, 1000)
    second = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.bread.id: 1}).id)
    assert (second.captured_minor, second.carried_minor) == (378, 58)
    result = orders_bulk(hub=shop.hub, actor=finance, order_ids=[second.id], action=BulkAction.REFUND_CREDIT,
                         key="b1")  # fmt: skip
    assert result.done == [second.id]
    second.refresh_from_db()
    assert second.refunded_minor == 320  # the bread; the 0,58 was owed, and stays paid
    assert shop.state(marie).balance_minor == 1000 - 378 + 320


@pytest.mark.django_db
def test_an_extra_on_a_completed_other_methods_only_order_is_owed_not_taken_from_credit(shop):
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="other_only")
    marie = shop.customer(credit_minor=5000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 2},
                                                                            rest_method="cash").id)  # fmt: skip
    order = order_extra_add(hub=shop.hub, actor=None, order_id=order.id, name="Jar deposit", quantity=1,
                            unit_price_minor=700)  # fmt: skip
    assert order.owed_minor == 700 and shop.state(marie).balance_minor == 5000


@pytest.mark.django_db
def test_an_extra_sent_twice_is_added_once(shop):
    marie = shop.customer(credit_minor=5000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.bread.id: 1}).id)
    for _ in range(2):
        order_extra_add(hub=shop.hub, actor=None, order_id=order.id, name="Honey", quantity=1, unit_price_minor=700,
                        key="extra-1")  # fmt: skip
    assert shop.state(marie).balance_minor == 5000 - 320 - 700
    assert OrderLine.objects.across_hubs().filter(order=order, is_extra=True).count() == 1


@pytest.mark.django_db
def test_cash_collected_can_not_be_more_than_is_left_to_pay(shop):
    credit_settings_update(hub=shop.hub, actor=None, payment_policy="credit_first")
    marie = shop.customer(credit_minor=100)
    order = shop.place(marie, {shop.eggs.id: 1}, rest_method="cash")  # 3,50 at pickup
    with pytest.raises(DomainError) as refused:
        order_complete(hub=shop.hub, actor=None, order_id=order.id, collected_minor=35000)  # a typo
    assert "At most €3.50" in refused.value.message
    assert shop.state(marie).balance_minor == 100 and Order.objects.across_hubs().get().status == "placed"


@pytest.mark.django_db
def test_the_same_checkout_key_with_another_cart_is_refused_not_answered_with_the_old_order(shop):
    marie = shop.customer(credit_minor=5000)
    key = checkout_key()
    shop.place(marie, {shop.bread.id: 1}, key=key)
    with pytest.raises(DomainError) as refused:
        shop.place(marie, {shop.eggs.id: 3}, key=key)  # an old tab, sent after the cart changed
    assert refused.value.code == "checkout_used"
    assert Order.objects.across_hubs().count() == 1


@pytest.mark.django_db
def test_saving_a_variant_keeps_the_stock_sold_since_the_page_was_opened(shop):
    marie = shop.customer(credit_minor=5000)
    seen = Variant.objects.across_hubs().get(id=shop.eggs.id).stock  # the owner's page shows 10
    shop.place(marie, {shop.eggs.id: 4})  # meanwhile 4 boxes are sold
    variant_save(hub=shop.hub, actor=None, product=shop.eggs.product, name="box of 6", price_minor=480, stock=seen + 6,
                 variant=shop.eggs, stock_seen=seen)  # a delivery of 6 more, and a new price  # fmt: skip
    assert Variant.objects.across_hubs().get(id=shop.eggs.id).stock == 12


@pytest.mark.django_db
def test_a_customer_can_not_cancel_once_crew_started_packing(shop):
    marie = shop.customer(credit_minor=5000)
    order = shop.place(marie, {shop.chicken.id: 1})
    order_pack(hub=shop.hub, actor=None, order_id=order.id, packed={_line(order).id: (None, 1400)})
    with pytest.raises(DomainError) as refused:
        order_cancel(hub=shop.hub, actor=None, order_id=order.id, by_customer=True)
    assert refused.value.code == "order_not_cancellable"


@pytest.mark.django_db
def test_crew_cancelling_an_order_completed_meanwhile_are_told_so(client, shop):
    support = user_create(email="support@example.org", password=None, email_verified=True)
    membership_grant(hub=shop.hub, user=support, role=Role.SUPPORT)
    order = shop.place(shop.customer(credit_minor=2000), {shop.bread.id: 1})
    client.force_login(support)
    order_complete(hub=shop.hub, actor=None, order_id=order.id)  # by someone else, a moment before
    response = client.post(reverse("shop_order_cancel", args=[shop.hub.slug, order.id]), follow=True)
    assert response.status_code == 200 and "refunded, not cancelled" in response.content.decode()


# --- back to the card, through localstripe --------------------------------------------------------


def _order_paid_partly_by_card(shop, localstripe_url):
    """Marie has 1,00 of credit, orders 4,50 of eggs and pays the 3,50 she lacks by card."""
    marie = shop.customer(credit_minor=100)
    draft = CheckoutDraft(key=checkout_key(), cycle_id=shop.cycle.id, items={shop.eggs.id: 1}, option_id=shop.pickup.id)
    payment = checkout_topup_start(hub=shop.hub, customer=marie, shortfall_minor=350, draft=draft)
    stripe_card_entered(localstripe_url, topup_card_form(hub=shop.hub, payment=payment))
    payment, _state = topup_charge(hub=shop.hub, payment_id=payment.id)
    assert payment.status == "succeeded"
    order = Order.objects.across_hubs().get(key=draft.key)  # placed as the payment went through
    assert order.payment_id == payment.id
    return marie, order_complete(hub=shop.hub, actor=None, order_id=order.id), payment


@pytest.mark.django_db(transaction=True)
def test_a_refund_to_the_card_sends_what_the_card_paid_and_says_so(stripe_hub, shop, finance, localstripe_url):
    marie, order, _payment = _order_paid_partly_by_card(shop, localstripe_url)
    with pytest.raises(DomainError) as refused:  # more than the card paid: refused before anything moves
        order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=450, reason="x", key="r0", to="card")
    assert refused.value.code == "not_refundable" and "At most €3.50" in refused.value.message
    assert Order.objects.across_hubs().get(id=order.id).refunded_minor == 0

    for _ in range(2):  # the form sent twice
        order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=350, reason="Eggs broken",
                     key="r1", to="card")  # fmt: skip
    refund = PaymentRefund.objects.across_hubs().get()
    assert (refund.status, refund.amount_minor) == ("succeeded", 350)
    assert shop.state(marie).balance_minor == 0  # the credit came back and went on to the card
    kinds = list(OrderEvent.objects.across_hubs().filter(order=order).values_list("kind", "amount_minor"))
    assert kinds[-2:] == [("refunded_credit", 350), ("refunded_card", 350)]
    assert ledger_verify(hub_id=shop.hub.id) == []


@pytest.mark.django_db(transaction=True)
def test_a_refund_to_the_card_of_an_order_paid_from_credit_alone_is_refused(stripe_hub, shop, finance):
    marie = shop.customer(credit_minor=1000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 1}).id)
    draft = CheckoutDraft(key=checkout_key(), cycle_id=shop.cycle.id, items={shop.eggs.id: 1}, option_id=None)
    payment = checkout_topup_start(hub=shop.hub, customer=marie, shortfall_minor=350, draft=draft)  # never paid
    order_payment_link(hub=shop.hub, order=order, payment_id=payment.id)
    with pytest.raises(DomainError) as refused:
        order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=100, reason="x", key="r", to="card")
    assert refused.value.code == "not_refundable"
    assert shop.state(marie).balance_minor == 550 and not PaymentRefund.objects.across_hubs().exists()


def _transaction_of(hub, key):
    from hubtab.ledger.models import Transaction

    return Transaction.objects.across_hubs().get(hub_id=hub.id, key=key)


@pytest.mark.django_db
def test_an_orders_charge_is_not_reversed_by_hand_so_the_order_cannot_then_give_it_back_again(shop, finance):
    from hubtab.accounts.services import transaction_correct

    marie = shop.customer(credit_minor=2000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 2}).id)  # 9,00
    capture = _transaction_of(shop.hub, f"order:{order.id}:capture")
    with pytest.raises(DomainError) as refused:
        transaction_correct(hub=shop.hub, actor=finance, transaction_id=capture.id, reason="Mistake", key="rev-1")
    assert refused.value.code == "reverse_refused_order" and "refund the order" in refused.value.message
    assert shop.state(marie).balance_minor == 1100  # nothing came back by the reversal
    order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=900, reason="Broken", key="r1")
    assert shop.state(marie).balance_minor == 2000  # given back once, by the refund
    assert ledger_verify(hub_id=shop.hub.id) == []


@pytest.mark.django_db
def test_a_refunded_orders_postings_cannot_then_be_reversed(shop, finance):
    from hubtab.accounts.services import transaction_correct

    marie = shop.customer(credit_minor=2000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 2}).id)
    order_refund(hub=shop.hub, actor=finance, order_id=order.id, amount_minor=900, reason="Broken", key="r1")
    refund = _transaction_of(shop.hub, f"order:{order.id}:refund:r1")
    capture = _transaction_of(shop.hub, f"order:{order.id}:capture")
    for posting in (refund, capture):
        with pytest.raises(DomainError) as refused:
            transaction_correct(
                hub=shop.hub, actor=finance, transaction_id=posting.id, reason="Oops", key=f"x{posting.id}"
            )
        assert refused.value.code == "reverse_refused_order"
    assert shop.state(marie).balance_minor == 2000
    assert ledger_verify(hub_id=shop.hub.id) == []


@pytest.mark.django_db
def test_the_customer_page_offers_no_reversal_of_an_orders_posting_and_a_forced_one_changes_nothing(
    client, shop, finance
):
    marie = shop.customer(credit_minor=2000)
    order = order_complete(hub=shop.hub, actor=None, order_id=shop.place(marie, {shop.eggs.id: 2}).id)
    capture = _transaction_of(shop.hub, f"order:{order.id}:capture")
    client.force_login(finance)
    page = client.get(reverse("customer_detail", args=[shop.hub.slug, marie.id])).content.decode()
    reverse_url = reverse("customer_transaction_reverse", args=[shop.hub.slug, marie.id, capture.id])
    assert reverse_url not in page and "via the order" in page
    answer = client.post(reverse_url, {"reason": "Mistake", "key": "8b1f0a7e-3c52-4d55-9a7e-1f2b3c4d5e6f"})
    assert answer.status_code == 200 and "refund the order from its page" in answer.content.decode()
    assert shop.state(marie).balance_minor == 1100
