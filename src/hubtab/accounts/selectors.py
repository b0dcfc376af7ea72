"""Reads of the hub's credit rules: its unit and prices, and what a top-up buys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from hubtab.accounts.models import (
    AccountRules,
    Bundle,
    CreditSettings,
    Organisation,
    OrganisationMember,
    OrganisationSpend,
    UnitPrice,
)
from hubtab.accounts.models import PaymentPolicy as PaymentPolicy  # the policies' names are part of the face
from hubtab.core.dates import month_start_of
from hubtab.core.errors import DomainError
from hubtab.core.models import Hub
from hubtab.core.money import Unit, amount_check, currency_unit, money_format, unit_get


def credit_settings_of(*, hub: Hub) -> CreditSettings:
    """The hub's credit settings; the defaults (unsaved) for a hub that never changed them."""
    return CreditSettings.objects.filter(hub=hub).first() or CreditSettings(hub=hub)


def credit_unit_of(*, hub: Hub) -> Unit:
    """The unit the hub's customers hold credit in: its currency, or its named credit unit."""
    code = credit_settings_of(hub=hub).unit_code
    return unit_get(hub_id=hub.id, code=code) if code else currency_unit(hub.currency)


def unit_price_list(*, hub: Hub, unit: Unit) -> QuerySet[UnitPrice]:
    return UnitPrice.objects.filter(hub=hub).filter(unit_code=unit.code).order_by("currency")


def bundle_list(*, hub: Hub, unit: Unit, currency: str | None = None) -> QuerySet[Bundle]:
    """The hub's active bundles in its current unit, cheapest first."""
    bundles = Bundle.objects.filter(hub=hub).filter(unit_code=unit.code, active=True)
    if currency:
        bundles = bundles.filter(currency=currency)
    return bundles.order_by("currency", "price_minor")


@dataclass(frozen=True)
class Quote:
    """What a payment of `price_minor` in `currency` buys: `paid_minor` of paid credit in `unit`
    and `bonus_minor` of granted credit on top (a bundle's extra, or the hub's top-up bonus)."""

    currency: str
    price_minor: int
    unit: Unit
    paid_minor: int
    bonus_minor: int
    bundle_id: int | None = None
    bundle_name: str = ""

    @property
    def total_minor(self) -> int:
        return self.paid_minor + self.bonus_minor


def _price_of(hub: Hub, unit: Unit, currency: str) -> tuple[int, int]:
    """(credits_minor, price_minor): how much of `unit` that much of `currency` buys."""
    if unit.is_currency:
        if unit.code != currency:
            raise DomainError("unit_not_sold", _("Credit here is bought in %(unit)s.") % {"unit": unit.code})
        return 1, 1
    price = unit_price_list(hub=hub, unit=unit).filter(currency=currency).first()
    if price is None:
        raise DomainError(
            "unit_not_sold",
            _("%(unit)s can't be bought in %(currency)s here.") % {"unit": unit.name, "currency": currency},
        )
    return price.credits_minor, price.price_minor


