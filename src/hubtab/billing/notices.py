"""What billing tells people, each message queued once (its dedupe key names the payment, the
attempt or the day): customers before a charge, when it fails or their bank wants them, and when
it fails for good; finance crew, one summary after each hub's morning run. Receipts for charges
that succeed are the payment receipts payments sends."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from hubtab.billing.declines import decline_words
from hubtab.billing.models import PaymentAttempt, ScheduledPayment
from hubtab.core.dates import day_medium
from hubtab.core.models import Hub, Membership, Role
from hubtab.core.money import currency_unit, money_format, unit_get
from hubtab.messaging.services import MessageToCustomer, message_queue, messages_queue_many
from hubtab.payments.models import SavedCard


def _link(name: str, *args: object) -> str:
    return f"{django_settings.HUBTAB_BASE_URL}{reverse(name, args=args)}"


def _facts(
    hub: Hub, scheduled: ScheduledPayment, card: SavedCard | None, links: dict[str, str] | None = None
) -> dict[str, Any]:
    """What every notice about a payment says, in the hub's language (`links`: the hub's, if known)."""
    links = links or _links(hub)
    customer = scheduled.customer
    price = money_format(scheduled.price_minor, currency_unit(scheduled.currency), hub.locale)
    credits = ""
    if scheduled.unit != scheduled.currency:  # a named credit: say what the money buys
        credits = money_format(scheduled.credits_minor, unit_get(hub_id=hub.id, code=scheduled.unit), hub.locale)
    return {
        "name": customer.first_name or customer.full_name, "hub": hub.name, "amount": price, "credits": credits,
        "day": day_medium(scheduled.run_on, hub.locale),
        "card": _("%(brand)s card ending in %(last4)s") % {"brand": card.brand.capitalize(), "last4": card.last4}
        if card else "",
        **links,
    }  # fmt: skip


def _links(hub: Hub) -> dict[str, str]:
    return {"account_link": _link("portal_hub", hub.slug), "card_link": _link("my_card_setup", hub.slug)}


def _queue(hub: Hub, scheduled: ScheduledPayment, kind: str, key: str, context: dict[str, Any]) -> None:
    if not scheduled.customer.email:
        return  # nobody to tell: crew see it on the payment's page (no notices listed)
    message_queue(hub=hub, customer=scheduled.customer, kind=f"billing_{kind}", dedupe_key=f"billing:{key}",
                  template=f"billing/email/{kind}", context=context)  # fmt: skip


def notice_scheduled(*, hub: Hub, scheduled: ScheduledPayment, card: SavedCard | None) -> None:
    """Before the charge: the amount, the day, the card and what it pays for."""
    with translation.override(hub.locale):
        context = _facts(hub, scheduled, card)
    _queue(hub, scheduled, "scheduled", f"{scheduled.id}:scheduled:{scheduled.notice_version}", context)


def notices_scheduled(*, hub: Hub, payments: list[tuple[ScheduledPayment, SavedCard | None]]) -> None:
    """notice_scheduled for many payments at once ("Bill customers"), one INSERT per thousand."""
    with translation.override(hub.locale):
        links = _links(hub)
        messages = [
            MessageToCustomer(customer=scheduled.customer, kind="billing_scheduled",
                              dedupe_key=f"billing:{scheduled.id}:scheduled:{scheduled.notice_version}",
                              template="billing/email/scheduled", context=_facts(hub, scheduled, card, links))
            for scheduled, card in payments
            if scheduled.customer.email  # nobody to tell: crew see it on the payment's page
        ]  # fmt: skip
    messages_queue_many(hub=hub, messages=messages)


def notice_failed(
    *, hub: Hub, scheduled: ScheduledPayment, attempt: PaymentAttempt, card: SavedCard | None, retry_on: date | None
) -> None:
    """A charge failed: why, in plain words, what to do, and whether it is tried again."""
    with translation.override(hub.locale):
        context = _facts(hub, scheduled, card) | {
            "why": decline_words(attempt.decline_code, attempt.message),
            "retry_day": day_medium(retry_on, hub.locale) if retry_on else "",
        }
    kind = "failed" if retry_on else "failed_final"
    _queue(hub, scheduled, kind, f"{scheduled.id}:attempt:{attempt.number}:{kind}", context)


def notice_action(
    *, hub: Hub, scheduled: ScheduledPayment, attempt: PaymentAttempt, card: SavedCard | None, waiting: bool
) -> None:
    """The bank wants the customer to confirm: a link to confirm the charge that waits for them, or
    (when the bank refused it for want of them) to pay from their account, where they are asked."""
    with translation.override(hub.locale):
        link = _link("topup_done", hub.slug, attempt.payment_id) if waiting else _link("portal_hub", hub.slug)
        context = _facts(hub, scheduled, card) | {"confirm_link": link}
    _queue(hub, scheduled, "action", f"{scheduled.id}:attempt:{attempt.number}:action", context)


def notice_no_card(*, hub: Hub, scheduled: ScheduledPayment, attempt: PaymentAttempt, retry_on: date | None) -> None:
    with translation.override(hub.locale):
        context = _facts(hub, scheduled, None) | {"retry_day": day_medium(retry_on, hub.locale) if retry_on else ""}
    _queue(hub, scheduled, "no_card", f"{scheduled.id}:attempt:{attempt.number}:no_card", context)


def summary_send(*, hub: Hub, day: date, counts: dict[str, int], failures: list[dict[str, str]]) -> int:
    """One message per finance crew member (and owner) after the hub's morning run."""
    people = (
        Membership.objects.filter(hub=hub, role__in=[Role.OWNER, Role.FINANCE], user__is_active=True)
        .select_related("user").order_by("user_id").distinct()
    )  # fmt: skip
    with translation.override(hub.locale):
        context = {"hub": hub.name, "day": day_medium(day, hub.locale), "counts": counts, "failures": failures,
                   "link": _link("scheduled_payments", hub.slug)}  # fmt: skip
    sent = 0
    seen: set[int] = set()
    for membership in people:
        if membership.user_id in seen or not membership.user.email:
            continue
        seen.add(membership.user_id)
        delivery = message_queue(
            hub=hub, customer=None, to_email=membership.user.email, kind="billing_summary",
            dedupe_key=f"billing:summary:{day.isoformat()}:{membership.user_id}", template="billing/email/summary",
            context=context,
        )  # fmt: skip
        sent += delivery is not None
    return sent
