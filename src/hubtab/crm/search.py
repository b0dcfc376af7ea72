"""What a customer is found by: names, email, code, and the phone number written every way people
type it ("+33 6 16 12 34 56", "0616123456", "33616"), read in the hub's country."""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from babel.core import get_global

_PHONE_TYPED = re.compile(r"^\+?[\d\s().-]+$")


@cache
def hub_region(timezone_name: str) -> str | None:
    """The country a hub's local phone numbers belong to, from its time zone ("Europe/Paris": FR)."""
    return get_global("zone_territories").get(timezone_name)


def phone_forms(phone: str, region: str | None) -> list[str]:
    """The digits of a phone number as written, in full international form and in national form."""
    digits = re.sub(r"\D", "", phone)
    forms = [digits] if digits else []
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return forms
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
    national = re.sub(r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return list(dict.fromkeys([*forms, international, national]))


def search_text_of(*, first_name: str, last_name: str, email: str, phone: str, code: str, region: str | None) -> str:
    parts = [first_name, last_name, email, phone, code, *(phone_forms(phone, region) if phone else [])]
    return " ".join(part.lower() for part in parts if part)


def search_words(query: str) -> list[str]:
    """The words a search looks for: a phone number typed with spaces or dots is one word of digits."""
    query = query.strip().lower()
    if _PHONE_TYPED.match(query) and sum(char.isdigit() for char in query) >= 3:
        return [re.sub(r"\D", "", query)]
    return query.split()[:5]
