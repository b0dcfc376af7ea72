"""Template context for every page: the customer's balance for the header."""

from __future__ import annotations

from django.http import HttpRequest

from hubtab.core.money import money_format, reader_locale, unit_get
from hubtab.crm.selectors import customer_records_of_user
from hubtab.ledger.selectors import account_state


def header_balance(request: HttpRequest) -> dict[str, str]:
    """A customer sees their balance in the header: at the hub of the page, or at their only hub."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    records = list(customer_records_of_user(user_id=user.pk))
    page_hub = getattr(request, "hub", None)
    if page_hub is not None:
        records = [r for r in records if r.hub_id == page_hub.id]
    if len(records) != 1:
        return {}
    record = records[0]
    state = account_state(hub_id=record.hub_id, account_id=record.account_id)
    unit = unit_get(hub_id=record.hub_id, code=state.unit)
    return {"header_balance": money_format(state.balance_minor, unit, reader_locale())}
