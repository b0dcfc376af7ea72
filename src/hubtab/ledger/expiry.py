"""The ledger's periodic jobs over every hub: holds past their time and granted credit past its
expiry. Each item ends once (under its account's lock), so a run that crashes half way, or two
runners at once, are safe: the next run picks up what is left."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from hubtab.core.errors import DomainError
from hubtab.ledger.models import Hold, Lot
from hubtab.ledger.services import hold_expire, lot_expire

logger = logging.getLogger(__name__)


def holds_expire_due(*, now: datetime | None = None, hub_id: int | None = None) -> int:
    """Expire every hold past its time; the number expired by this run."""
    now = now or timezone.now()
    due = Hold.objects.across_hubs().filter(status="held", expires_at__lte=now)  # a job over every hub
    if hub_id is not None:
        due = due.filter(hub_id=hub_id)
    expired = 0
    for hold_hub_id, hold_id in due.values_list("hub_id", "id").order_by("id").iterator():
        try:
            result = hold_expire(hub_id=hold_hub_id, hold_id=hold_id, now=now)
        except DomainError as exc:
            if exc.code != "hold_not_active":  # captured or voided meanwhile: nothing to do
                raise
            continue
        expired += 0 if result.replayed else 1
    return expired


def lots_expire_due(*, now: datetime | None = None, hub_id: int | None = None) -> int:
    """Expire what is left of every granted lot past its expiry; the number expired by this run."""
    now = now or timezone.now()
    due = Lot.objects.across_hubs().filter(kind="granted", is_open=True, expires_at__lte=now)  # every hub
    if hub_id is not None:
        due = due.filter(hub_id=hub_id)
    expired = 0
    rows: Iterable[tuple[int, int, str]] = due.values_list("hub_id", "id", "account__unit").order_by("id")
    for lot_hub_id, lot_id, unit in list(rows):
        try:
            transaction_id = lot_expire(hub_id=lot_hub_id, lot_id=lot_id, unit=unit, now=now)
        except DomainError:
            # One lot that cannot expire must not stop the others; it is retried next run.
            logger.exception("lot %s of hub %s could not expire", lot_id, lot_hub_id)
            continue
        expired += 1 if transaction_id is not None else 0
    return expired
