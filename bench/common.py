"""What the benchmarks share: their own scratch databases on 127.0.0.1:5432 and the server's facts.

A benchmark only ever creates and drops databases whose names start with `hubtab_bench` or
`hubtab_pgbench`, and refuses any other name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
