"""Periodic messaging work: balance reminders, and sending what is queued."""

from crontask import cron
from django.tasks import task

from hubtab.messaging.reminders import balance_reminders_run


@cron("*/10 * * * *")
@task()
def balance_reminders() -> dict[str, int]:
    return balance_reminders_run()
