"""Named points where a test may make the process die, to prove a crash there changes nothing twice.

The crash tests start a run in a child process with HUBTAB_CRASH_AT="<point>" or "<point>#<n>" in
its environment; the process kills itself (SIGKILL: no cleanup, no rollback hooks) the n-th time
it passes that point (the first when n is not given). Without the variable a point does nothing."""

from __future__ import annotations

import os
import signal
from collections import Counter

_passes: Counter[str] = Counter()


def crash_point(name: str) -> None:
    target = os.environ.get("HUBTAB_CRASH_AT")
    if not target:
        return
    point, _sep, nth = target.partition("#")
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
