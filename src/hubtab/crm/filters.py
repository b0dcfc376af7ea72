"""Who is in a list of people: conditions combined with AND, where conditions joined by "or" form a
group. One filter, read from a page's address, a saved segment or the API, and applied by one
selector (crm.selectors.people_matching) for the page, the export, copying emails and campaigns.

In an address each condition is three parameters, in order: `c` (its kind), `v` (its value, empty
for kinds that take none) and `j` ("and" or "or": how it joins the condition before it), e.g.
`?c=tags_any&v=veg box&j=and&c=last_within&v=8&j=and`. `q` is the free-text search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from babel.dates import format_date
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from hubtab.core.errors import DomainError
from hubtab.core.money import Unit, amount_from_decimal, amount_parse, minor_to_decimal, money_format
from hubtab.crm.models import PersonStatus, Source


class Takes(StrEnum):
    """What a condition's value is."""

    NOTHING = "nothing"
    TAGS = "tags"  # tag names, separated by commas
    STATUS = "status"
    SOURCE = "source"
    YES_NO = "yes_no"
    AMOUNT = "amount"  # in the hub's credit unit
    COUNT = "count"  # a whole number of orders
    WEEKS = "weeks"
    DATE = "date"
    CYCLE = "cycle"  # an order cycle's id, or empty for the current one
    TEXT = "text"


@dataclass(frozen=True)
class Kind:
    code: str
    label: Any
    takes: Takes
    topic: Any


_TAGS, _STATUS, _MONEY, _ORDERS, _RECORD = _("Tags"), _("Status"), _("Money"), _("Orders"), _("Record")
KINDS: dict[str, Kind] = {
    k.code: k
    for k in [
        Kind("tags_any", _("has any of the tags"), Takes.TAGS, _TAGS),
        Kind("tags_all", _("has all of the tags"), Takes.TAGS, _TAGS),
        Kind("tags_none", _("has none of the tags"), Takes.TAGS, _TAGS),
        Kind("status", _("status is"), Takes.STATUS, _STATUS),
        Kind("consent", _("agreed to marketing"), Takes.YES_NO, _STATUS),
        Kind("balance_min", _("balance at least"), Takes.AMOUNT, _MONEY),
        Kind("balance_max", _("balance at most"), Takes.AMOUNT, _MONEY),
        Kind("running_low", _("running low"), Takes.NOTHING, _MONEY),
        Kind("in_debt", _("in debt"), Takes.NOTHING, _MONEY),
        Kind("spent_min", _("total purchases at least"), Takes.AMOUNT, _MONEY),
        Kind("spent_max", _("total purchases at most"), Takes.AMOUNT, _MONEY),
        Kind("last_within", _("last purchase within"), Takes.WEEKS, _ORDERS),
        Kind("last_before", _("last purchase before"), Takes.DATE, _ORDERS),
        Kind("last_after", _("last purchase on or after"), Takes.DATE, _ORDERS),
        Kind("never_ordered", _("never ordered"), Takes.NOTHING, _ORDERS),
        Kind("in_cycle", _("ordered in"), Takes.CYCLE, _ORDERS),
        Kind("not_in_cycle", _("did not order in"), Takes.CYCLE, _ORDERS),
        Kind("orders_min", _("completed orders at least"), Takes.COUNT, _ORDERS),
        Kind("orders_max", _("completed orders at most"), Takes.COUNT, _ORDERS),
        Kind("source", _("came from"), Takes.SOURCE, _RECORD),
        Kind("created_after", _("added on or after"), Takes.DATE, _RECORD),
        Kind("created_before", _("added before"), Takes.DATE, _RECORD),
        Kind("text", _("name, email, phone or code contains"), Takes.TEXT, _RECORD),
    ]
}
MAX_CONDITIONS = 20
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Condition:
    """One condition, its value stored in a plain form that reads the same in any language: tag
    names joined by commas, amounts in minor units, dates as ISO dates."""

    kind: str
    value: str = ""
    join: str = "and"  # "or": in one group with the condition before it

    def tags(self) -> list[str]:
        return tag_list(self.value)

    def number(self) -> int:
        return int(self.value)

    def day(self) -> date:
        return date.fromisoformat(self.value)


