"""Periodic ledger work: holds and granted credit that reach their expiry."""

from crontask import cron
from django.tasks import task

from hubtab.ledger import expiry


@cron("*/5 * * * *")
@task()
def ledger_expire_due() -> dict[str, int]:
    return {"holds": expiry.holds_expire_due(), "lots": expiry.lots_expire_due()}
