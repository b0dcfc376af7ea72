"""What the benchmarks share: their own scratch databases on 127.0.0.1:5432, the server's facts,
pgbench as the reference, and a pool of worker processes.

A benchmark only ever creates and drops databases whose names start with `hubtab_bench` or
`hubtab_pgbench`, and refuses any other name.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the benchmarks only ever talk to this server
PORT = 5432
USER = "postgres"
OWN_PREFIXES = ("hubtab_bench", "hubtab_pgbench")


def database_url(name: str) -> str:
    return f"postgres://{USER}@{HOST}:{PORT}/{name}"


def admin_connect() -> Any:
    import psycopg

    return psycopg.connect(host=HOST, port=PORT, user=USER, dbname="postgres", autocommit=True)


def database_recreate(name: str) -> None:
    database_drop(name)
    from psycopg import sql

    with admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(name: str) -> None:
    if not name.startswith(OWN_PREFIXES):
        raise SystemExit(f"refusing to drop {name!r}: not one of the benchmarks' databases")
    from psycopg import sql

    with admin_connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_facts() -> dict[str, str]:
    with admin_connect() as conn:
        facts = {"version": conn.execute("SHOW server_version").fetchone()[0]}
        for name in (
            "synchronous_commit",
            "fsync",
            "wal_sync_method",
            "shared_buffers",
            "max_connections",
            "commit_delay",
        ):
            facts[name] = conn.execute(f"SHOW {name}").fetchone()[0]
    return facts


def hubtab_migrate(name: str) -> None:
    script = Path(sys.executable).with_name("hubtab")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hubtab"]
    env = {**os.environ, "DATABASE_URL": database_url(name), "DJANGO_SETTINGS_MODULE": "hubtab.settings"}
    subprocess.run([*command, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)


def pgbench_path() -> str:
    found = shutil.which("pgbench") or "/usr/bin/pgbench"
    if not Path(found).exists():
        raise SystemExit("pgbench not found (Debian: postgresql-client)")
    return found


def pgbench_init(name: str, scale: int) -> None:
    """(Re)create `name` and fill it with pgbench's tables at `scale` (at least the client count)."""
    database_recreate(name)
    subprocess.run(
        [pgbench_path(), "-i", "-s", str(scale), "-q", "-h", HOST, "-p", str(PORT), "-U", USER, name],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def pgbench_command(name: str, clients: int, seconds: int, script: Path | None = None) -> list[str]:
    """No vacuum, N clients on min(N, 2) threads, for `seconds`, on database `name`: the built-in
    TPC-B-like script, or `script` (prepared statements)."""
    base = [pgbench_path(), "-h", HOST, "-p", str(PORT), "-U", USER, "-n"]
    target = [name] if script is None else ["-M", "prepared", "-f", str(script), name]
    return [*base, "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), *target]


def pgbench_run(
    name: str, clients: int, seconds: int, script: Path | None = None, while_running: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Run pgbench_command() and read its tps (without initial connection time) and average
    latency; `while_running` is called every 50 ms meanwhile (e.g. to sample pg_stat_activity)."""
    command = pgbench_command(name, clients, seconds, script)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        if while_running is not None:
            while_running()
        time.sleep(0.05)
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"pgbench failed ({process.returncode}):\n{out}\n{err}")
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if not match:
        raise SystemExit(f"could not read tps from pgbench output:\n{out}")
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    return {
        "tps": round(float(match.group(1)), 1),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "command": " ".join(command),
    }


def cpu_busy(seconds: float = 2.0) -> float | None:
    """Share of CPU time spent busy over `seconds` (Linux /proc/stat), to flag a machine that is not idle."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 3)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def error_name(exc: BaseException) -> str:
    """A failure as one short line: a domain error's code, or the exception and its text."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__}:{code}" if code else f"{type(exc).__name__}: {exc}"[:200]


def django_worker_loop(
    database_url: str, index: int, tasks: Any, results: Any, handle: Callable[[int, dict[str, Any]], Any]
) -> None:
    """A WorkerPool worker's life: Django set up on `database_url`, "ready", then `handle` each
    task until None; a task that raises reports "fatal" and stops the benchmark."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubtab.settings"
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    results.put(("ready", index, None))
    while True:
        task = tasks.get()
        if task is None:
            break
        try:
            out = handle(index, task)
        except BaseException as exc:
            out = {"fatal": error_name(exc)}
        results.put(("done", index, out))
    connection.close()


class WorkerPool:
    """N spawned worker processes running `target(index, tasks, results)`, kept for several
    measurements. A worker puts ("ready", index, None) once set up, then ("done", index, out) for
    each task it gets, and stops at None; an `out` with "fatal" stops the benchmark."""

    def __init__(self, size: int, target: Callable[..., None]) -> None:
        context = mp.get_context("spawn")
        self.size = size
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(size)]
        self.processes = [
            context.Process(target=target, args=(i, self.tasks[i], self.results), daemon=True) for i in range(size)
        ]
        for process in self.processes:
            process.start()
        self._collect("ready", deadline=time.time() + 60 + 5 * size)

    def _collect(self, kind: str, deadline: float, sampler: Any = None) -> list[Any]:
        got: dict[int, Any] = {}
        while len(got) < self.size:
            if time.time() > deadline:
                raise SystemExit(f"benchmark workers did not report {kind!r} in time")
            if sampler is not None:
                sampler()
            try:
                what, index, out = self.results.get(timeout=0.2)
            except queue.Empty:
                if any(not p.is_alive() for p in self.processes):
                    raise SystemExit("a benchmark worker died") from None
                continue
            if what != kind:
                raise SystemExit(f"unexpected worker message {what!r}")
            if out and "fatal" in out:
                raise SystemExit(f"worker {index} failed: {out['fatal']}")
            got[index] = out
        return [got[i] for i in range(self.size)]

    def run(self, task_for: Any, deadline: float, sampler: Any = None) -> list[dict[str, Any]]:
        for index, tasks in enumerate(self.tasks):
            tasks.put(task_for(index))
        return self._collect("done", deadline, sampler)

    def close(self) -> None:
        for tasks in self.tasks:
            tasks.put(None)
        for process in self.processes:
            process.join(timeout=20)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)


class LockSampler:
    """Samples pg_stat_activity in the measured window: how many backends of one database are
    waiting for a lock (a sign that transactions queue behind each other)."""

    def __init__(self, dbname: str, start: float, end: float) -> None:
        self.dbname, self.start, self.end = dbname, start, end
        self.conn = admin_connect()
        self.samples: list[tuple[int, int]] = []
        self.next = start

    def __call__(self) -> None:
        now = time.time()
        if now < self.next or now > self.end:
            return
        self.next = now + 0.25
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE state = 'active')"
            " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            [self.dbname],
        ).fetchone()
        self.samples.append((row[0], row[1]))

    def summary(self) -> dict[str, float]:
        self.conn.close()
        if not self.samples:
            return {"lock_waiting_avg": 0.0, "active_avg": 0.0}
        return {
            "lock_waiting_avg": round(statistics.fmean(s[0] for s in self.samples), 2),
            "active_avg": round(statistics.fmean(s[1] for s in self.samples), 2),
        }
