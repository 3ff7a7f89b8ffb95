"""The machine's PostgreSQL and Redis for the scale-out tests: reached, started when down, never skipped.

The commands that start them are the ones docs/deploy.md and scripts/test use
(``scripts/lib.sh``: ``ensure_services``). A test that needs a service and cannot
reach it even after starting it fails, naming what it tried; it is never skipped.
Each run works in its own namespace: a fresh database, a unique Redis key prefix.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
ROOT = Path(__file__).resolve().parents[2]


class ServiceUnavailable(RuntimeError):
    """A service the test needs is not reachable and could not be started."""


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _start_with_lib(function: str) -> str:
    """Runs ``scripts/lib.sh``'s start function for a service; its output (for the failure message)."""
    proc = subprocess.run(
        ["bash", "-c", f'source "{ROOT}/scripts/lib.sh" && {function}'],
        capture_output=True, text=True, timeout=60, check=False,
    )
    return (proc.stdout + proc.stderr).strip()


def _ensure(host: str, port: int, function: str, what: str) -> None:
    if _reachable(host, port):
        return
    said = _start_with_lib(function)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if _reachable(host, port):
            return
        time.sleep(0.2)
    raise ServiceUnavailable(f"{what} is not reachable on {host}:{port} and `{function}` did not start it: {said}")


def ensure_redis() -> str:
    """The URL of the machine's Redis (started when down)."""
    _ensure(REDIS_HOST, REDIS_PORT, "start_redis", "Redis")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def ensure_postgres() -> None:
    _ensure(PG_HOST, PG_PORT, "start_postgres", "PostgreSQL")


def unique_prefix(tag: str = "t") -> str:
    """A Redis key prefix nobody else uses (several test runs share one Redis)."""
    return f"conjure-test-{tag}-{uuid.uuid4().hex[:12]}:"


def drop_prefix(url: str, prefix: str) -> None:
    """Deletes every key under ``prefix`` (the end of a test run)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        batch = list(client.scan_iter(match=f"{prefix}*", count=500))
        if batch:
            client.delete(*batch)
    finally:
        client.close()


def psql(sql: str, database: str = "postgres") -> str:
    """Runs SQL as the postgres superuser over TCP (trust auth on this machine)."""
    exe = shutil.which("psql") or "psql"
    proc = subprocess.run(
        [exe, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", database,
         "-tA", "-c", sql],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    if proc.returncode != 0:
        raise ServiceUnavailable(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout.strip()


def create_database(tag: str = "t") -> tuple[str, str]:
    """A fresh, empty database: ``(name, url)``."""
    ensure_postgres()
    name = f"conjure_test_{tag}_{uuid.uuid4().hex[:12]}"
    psql(f'CREATE DATABASE "{name}"')
    return name, f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_database(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