@dataclass(frozen=True)
class CreditPrice:
    """How many credits (`per_credits`) a price of `per_price` in `currency` buys at the hub; 1:1
    where credit is the currency."""

    unit: Unit
    currency: str
    per_credits: int
    per_price: int

    def credits_for(self, amount_minor: int) -> int:
        """A price of `amount_minor` in credits, rounded up: a price asked in credits never undercharges."""
        return -(-amount_minor * self.per_credits // self.per_price)


def credit_price_of(*, hub: Hub, currency: str, unit: Unit | None = None) -> CreditPrice:
    unit = unit or credit_unit_of(hub=hub)
    per_credits, per_price = _price_of(hub, unit, currency)
    return CreditPrice(unit, currency, per_credits, per_price)


def topup_quote(*, hub: Hub, currency: str, price_minor: int | None = None, credits_minor: int | None = None) -> Quote:
    """What paying `price_minor` buys, or what buying `credits_minor` costs (rounded up to the
    currency's minor unit; the customer then gets at least that). Paying exactly a bundle's price
    buys the bundle. Credits bought are rounded down: a fraction of a credit is never issued."""
    unit = credit_unit_of(hub=hub)
    per_credits, per_price = _price_of(hub, unit, currency)
    if price_minor is None:
        if credits_minor is None:
            raise DomainError("validation_error", _("Give an amount."))
        amount_check(credits_minor)
        price_minor = -(-credits_minor * per_price // per_credits)  # ceiling division
    amount_check(price_minor)
    paid_minor = price_minor * per_credits // per_price
    if paid_minor <= 0:
        raise DomainError("invalid_amount", _("That amount is too small to buy any credit."))
    bundle = bundle_list(hub=hub, unit=unit, currency=currency).filter(price_minor=price_minor).first()
    if bundle is not None:
        return Quote(currency, price_minor, unit, paid_minor, max(bundle.credits_minor - paid_minor, 0),
                     bundle.id, bundle.name)  # fmt: skip
    percent = credit_settings_of(hub=hub).topup_bonus_percent
    bonus_minor = int((paid_minor * percent / 100).to_integral_value(rounding=ROUND_DOWN))
    return Quote(currency, price_minor, unit, paid_minor, bonus_minor)


def credits_cost_quoter(*, hub: Hub, currency: str) -> Callable[[int], Quote]:
    """Quotes for buying an exact number of credits, as `topup_quote` prices them but with no bundle
    and no bonus (paying a debt buys what is owed, not a top-up's extras); the price is read once,
    for lists of many customers."""
    unit = credit_unit_of(hub=hub)
    per_credits, per_price = _price_of(hub, unit, currency)

    def quote(credits_minor: int) -> Quote:
        amount_check(credits_minor)
        price_minor = -(-credits_minor * per_price // per_credits)  # rounded up, as topup_quote does
        return Quote(currency, price_minor, unit, price_minor * per_credits // per_price, 0)

    return quote


def usual_largest(*, hub: Hub) -> tuple[int, int]:
    """The largest amount the hub usually sees (its largest top-up), in its currency and in its
    credit unit: crew confirm an amount above it before it is posted."""
    money_minor = credit_settings_of(hub=hub).topup_max_minor
    try:
        credits_minor = topup_quote(hub=hub, currency=hub.currency, price_minor=money_minor).paid_minor
    except DomainError:  # no price of credit yet: credits and money can't be compared
        credits_minor = money_minor
    return money_minor, credits_minor


def unit_price_text(*, price: UnitPrice, unit: Unit, locale: str) -> str:
    """ "10.00 credits for £1.00", in the hub's locale."""
    return _("%(credits)s for %(price)s") % {
        "credits": money_format(price.credits_minor, unit, locale),
        "price": money_format(price.price_minor, currency_unit(price.currency), locale),
    }


def payment_policy_for(*, hub: Hub, account_id: int, settings: CreditSettings | None = None) -> tuple[str, bool]:
    """The payment policy that applies to this account, and whether it is the account's own
    (`settings`: the hub's credit settings, when the caller has them already)."""
    own = AccountRules.objects.filter(hub=hub, account_id=account_id).values_list("payment_policy", flat=True).first()
    if own:
        return own, True
    return (settings or credit_settings_of(hub=hub)).payment_policy, False


def organisation_list(*, hub: Hub) -> QuerySet[Organisation]:
    return Organisation.objects.filter(hub=hub).order_by("name")


def organisation_get(*, hub: Hub, organisation_id: int) -> Organisation | None:
    return Organisation.objects.filter(hub=hub).filter(id=organisation_id).first()


def organisation_members(*, hub: Hub, organisation: Organisation, now: datetime) -> list[dict[str, Any]]:
    """Members with their monthly limit and what they spent this calendar month (the hub's time)."""
    month_start = month_start_of(now, timezone_name=hub.timezone)
    spent = dict(
        OrganisationSpend.objects.filter(organisation=organisation, spent_at__gte=month_start)
        .values("member_account_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("member_account_id", "total")
    )
    return [
        {
            "account_id": m.member_account_id,
            "monthly_limit_minor": m.monthly_limit_minor,
            "spent_this_month_minor": spent.get(m.member_account_id, 0),
        }
        for m in OrganisationMember.objects.filter(organisation=organisation).order_by("id")
    ]