@dataclass(frozen=True)
class PeopleFilter:
    conditions: tuple[Condition, ...] = ()
    query: str = ""  # the search box: every word must be found

    def groups(self) -> list[list[Condition]]:
        """The conditions in AND-ed groups of OR-ed conditions."""
        groups: list[list[Condition]] = []
        for condition in self.conditions:
            if condition.join == "or" and groups:
                groups[-1].append(condition)
            else:
                groups.append([condition])
        return groups

    def to_json(self) -> dict[str, Any]:
        return {"q": self.query, "conditions": [[c.kind, c.value, c.join] for c in self.conditions]}

    @classmethod
    def from_json(cls, data: Any) -> PeopleFilter:
        """A stored filter (a segment's), checked again: a saved segment stays safe to apply."""
        if not isinstance(data, dict) or not isinstance(data.get("conditions", []), list):
            raise DomainError("invalid_filter", "A filter is an object with a list of conditions.")
        rows = []
        for item in data.get("conditions", []):
            if not isinstance(item, list | tuple) or len(item) != 3 or not all(isinstance(x, str) for x in item):
                raise DomainError("invalid_filter", "Each condition is [kind, value, join].")
            rows.append(Condition(*item))
        query = data.get("q", "")
        return cls(tuple(condition_check(c) for c in rows), query if isinstance(query, str) else "")

    def to_params(self, unit: Unit | None = None, locale: str = "en") -> list[tuple[str, str]]:
        """The filter as address parameters (amounts as the reader types them)."""
        params = [("q", self.query)] if self.query else []
        for c in self.conditions:
            params += [("c", c.kind), ("v", value_shown(c, unit, locale)), ("j", c.join)]
        return params

    def describe(self, unit: Unit | None = None, locale: str = "en", cycles: dict[int, str] | None = None) -> str:
        """A short line for audit records and segment lists, in the reader's words: "status is
        Customer · has any of the tags veg box or running low"."""
        either = f" {gettext('or')} "
        parts = [
            either.join(f"{KINDS[c.kind].label} {value_words(c, unit, locale, cycles)}".strip() for c in group)
            for group in self.groups()
        ]
        return (" · ".join(parts) + (f" · “{self.query}”" if self.query else "")).strip(" ·")


@dataclass
class FilterInput:
    """A filter read from an address, with a message for each condition it could not read."""

    filter: PeopleFilter
    errors: dict[int, str] = field(default_factory=dict)
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # as typed, to show again


def tag_list(text: str) -> list[str]:
    return list(dict.fromkeys(name.strip()[:40] for name in text.split(",") if name.strip()))


def filter_from_params(params: Any, *, unit: Unit, locale: str) -> FilterInput:
    """Read `q`, and `c`, `v`, `j` in step, from a QueryDict or the API's query; the page's older
    `tag`, `status`, `low` and `archived` parameters too, so that bookmarks keep working."""
    kinds, values, joins = params.getlist("c"), params.getlist("v"), params.getlist("j")
    typed = [
        (kind, values[i] if i < len(values) else "", joins[i] if i < len(joins) else "and")
        for i, kind in enumerate(kinds[:MAX_CONDITIONS])
    ]
    if params.get("tag"):
        typed.append(("tags_any", params.get("tag", "")[:40], "and"))
    if params.get("status") in PersonStatus.values:
        typed.append(("status", params["status"], "and"))
    elif params.get("archived") == "1":
        typed.append(("status", PersonStatus.ARCHIVED, "and"))
    if params.get("low") == "1":
        typed.append(("running_low", "", "and"))
    conditions, errors, rows = [], {}, []
    for kind, value, join in typed:
        if not kind:  # an empty row of the builder
            continue
        rows.append((kind, value, join))
        try:
            conditions.append(condition_read(kind, value, join, unit=unit, locale=locale))
        except DomainError as exc:
            errors[len(rows) - 1] = exc.message
    query = (params.get("q") or "")[:100]
    return FilterInput(PeopleFilter(tuple(conditions), query), errors, rows)


