"""End-to-end helpers: a real server process on a loopback port.

Two hosts serve the same app: ``conjure serve`` (a Python process running uvicorn)
and ``build/conjured`` (the native host embedding CPython). ``start_server`` starts
either on a free 127.0.0.1 port with a temporary data directory, waits for
``/readyz``, and the fixtures stop it (and its workers) even when a test fails.
"""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONJURED = pathlib.Path(os.environ.get("CONJURED", ROOT / "build" / "conjured"))
EXAMPLES = ROOT / "examples"
HOSTS = ("conjure-serve", "conjured")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_LISTENING = re.compile(r"conjured: listening on (\S+):(\d+) \(pid (\d+), (\d+) workers?\)")


def requires_conjured() -> None:
    if not CONJURED.is_file() or not os.access(CONJURED, os.X_OK):
        pytest.skip(f"the native host was not built: no executable at {CONJURED} (cmake --build build --target conjured)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(**settings: Any) -> dict[str, str]:
    """The environment of a server under test: no inherited ``CONJURE_*``, limits raised for tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONJURE_")}
    env.update({"CONJURE_RATE_LIMIT_PER_SECOND": "10000", "CONJURE_RATE_LIMIT_BURST": "10000",
                "CONJURE_LOG_LEVEL": "warning", "CONJURE_ACCESS_LOG": "false"})
    env.update({f"CONJURE_{k.upper()}": str(v) for k, v in settings.items()})
    return env


@dataclass
class Server:
    """A running server process (and, for ``conjured --workers N``, its workers)."""

    kind: str
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: pathlib.Path
    log_path: pathlib.Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30.0, **kwargs)

    def wait_exit(self, timeout: float = STOP_TIMEOUT_S) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Stops the process group: SIGTERM, then SIGKILL if it does not drain in time."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        try:  # workers of a dead supervisor, if any, go too
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=STOP_TIMEOUT_S)


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"{server.kind} exited with {server.proc.returncode} before it was ready:\n{server.log()}")
        if server.port:
            try:
                if httpx.get(server.base_url + "/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        else:
            match = _LISTENING.search(server.log())
            if match:
                server.port = int(match.group(2))
                continue
        time.sleep(0.1)
    raise AssertionError(f"{server.kind} was not ready within {START_TIMEOUT_S:.0f} s:\n{server.log()}")


def start_server(kind: str, tmp_path: pathlib.Path, *, workers: int = 1, **settings: Any) -> Server:
    """Starts ``kind`` ("conjure-serve" or "conjured") and returns it once ``/readyz`` answers 200."""
    data_dir = tmp_path / f"data-{kind}"
    log_path = tmp_path / f"{kind}.log"
    if kind == "conjured":
        requires_conjured()
        port = 0  # conjured binds any free port and prints it
        argv = [str(CONJURED), "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir),
                "--workers", str(workers)]
    elif kind == "conjure-serve":
        port = free_port()
        argv = [sys.executable, "-m", "conjure.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--data-dir", str(data_dir), "--workers", str(workers)]
    else:
        raise ValueError(f"unknown host {kind!r}")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=server_env(**settings), cwd=tmp_path, start_new_session=True)
    server = Server(kind=kind, proc=proc, port=port, data_dir=data_dir, log_path=log_path)
    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts are appended here; every one is stopped at teardown."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture(params=HOSTS)
def server(request: pytest.FixtureRequest, tmp_path: pathlib.Path, servers: list[Server]) -> Server:
    """One server of each host kind, with default settings (rate limits raised)."""
    s = start_server(request.param, tmp_path)
    servers.append(s)
    return s
