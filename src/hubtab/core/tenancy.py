"""Tenancy that fails loudly: a query on a hub's rows must name its hub, or it raises.

Every tenant-owned model has `objects = HubManager()`. When one of its querysets reaches the
database (iterated, counted, updated, deleted...), its WHERE clause must pin the hub: a lookup on
the row's `hub`, on a hub's field through a relation (`account__hub`), or on a foreign key to
another tenant-owned row that was itself read within its hub (`order=order`, a related manager).
An id alone (`Order.objects.get(id=5)`) is refused: another hub's id would be served.

Work that really spans hubs says so where it runs, once: `queryset.across_hubs()` for one query
(the platform admin, a person's own records at every hub), or `with all_hubs():` around a job that
walks every hub (the morning runs, `ledger verify`).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Self, TypeVar

from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.where import AND, OR, WhereNode

_ALL_HUBS: ContextVar[bool] = ContextVar("hubtab_all_hubs", default=False)
M = TypeVar("M", bound=models.Model)


class TenancyError(RuntimeError):
    """A query on a hub's rows that does not name its hub: a bug, never shown to a person."""


@contextmanager
def all_hubs() -> Iterator[None]:
    """Around a job that walks every hub: its queries may span hubs."""
    token = _ALL_HUBS.set(True)
    try:
        yield
    finally:
        _ALL_HUBS.reset(token)


def is_tenant_owned(model: type[models.Model]) -> bool:
    return isinstance(getattr(model, "_default_manager", None), HubManager)


def _pins_a_hub(field: Any, queried: type[models.Model]) -> bool:
    """Whether a lookup on `field` ties the rows to one hub's rows."""
    if field.model._meta.label_lower == "core.hub" or field.name == "hub":
        return True
    if field.is_relation and (field.many_to_one or field.one_to_one):
        return is_tenant_owned(field.related_model)
    # A tenant-owned row reached through a join, by its id (a many-to-many related manager).
    return bool(field.primary_key and field.model is not queried and is_tenant_owned(field.model))


def names_a_hub(node: Any, queried: type[models.Model]) -> bool:
    if isinstance(node, WhereNode):
        if node.negated or not node.children:
            return False
        if node.connector == AND:
            return any(names_a_hub(child, queried) for child in node.children)
        if node.connector == OR:
            return all(names_a_hub(child, queried) for child in node.children)
        return False
    if isinstance(node, Lookup) and node.lookup_name in ("exact", "in") and isinstance(node.lhs, Col):
        return _pins_a_hub(node.lhs.target, queried)
    return False


def _caller() -> str:
    """Where in Hubtab the query was run, for the error: the innermost frame outside Django and here."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        if "/hubtab/" in frame.filename and not frame.filename.endswith("tenancy.py"):
            return f"{frame.filename.rsplit('/hubtab/', 1)[-1]}:{frame.lineno}"
    return "outside Hubtab"


class HubQuerySet(models.QuerySet[M]):
    _across_hubs = False

    def across_hubs(self) -> Self:
        """This query deliberately spans hubs (say why where it is called)."""
        clone = self._chain()  # type: ignore[attr-defined]
        clone._across_hubs = True
        return clone

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._across_hubs = self._across_hubs
        return clone

    def _hub_check(self) -> None:
        if self._across_hubs or _ALL_HUBS.get() or names_a_hub(self.query.where, self.model):
            return
        raise TenancyError(
            f"A query on {self.model.__name__} does not name its hub ({_caller()}): filter by hub (or a row "
            "of the hub), or say it spans hubs with across_hubs() / all_hubs()."
        )

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._hub_check()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Iterator[M]:
        self._hub_check()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._hub_check()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._hub_check()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._hub_check()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._hub_check()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._hub_check()
        return super().delete()

    def in_bulk(self, *args: Any, **kwargs: Any) -> dict[Any, M]:
        self._hub_check()
        return super().in_bulk(*args, **kwargs)


class HubManager(models.Manager[M]):
    """The manager of every tenant-owned model (see the module's docstring)."""

    def get_queryset(self) -> HubQuerySet[M]:
        return HubQuerySet(self.model, using=self._db)

    def across_hubs(self) -> HubQuerySet[M]:
        return self.get_queryset().across_hubs()

    def for_hub(self, hub: Any) -> HubQuerySet[M]:
        return self.get_queryset().filter(hub=hub)
