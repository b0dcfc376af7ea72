"""Units of account and money formatting: integer minor units, ISO currencies or a hub's credit unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_currency, format_decimal, get_currency_precision, list_currencies
from django.utils import translation
from django.utils.translation import gettext as _

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
    credit = CreditUnit.objects.filter(hub_id=hub_id, code=code).first()
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


def reader_locale() -> str:
    """The locale of the person reading (the language they chose), as Babel names it: pages show
    every amount and date in it, whatever the hub's own language."""
    return translation.to_locale(translation.get_language() or "en")


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
        raise DomainError("invalid_amount", _("Enter an amount such as 12.50."))
    minor = value.scaleb(unit.decimals)
    if minor != minor.to_integral_value():
        if not unit.decimals:
            raise DomainError("invalid_amount", _("%(unit)s are counted in whole numbers.") % {"unit": unit.name})
        raise DomainError(
            "invalid_amount",
            _("Amounts in %(unit)s have at most %(n)s decimals.") % {"unit": unit.name, "n": unit.decimals},
        )
    return amount_check(int(minor), allow_zero=True, allow_negative=True)


# What people type into an amount field: ASCII digits, the marks of their language, spaces.
_TYPED_SPACES = " \u00a0\u202f"
_TYPED_CHARACTERS = frozenset("0123456789.," + _TYPED_SPACES)


def amount_example(locale: str) -> str:
    """How an amount is written in this language, for error messages: "1,234.50", "1 234,50"."""
    return format_decimal(Decimal("1234.50"), format="#,##0.00", locale=locale).replace("\u202f", " ")


def amount_parse(text: str, locale: str) -> Decimal:
    """An amount as a person typed it, read strictly by their language ("1,500" is fifteen
    hundred in English; "1 500,50" or "1500,50" in French). Refused, with an example of the
    expected form: exponents, underscores, digits other than 0-9, a grouping that is not by
    thousands ("12,345,67"), and a mark that could be read two ways ("1.500" in French)."""
    parsed = Locale.parse(locale.replace("-", "_"))
    decimal_mark = parsed.number_symbols["latn"]["decimal"]
    other_mark = "," if decimal_mark == "." else "."
    example = amount_example(locale)
    refusal = DomainError(
        "invalid_amount", _("Type an amount like %(example)s or %(plain)s.")
        % {"example": example, "plain": example.replace(" ", "").replace(other_mark, "")},
    )  # fmt: skip
    body = (text or "").strip()
    sign = ""
    if body[:1] in ("-", "\u2212"):
        sign, body = "-", body[1:].lstrip()
    if not body or not set(body) <= _TYPED_CHARACTERS or not body[0].isdigit():
        raise refusal
    whole, fraction = body, ""
    if body.count(decimal_mark) > 1:
        raise refusal
    if decimal_mark in body:
        whole, fraction = body.rsplit(decimal_mark, 1)
    elif other_mark in body and other_mark == "." and body.count(".") == 1 and len(body.rsplit(".", 1)[1]) != 3:
        # A dot where a comma is the decimal mark (a phone's keypad): unambiguous unless three digits follow.
        whole, fraction = body.rsplit(".", 1)
    if fraction and not fraction.isdigit():
        raise refusal
    # Whatever marks remain group thousands: groups of three after a first group of one to three.
    groups = _split_groups(whole)
    if (
        not all(group.isdigit() for group in groups)
        or (len(groups) > 1 and (len(groups[0]) > 3 or any(len(group) != 3 for group in groups[1:])))
        or (decimal_mark == "," and "." in whole)  # "1.500" in French: a thousand and a half, or one and a half?
    ):
        raise refusal
    return Decimal(sign + "".join(groups) + ("." + fraction if fraction else ""))


def _split_groups(whole: str) -> list[str]:
    groups = [""]
    for char in whole:
        if char in ".," + _TYPED_SPACES:
            groups.append("")
        else:
            groups[-1] += char
    return groups