def condition_read(kind: str, typed: str, join: str, *, unit: Unit, locale: str) -> Condition:
    """A condition as a person typed it (amounts in their language), in its stored form."""
    if kind not in KINDS:
        raise DomainError("invalid_filter", gettext("Choose a condition from the list."))
    typed = (typed or "").strip()[:200]
    if KINDS[kind].takes == Takes.AMOUNT:
        try:
            typed = str(amount_from_decimal(amount_parse(typed, locale), unit))
        except DomainError as exc:
            raise DomainError("invalid_filter", exc.message) from exc
    return condition_check(Condition(kind, typed, "or" if join == "or" else "and"))


def condition_check(condition: Condition) -> Condition:
    """The condition if its value fits its kind (stored form), else a DomainError saying why."""
    kind = KINDS.get(condition.kind)
    if kind is None:
        raise DomainError("invalid_filter", gettext("Choose a condition from the list."))
    value = condition.value
    if condition.join not in ("and", "or"):
        raise DomainError("invalid_filter", gettext("Join conditions with “and” or “or”."))
    if kind.takes == Takes.NOTHING:
        return Condition(condition.kind, "", condition.join)
    if kind.takes in (Takes.TAGS, Takes.TEXT) and not value.strip():
        raise DomainError("invalid_filter", gettext("Type what to look for."))
    if kind.takes == Takes.STATUS and value not in PersonStatus.values:
        raise DomainError("invalid_filter", gettext("Choose a status: lead, customer, lapsed or archived."))
    if kind.takes == Takes.SOURCE and value not in Source.values:
        raise DomainError("invalid_filter", gettext("Choose where people came from."))
    if kind.takes == Takes.YES_NO and value not in (YES, NO):
        raise DomainError("invalid_filter", gettext("Choose yes or no."))
    if kind.takes in (Takes.AMOUNT, Takes.COUNT, Takes.WEEKS, Takes.CYCLE) and value:
        sign_ok = kind.takes == Takes.AMOUNT
        digits = value[1:] if sign_ok and value.startswith("-") else value
        if not digits.isdigit() or len(digits) > 12:
            raise DomainError("invalid_filter", gettext("Type a whole number, such as 8."))
    if kind.takes in (Takes.AMOUNT, Takes.COUNT, Takes.WEEKS) and not value:
        raise DomainError("invalid_filter", gettext("Type a number."))
    if kind.takes == Takes.WEEKS and not 1 <= int(value) <= 520:
        raise DomainError("invalid_filter", gettext("Choose between 1 and 520 weeks."))
    if kind.takes == Takes.DATE:
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise DomainError("invalid_filter", gettext("Choose a date.")) from exc
    return condition


def value_shown(condition: Condition, unit: Unit | None, locale: str) -> str:
    """The value as the filter form shows it back (amounts in the reader's form)."""
    if KINDS[condition.kind].takes == Takes.AMOUNT and unit is not None and condition.value:
        from babel.numbers import format_decimal

        return format_decimal(minor_to_decimal(int(condition.value), unit), locale=locale, group_separator=False)
    return condition.value


def value_words(condition: Condition, unit: Unit | None, locale: str, cycles: dict[int, str] | None = None) -> str:
    """The value as a sentence says it: labels for codes, amounts with their unit, dates in full."""
    takes, value = KINDS[condition.kind].takes, condition.value
    if takes == Takes.STATUS:
        return str(PersonStatus(value).label)
    if takes == Takes.SOURCE:
        return str(Source(value).label)
    if takes == Takes.YES_NO:
        return gettext("yes") if value == YES else gettext("no")
    if takes == Takes.AMOUNT and unit is not None:
        return money_format(int(value), unit, locale)
    if takes == Takes.DATE:
        return format_date(date.fromisoformat(value), "medium", locale=locale)
    if takes == Takes.WEEKS:
        return ngettext("%(n)s week", "%(n)s weeks", int(value)) % {"n": value}
    if takes == Takes.CYCLE:
        if not value:
            return gettext("the current cycle")
        return (cycles or {}).get(int(value)) or gettext("cycle #%(id)s") % {"id": value}
    return value
