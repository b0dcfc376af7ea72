"""The customer's side of billing, a section of their account page: the payments still to come
(day, amount, the card that will be charged) and the ways to update the card or pay now, which
makes a payment not needed (see `changes.debt_recheck`). Registered with the CRM's page in
`apps.BillingConfig.ready`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from hubtab.accounts.selectors import credit_settings_of, credit_unit_of
from hubtab.billing.declines import decline_words
from hubtab.billing.models import ScheduledPayment, ScheduledPaymentKind, ScheduledPaymentStatus
from hubtab.billing.selectors import upcoming_of
from hubtab.core.dates import day_medium
from hubtab.core.models import Hub
from hubtab.core.money import currency_unit, money_format, reader_locale, unit_get
from hubtab.crm.models import Customer
from hubtab.ledger.selectors import account_state
from hubtab.payments.selectors import hub_takes_cards
from hubtab.payments.services import card_for_charges


def upcoming_payments_section(request: HttpRequest, customer: Customer) -> SafeString | None:
    """The section, or None when nothing is scheduled for the customer."""
    hub = customer.hub
    payments = [_row(hub, scheduled) for scheduled in upcoming_of(hub=hub, account_id=customer.account_id)]
    if not payments:
        return None
    card = card_for_charges(hub=hub, account_id=customer.account_id)
    owed_minor = max(-account_state(hub_id=hub.id, account_id=customer.account_id).balance_minor, 0)
    context = {
        "hub": hub,
        "payments": payments,
        "card": _("%(brand)s card ending in %(last4)s") % {"brand": card.brand.capitalize(), "last4": card.last4}
        if card else "",
        "owed": money_format(owed_minor, credit_unit_of(hub=hub), reader_locale()) if owed_minor else "",
        # The top-up page opens with what is owed now: paying it makes every payment above not needed.
        "pay_url": f"{reverse('topup', args=[hub.slug])}?{urlencode({'amount_minor': owed_minor})}",
        "takes_cards": hub_takes_cards(hub=hub),
        "takes_transfers": credit_settings_of(hub=hub).takes_bank_transfers,
    }  # fmt: skip
    return render_to_string("billing/portal_upcoming.html", context, request=request)


def _row(hub: Hub, scheduled: ScheduledPayment) -> dict[str, Any]:
    locale = reader_locale()
    credits = ""
    if scheduled.unit != scheduled.currency:  # a named credit: what the money pays for, in credits
        credits = money_format(scheduled.credits_minor, unit_get(hub_id=hub.id, code=scheduled.unit), locale)
    note = ""
    if scheduled.status == ScheduledPaymentStatus.PROCESSING:
        note = _("Being charged now.")
    elif scheduled.status == ScheduledPaymentStatus.RETRYING:
        note = _("The last try failed. %(why)s It is tried again on this day.") % {
            "why": decline_words(scheduled.decline_code, scheduled.outcome)
        }
    return {
        "id": scheduled.id,
        "day": day_medium(scheduled.run_on, locale),
        "amount": money_format(scheduled.price_minor, currency_unit(scheduled.currency), locale),
        "credits": credits,
        "what": _("What you owe") if scheduled.kind == ScheduledPaymentKind.DEBT else scheduled.get_kind_display(),
        "note": note,
    }
