"""Periodic payment work: asking the gateway about payments whose outcome nobody reported."""

from crontask import cron
from django.tasks import task

from hubtab.payments.services import (
    auto_top_ups_run,
    cards_expiry_run,
    payments_abandoned_close,
    payments_reconcile,
    refunds_reconcile,
)


@cron("*/5 * * * *")
@task()
def payments_reconcile_job() -> dict[str, int]:
    return payments_reconcile() | {"refunds_sent": refunds_reconcile(), "abandoned": payments_abandoned_close()}


@cron("*/10 * * * *")
@task()
def auto_top_ups_job() -> dict[str, int]:
    return auto_top_ups_run()


@cron("15 * * * *")
@task()
def cards_expiry_job() -> dict[str, int]:
    return cards_expiry_run()
