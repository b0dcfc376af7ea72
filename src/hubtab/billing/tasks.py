"""Periodic billing work: the morning run, every ten minutes (each hub's payments are due from its
own morning hour, in its own time zone; a payment not yet due is left for a later tick)."""

from crontask import cron
from django.tasks import task

from hubtab.billing.run import billing_run


@cron("*/10 * * * *")
@task()
def billing_run_job() -> dict[str, int]:
    return billing_run()
