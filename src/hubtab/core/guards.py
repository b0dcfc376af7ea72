"""Work that one process at a time may do on one object, across transactions: charging a card,
taking a scheduled payment. On PostgreSQL it is a session advisory lock, which the server lets go
when the process holding it dies, so a crash never leaves an object stuck; SQLite runs one worker."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

log = logging.getLogger(__name__)


def _lock_key(name: str, object_id: int) -> int:
    # 15 bits name the kind of object, 48 bits its id: one signed 64-bit key, as PostgreSQL wants.
    return ((zlib.crc32(name.encode()) & 0x7FFF) << 48) | (object_id & ((1 << 48) - 1))


@contextmanager
def exclusive(name: str, object_id: int) -> Iterator[bool]:
    """Yields True to the one process that holds (name, object_id) now, False to any other; the
    holder keeps it until the block ends, whatever transactions it commits meanwhile."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _lock_key(name, object_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:  # an aborted transaction: the lock goes with the connection
                log.warning("could not release the guard on %s %s; it goes when the connection closes", name, object_id)
