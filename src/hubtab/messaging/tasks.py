"""Periodic messaging work: balance reminders are queued, and what is queued is sent, each its own job."""

from crontask import cron
from django.tasks import task

from hubtab.messaging.reminders import balance_reminders_queue
from hubtab.messaging.services import deliveries_send_due


@cron("*/10 * * * *")
@task()
def balance_reminders() -> dict[str, int]:
    return balance_reminders_queue()


@cron("* * * * *")
@task()
def deliveries_send() -> dict[str, int]:
    """Every minute: receipts, notices and reminders go out within a minute of being queued."""
    return deliveries_send_due()
