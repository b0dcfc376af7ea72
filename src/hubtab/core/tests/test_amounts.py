"""Amounts as people type them, read by the language of the person typing: one reading or a
clear error with an example, never a silently different figure."""

from decimal import Decimal

import pytest
from django.utils import translation

from hubtab.core.errors import DomainError
from hubtab.core.money import amount_parse

REFUSED = None

TABLE = {
    "en": {
        "12.50": Decimal("12.50"),
        "1,500": Decimal(1500),  # fifteen hundred, as an English reader means it
        "1,234.50": Decimal("1234.50"),
        "1 234.50": Decimal("1234.50"),
        "-50": Decimal(-50),
        "\u221220": Decimal(-20),  # the minus sign a phone may type
        "0.5": Decimal("0.5"),
        "1234": Decimal(1234),
        "12,50": REFUSED,  # not a grouping by thousands: a French decimal, or a typo?
        "12,345,67": REFUSED,
        "1e9": REFUSED,
        "1E3": REFUSED,
        "1_000": REFUSED,
        "\u0661\u0662": REFUSED,  # Arabic-Indic digits
        "\uff11\uff12": REFUSED,  # full-width digits
        "1.500,00": REFUSED,
        ".5": REFUSED,
        "abc": REFUSED,
        "12 €": REFUSED,
        "Infinity": REFUSED,
        "NaN": REFUSED,
        "0x10": REFUSED,
        "": REFUSED,
    },
    "fr": {
        "12,50": Decimal("12.50"),
        "1 234,50": Decimal("1234.50"),
        "1\u202f234,50": Decimal("1234.50"),  # the narrow space French formatting writes
        "1\u00a0234,50": Decimal("1234.50"),
        "12.50": Decimal("12.50"),  # a phone keypad's dot: only one reading
        "-20,00": Decimal(-20),
        "1,500": Decimal("1.500"),  # one and a half: too many decimals for euros is refused later
        "1.500": REFUSED,  # a thousand and a half, or one and a half?
        "12,345,67": REFUSED,
        "1e9": REFUSED,
        "1_000": REFUSED,
        "\u0661\u0662": REFUSED,
        "1,234.50": REFUSED,
        "1.234,50": REFUSED,
    },
}


@pytest.mark.parametrize(
    ("locale", "typed", "expected"),
    [(locale, typed, expected) for locale, rows in TABLE.items() for typed, expected in rows.items()],
)
def test_an_amount_is_read_by_the_typists_language_or_refused_with_an_example(locale, typed, expected):
    if expected is REFUSED:
        with translation.override(locale), pytest.raises(DomainError) as refused:
            amount_parse(typed, locale)
        example = {"en": "1,234.50", "fr": "1 234,50"}[locale]
        assert refused.value.code == "invalid_amount" and example in refused.value.message
    else:
        assert amount_parse(typed, locale) == expected
