"""The shop's order cycles as the CRM sees them, for "ordered in this cycle". The shop sits above
the CRM, so it registers where the cycles are read (in its app's ready()) instead of the CRM
importing it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hubtab.core.models import Hub


@dataclass(frozen=True)
class CycleChoice:
    id: int
    name: str
    current: bool  # open now, or else the one that opened last


_source: list[Callable[[Hub], list[CycleChoice]]] = []


def cycles_source_register(source: Callable[[Hub], list[CycleChoice]]) -> None:
    """Where the hub's recent cycles come from (newest first, the current one marked)."""
    _source[:] = [source]


def cycle_choices(*, hub: Hub) -> list[CycleChoice]:
    return _source[0](hub) if _source else []


def cycle_current(*, hub: Hub) -> CycleChoice | None:
    return next((cycle for cycle in cycle_choices(hub=hub) if cycle.current), None)
