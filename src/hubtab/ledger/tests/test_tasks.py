"""The worker's periodic ledger task expires what is due."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hubtab.ledger import services
from hubtab.ledger.tasks import ledger_expire_due

from .helpers import balance, spendable

pytestmark = pytest.mark.django_db


def test_the_periodic_task_expires_due_holds_and_granted_credit(books):
    alice = books.customer("Alice")
    books.grant(alice, 300, expires_at=timezone.now() - timedelta(minutes=1))
    books.top_up(alice, 1000)
    services.hold_place(
        hub_id=books.hub.id,
        key="o",
        account_id=alice.id,
        amount_minor=200,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert ledger_expire_due.call() == {"holds": 1, "lots": 1}
    assert (balance(alice), spendable(alice)) == (1000, 1000)
    assert ledger_expire_due.call() == {"holds": 0, "lots": 0}
