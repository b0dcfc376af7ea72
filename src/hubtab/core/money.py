"""Units of account and money formatting: integer minor units, ISO currencies or a hub's credit unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from babel.numbers import format_currency, format_decimal, get_currency_precision, list_currencies

from hubtab.core.errors import DomainError

# Amounts beyond this are refused outright: far above any hub's turnover, far below bigint overflow
# even when a million of them are summed.
MAX_AMOUNT_MINOR = 10**12


@dataclass(frozen=True)
class Unit:
    code: str
    decimals: int
    name: str
    is_currency: bool


@cache
def _iso_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_unit(code: str) -> Unit:
    if code not in _iso_currencies():
        raise DomainError("unknown_unit", f"{code!r} is not an ISO 4217 currency.")
    return Unit(code=code, decimals=get_currency_precision(code), name=code, is_currency=True)


def unit_get(*, hub_id: int, code: str) -> Unit:
    """The unit `code` as the hub knows it: an ISO currency or one of its credit units."""
    from hubtab.core.models import CreditUnit

    if not isinstance(code, str) or not code:
        raise DomainError("unknown_unit", "A unit code is required.")
    # ISO codes are answered without a query (this runs on every posting); credit units may
    # not take an ISO code, so the two never shadow each other.
    if code in _iso_currencies():
        return currency_unit(code)
    credit = CreditUnit.objects.with_scopes_disabled().filter(hub_id=hub_id, code=code).first()
    if credit is None:
        raise DomainError("unknown_unit", f"{code!r} is neither an ISO 4217 currency nor a credit unit of this hub.")
    return Unit(code=credit.code, decimals=credit.decimals, name=credit.name, is_currency=False)


def amount_check(value: object, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """Return `value` as a checked integer amount in minor units, or raise `invalid_amount`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("invalid_amount", f"Amounts are whole numbers of minor units, not {type(value).__name__}.")
    if value == 0 and not allow_zero:
        raise DomainError("invalid_amount", "The amount must not be zero.")
    if value < 0 and not allow_negative:
        raise DomainError("invalid_amount", "The amount must be positive.")
    if abs(value) > MAX_AMOUNT_MINOR:
        raise DomainError("invalid_amount", f"The amount must be at most {MAX_AMOUNT_MINOR} minor units.")
    return value


def minor_to_decimal(amount_minor: int, unit: Unit) -> Decimal:
    return Decimal(amount_minor).scaleb(-unit.decimals)


def money_format(amount_minor: int, unit: Unit, locale: str = "en") -> str:
    """Format for people, in the hub's locale: '12,50 €' in fr, '£12.50' in en, '125.0 credits'."""
    value = minor_to_decimal(amount_minor, unit)
    if unit.is_currency:
        return format_currency(value, unit.code, locale=locale)
    pattern = "#,##0." + "0" * unit.decimals if unit.decimals else "#,##0"
    return f"{format_decimal(value, format=pattern, locale=locale)} {unit.name}"


def amount_from_decimal(value: Decimal, unit: Unit) -> int:
    """People's amounts ("12.50") as minor units (1250), refusing more decimals than the unit has."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise DomainError("invalid_amount", "Enter an amount such as 12.50.")
    minor = value.scaleb(unit.decimals)
    if minor != minor.to_integral_value():
        raise DomainError("invalid_amount", f"{unit.name} amounts have at most {unit.decimals} decimals.")
    return amount_check(int(minor), allow_zero=True, allow_negative=True)
