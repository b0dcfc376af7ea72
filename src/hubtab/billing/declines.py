"""What a card decline means for a scheduled payment: tried again later (soft), never again (hard:
card networks fine retries of these), or the customer's bank wants the customer; in plain words."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Retrying these can bring card-network fines, and cannot succeed: the card is gone or refused for good.
HARD_DECLINES = frozenset({
    "lost_card", "stolen_card", "fraudulent", "pickup_card", "invalid_account", "restricted_card",
    "card_not_supported", "incorrect_number", "expired_card", "merchant_blacklisted", "security_violation",
    "revocation_of_all_authorizations", "revocation_of_authorization", "stop_payment_order",
})  # fmt: skip
ACTION_REQUIRED = frozenset({"authentication_required", "payment_intent_authentication_failure"})

_WORDS = {
    "insufficient_funds": gettext_lazy("There was not enough money on the card."),
    "generic_decline": gettext_lazy("The bank declined the card without giving a reason."),
    "card_declined": gettext_lazy("The bank declined the card without giving a reason."),
    "do_not_honor": gettext_lazy("The bank declined the card without giving a reason."),
    "processing_error": gettext_lazy("The bank had a problem processing the card."),
    "try_again_later": gettext_lazy("The bank asked to try again later."),
    "card_velocity_exceeded": gettext_lazy("The card's spending limit was reached."),
    "withdrawal_count_limit_exceeded": gettext_lazy("The card's spending limit was reached."),
    "lost_card": gettext_lazy("The card was reported lost."),
    "stolen_card": gettext_lazy("The card was reported stolen."),
    "fraudulent": gettext_lazy("The bank suspected fraud and declined the card."),
    "pickup_card": gettext_lazy("The bank asked for the card to be withdrawn."),
    "invalid_account": gettext_lazy("The card's account is closed or invalid."),
    "restricted_card": gettext_lazy("The card can't be used for this payment."),
    "card_not_supported": gettext_lazy("The card does not support this kind of payment."),
    "incorrect_number": gettext_lazy("The card number is wrong."),
    "expired_card": gettext_lazy("The card has expired."),
    "authentication_required": gettext_lazy("The bank wants the customer to confirm the payment."),
    "payment_intent_authentication_failure": gettext_lazy("The customer's confirmation with the bank failed."),
    "no_card": gettext_lazy("There is no valid saved card."),
    "gateway_unknown": gettext_lazy("The payment provider has not answered yet."),
}


def decline_kind(code: str) -> str:
    """ "hard", "action" or "soft"."""
    if code in HARD_DECLINES:
        return "hard"
    if code in ACTION_REQUIRED:
        return "action"
    return "soft"


def decline_words(code: str, fallback: str = "") -> str:
    """The decline in plain words, in the active language."""
    words = _WORDS.get(code)
    if words is not None:
        return str(words)
    return fallback or _("The bank declined the card.")
