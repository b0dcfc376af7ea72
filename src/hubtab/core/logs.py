"""Log filters: what operators read, without noise."""

from __future__ import annotations

import logging


class ForbiddenOneLine(logging.Filter):
    """A refused request (403) is normal life: one line with the path, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
