"""Payments into customers' accounts, the domain's face: what the pages, the jobs, the shop and
the API call. Each topic lives in its own module: gateway keys (`keys`), card top-ups (`topups`),
bank transfers (`transfers`), webhooks and the reconcile job (`reconcile`), refunds to the card
(`refunds`), automatic top-ups (`auto_top_ups`), charges made without the customer
(`off_session`) and saved cards (`cards`).

Credit for a payment is posted exactly once, under the payment's row lock and with a ledger key of
its own, by whichever path learns of the success first: the customer's return to the shop, the
gateway's webhook, or the reconcile job that asks about payments whose outcome is unknown. No
network call is made while a database transaction is open.
"""

from hubtab.payments.auto_top_ups import (
    auto_top_up_set,
    auto_top_ups_run,
)
from hubtab.payments.cards import (
    card_expired,
    card_limit_restore,
    card_setup_finish,
    card_setup_start,
    cards_expiry_run,
)
from hubtab.payments.keys import (
    gateway_account_set,
    gateway_for,
)
from hubtab.payments.off_session import (
    card_for_charges,
    payment_charge,
    payment_off_session_create,
    payment_open_cancel,
)
from hubtab.payments.reconcile import (
    ABANDONED_AFTER,
    WebhookRefused,
    payments_abandoned_close,
    payments_reconcile,
    webhook_receive,
)
from hubtab.payments.refunds import (
    payment_refund,
    payment_refund_prepare,
    refund_credit_minor,
    refund_send,
    refunds_reconcile,
)
from hubtab.payments.topups import (
    CARD_TOP_UP_MEMO,
    RECONCILE_AFTER,
    payment_confirmation_secret,
    payment_refresh,
    payment_settle,
    topup_card_form,
    topup_charge,
    topup_start,
)
from hubtab.payments.transfers import (
    BANK_TRANSFER_MEMO,
    transfer_cancel,
    transfer_confirm,
    transfer_reference,
)

__all__ = [
    "ABANDONED_AFTER",
    "BANK_TRANSFER_MEMO",
    "CARD_TOP_UP_MEMO",
    "RECONCILE_AFTER",
    "WebhookRefused",
    "auto_top_up_set",
    "auto_top_ups_run",
    "card_expired",
    "card_for_charges",
    "card_limit_restore",
    "card_setup_finish",
    "card_setup_start",
    "cards_expiry_run",
    "gateway_account_set",
    "gateway_for",
    "payment_charge",
    "payment_confirmation_secret",
    "payment_off_session_create",
    "payment_open_cancel",
    "payment_refresh",
    "payment_refund",
    "payment_refund_prepare",
    "payment_settle",
    "payments_abandoned_close",
    "payments_reconcile",
    "refund_credit_minor",
    "refund_send",
    "refunds_reconcile",
    "topup_card_form",
    "topup_charge",
    "topup_start",
    "transfer_cancel",
    "transfer_confirm",
    "transfer_reference",
    "webhook_receive",
]
