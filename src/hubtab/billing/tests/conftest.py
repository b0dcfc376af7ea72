"""A hub that bills debt, its customers with saved cards (through the Stripe proxy in front of
localstripe), and time: the hub is in Europe/Paris, mornings at 05:00."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hubtab.accounts.services import account_floor_change, charge_post
from hubtab.billing.billing_settings import billing_settings_update
from hubtab.crm.services import customer_create, customer_credit_apply
from hubtab.ledger.selectors import account_state
from hubtab.payments.models import SavedCard
from hubtab.payments.services import card_setup_finish, card_setup_start
from hubtab.testing import stripe_card_entered

PARIS = ZoneInfo("Europe/Paris")
GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000341"  # saved fine, every later charge declined (the proxy says why)
BANK_CHECK_CARD = "4000002500003155"  # the bank asks the customer on every charge


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


class Billing:
    """Customers in debt with saved cards at the billing hub."""

    def __init__(self, hub, proxy, owner):
        self.hub, self.proxy, self.owner = hub, proxy, owner
        self._orders = 0

    def customer(self, name: str, *, card: str | None = GOOD_CARD, owes_minor: int = 0, email: str | None = None):
        person = customer_create(hub=self.hub, email=email if email is not None else f"{name.lower()}@example.org",
                                 first_name=name, last_name="Test")  # fmt: skip
        account_floor_change(hub=self.hub, account_id=person.account_id, floor_minor=-20000, why="test: owes")
        if card is not None:
            self.card(person, card)
        if owes_minor:
            self.spend(person, owes_minor + self.balance(person))
        return person

    def card(self, person, number: str = GOOD_CARD, decline_code: str = "insufficient_funds") -> SavedCard:
        """A card saved through the gateway's card form (no charge). A declining card's charges
        fail with `decline_code`, as the bank would say it (the proxy gives the reason)."""
        setup_ref, client_secret = card_setup_start(hub=self.hub, customer=person)
        stripe_card_entered(self.proxy.url, client_secret, number)
        card = card_setup_finish(hub=self.hub, customer=person, setup_ref=setup_ref, actor=None)
        if number == DECLINING_CARD:
            self.proxy.decline(card.payment_method_ref, decline_code)
        return card

    def spend(self, person, amount_minor: int) -> None:
        self._orders += 1
        charge_post(hub=self.hub, account_id=person.account_id, amount_minor=amount_minor,
                    reference=f"order-{self._orders}", description="", key=f"test-order-{self._orders}")  # fmt: skip

    def credit(self, person, amount_minor: int) -> None:
        """Money paid by hand (cash), recorded by crew."""
        self._orders += 1
        customer_credit_apply(hub=self.hub, actor=self.owner, customer=person, action="external_payment",
                              amount_minor=amount_minor, comment="cash", key=f"test-cash-{self._orders}",
                              method="cash")  # fmt: skip

    def balance(self, person) -> int:
        return account_state(hub_id=self.hub.id, account_id=person.account_id).balance_minor


@pytest.fixture
def billing(stripe_proxy_hub, stripe_proxy, django_user_model):
    from hubtab.core.models import Role
    from hubtab.core.services import membership_grant

    owner = django_user_model.objects.create_user(email="owner@greenvalley.example", password="pw-long-enough")
    membership_grant(hub=stripe_proxy_hub, user=owner, role=Role.OWNER)
    billing_settings_update(hub=stripe_proxy_hub, actor=owner, debt_billing=True)
    return Billing(stripe_proxy_hub, stripe_proxy, owner)
