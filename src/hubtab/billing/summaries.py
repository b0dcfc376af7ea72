"""The finance crew's summary of a hub's morning run: sent once the day's payments are all decided."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.utils import translation

from hubtab.billing.dates import charge_moment, hub_today
from hubtab.billing.declines import decline_words
from hubtab.billing.models import AttemptOutcome, PaymentAttempt, ScheduledPayment, ScheduledPaymentStatus
from hubtab.billing.notices import summary_send
from hubtab.core.models import Hub
from hubtab.core.money import currency_unit, money_format


def run_summary_send(*, hub: Hub, now: datetime, morning_hour: int) -> int:
    """Queue the day's summary when nothing due today is left undecided (a later run the same day
    adds nothing: one summary per day). Returns how many people it went to."""
    today = hub_today(hub=hub, now=now)
    undecided = ScheduledPayment.objects.filter(hub=hub, status=ScheduledPaymentStatus.PROCESSING).exists() or any(
        charge_moment(hub=hub, day=day, morning_hour=morning_hour) <= now
        for day in ScheduledPayment.objects.filter(
            hub=hub, status__in=[ScheduledPaymentStatus.SCHEDULED, ScheduledPaymentStatus.RETRYING], run_on__lte=today
        ).values_list("run_on", flat=True)
    )
    if undecided:
        return 0
    start = charge_moment(hub=hub, day=today, morning_hour=0)
    attempts = (
        PaymentAttempt.objects.filter(hub=hub, started_at__gte=start)
        .select_related("scheduled_payment__customer")
        .order_by("id")
    )
    counts: Counter[str] = Counter()
    failures = []
    with translation.override(hub.locale):
        for attempt in attempts:
            counts[attempt.outcome] += 1
            if attempt.outcome not in (AttemptOutcome.SUCCEEDED, AttemptOutcome.PROCESSING):
                customer = attempt.scheduled_payment.customer
                failures.append({
                    "customer": customer.full_name or customer.email,
                    "amount": money_format(attempt.price_minor, currency_unit(hub.currency), hub.locale),
                    "why": decline_words(attempt.decline_code, attempt.message),
                    "outcome": str(AttemptOutcome(attempt.outcome).label),
                })  # fmt: skip
    if not counts:
        return 0
    summary = {
        "succeeded": counts[AttemptOutcome.SUCCEEDED],
        "failed": sum(n for outcome, n in counts.items() if outcome != AttemptOutcome.SUCCEEDED),
        "total": sum(counts.values()),
    }
    return summary_send(hub=hub, day=today, counts=summary, failures=failures)
