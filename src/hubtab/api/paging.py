"""Keyset ("cursor") paging over any ordered queryset, in the order its selector chose: the cursor
carries the last row's value of every ordering key, signed, so the next page starts right after
that row whoever is added or removed meanwhile, and a cursor the API did not give is refused.

The keys are read from the queryset's own ordering (a selector may change it: the paging follows),
with the primary key added last when the ordering does not end with it, so that no two rows tie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.core import signing
from django.db import connection
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy

from hubtab.api.errors import ApiError

_SALT = "hubtab.api.paging"
_NOT_OURS = "That cursor is not one this API gave for this list."


@dataclass(frozen=True)
class _Key:
    name: str  # the annotation holding the key's value
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Page[M: Model]:
    rows: list[M]
    next_cursor: str | None


def keyset_page[M: Model](rows: QuerySet[M], *, cursor: str | None, size: int, shape: str) -> Page[M]:
    """`size` rows after the cursor's row (from the start without one), and the cursor of the last
    row shown when more follow. `shape` names the list and its order: a cursor made for another one
    is refused (422), as is one that was changed."""
    ordered, keys = _keyed(rows)
    if cursor:
        ordered = ordered.filter(_after(keys, _read(cursor, shape, len(keys))))
    found = list(ordered[: size + 1])
    if len(found) <= size:
        return Page(found, None)
    last = found[size - 1]
    return Page(found[:size], _write(shape, [getattr(last, key.name) for key in keys]))


def _keyed[M: Model](rows: QuerySet[M]) -> tuple[QuerySet[M], list[_Key]]:
    ordering = list(rows.query.order_by) or ["pk"]
    if ordering[-1] not in ("pk", "-pk", "id", "-id"):
        ordering.append("pk")
    # Where a key says nothing of empty values, the database's rule applies: PostgreSQL puts them
    # last going up and first going down, SQLite the other way round.
    nulls_high = connection.vendor == "postgresql"
    keys, values = [], {}
    for n, item in enumerate(ordering):
        expression: Any
        if isinstance(item, str):
            descending, expression, nulls_first = item.startswith("-"), F(item.lstrip("-")), None
        elif isinstance(item, OrderBy):
            descending, expression = item.descending, item.expression
            nulls_first = True if item.nulls_first else False if item.nulls_last else None
        else:
            descending, expression, nulls_first = False, item, None
        if nulls_first is None:
            nulls_first = descending if nulls_high else not descending
        keys.append(_Key(f"page_key_{n}", descending, nulls_first))
        values[f"page_key_{n}"] = expression
    return rows.annotate(**values).order_by(*ordering), keys


def _after(keys: list[_Key], values: list[Any]) -> Q:
    """Rows after the one with these key values: equal on the keys before one, and beyond it on it."""
    options, same = [], Q()
    for key, value in zip(keys, values, strict=True):
        beyond = _beyond(key, value)
        if beyond is not None:
            options.append(same & beyond)
        same &= Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})
    return reduce(or_, options) if options else Q(pk__in=[])


def _beyond(key: _Key, value: Any) -> Q | None:
    if value is None:  # among the empty values: after them come the filled ones, if those come last
        return Q(**{f"{key.name}__isnull": False}) if key.nulls_first else None
    beyond = Q(**{f"{key.name}__lt" if key.descending else f"{key.name}__gt": value})
    return beyond if key.nulls_first else beyond | Q(**{f"{key.name}__isnull": True})


def _write(shape: str, values: list[Any]) -> str:
    return signing.dumps({"s": shape, "v": [_pack(v) for v in values]}, salt=_SALT, compress=True)


def _read(cursor: str, shape: str, count: int) -> list[Any]:
    try:
        data = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature as exc:
        raise ApiError(422, "validation_error", _NOT_OURS) from exc
    if not isinstance(data, dict) or data.get("s") != shape or len(data.get("v", ())) != count:
        raise ApiError(422, "validation_error", _NOT_OURS)
    return [_unpack(v) for v in data["v"]]


def _pack(value: Any) -> Any:
    """A key's value as JSON, its type kept where JSON has none of its own."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    raise TypeError(f"cannot page on a {type(value).__name__} key")


def _unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        return Decimal(value["dec"])
    return value
