"""A hub that bills debt as its crew see it, without a payment provider: its people (owner, finance,
support, a customer, another hub's owner), customers in debt, and their saved cards as the card
form leaves them (brand, last four digits, expiry)."""

from __future__ import annotations

import itertools
from datetime import datetime

from hubtab.accounts.services import account_floor_change, charge_post
from hubtab.billing.billing_settings import billing_settings_update
from hubtab.core.models import Role, User
from hubtab.core.services import membership_grant
from hubtab.crm.services import customer_create
from hubtab.ledger.selectors import account_state
from hubtab.payments.models import SavedCard

PASSWORD = "pw-long-enough"
_numbers = itertools.count(1)


class Crew:
    def __init__(self, hub, other_hub):
        self.hub, self.other_hub = hub, other_hub
        self.people: dict[str, User] = {}
        for role in (Role.OWNER, Role.FINANCE, Role.SUPPORT, Role.CUSTOMER):
            self.people[role.value] = User.objects.create_user(f"{role.value}@example.org", PASSWORD)
            membership_grant(hub=hub, user=self.people[role.value], role=role)
        self.people["other_hub"] = User.objects.create_user("other@example.org", PASSWORD)
        membership_grant(hub=other_hub, user=self.people["other_hub"], role=Role.OWNER)
        self.owner = self.people["owner"]
        billing_settings_update(hub=hub, actor=self.owner, debt_billing=True)

    def debtor(self, name: str, owes_minor: int = 0, *, hub=None, tags: tuple[str, ...] = ()):
        hub = hub or self.hub
        person = customer_create(hub=hub, email=f"{name.lower()}@example.org", first_name=name, last_name="Test",
                                 tags=list(tags))  # fmt: skip
        account_floor_change(hub=hub, account_id=person.account_id, floor_minor=-50000, why="test: may owe")
        if owes_minor:
            self.spend(person, owes_minor, hub=hub)
        return person

    def spend(self, person, amount_minor: int, *, hub=None) -> None:
        n = next(_numbers)
        charge_post(hub=hub or self.hub, account_id=person.account_id, amount_minor=amount_minor,
                    reference=f"order-{n}", description="", key=f"crew-test-order-{n}")  # fmt: skip

    def card(self, person, *, month: int = 12, year: int = 2031, brand: str = "visa", last4: str = "4242"):
        """A card as the gateway's card form saves it (the card itself stays with the gateway)."""
        n = next(_numbers)
        return SavedCard.objects.create(
            hub=self.hub, account_id=person.account_id, gateway_customer_ref=f"cus_test{n}",
            payment_method_ref=f"pm_test{n}", brand=brand, last4=last4, exp_month=month, exp_year=year,
        )  # fmt: skip

    def balance(self, person) -> int:
        return account_state(hub_id=person.hub_id, account_id=person.account_id).balance_minor


def months_from(now: datetime, months: int) -> tuple[int, int]:
    """(month, year) `months` after now's month."""
    index = now.year * 12 + now.month - 1 + months
    return index % 12 + 1, index // 12
