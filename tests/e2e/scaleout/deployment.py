"""A scale-out deployment on loopback: N `conjure serve` processes sharing one store and
one Redis, behind HAProxy configured from docs/deploy.md's own config block.

The processes run on one host and share the SQLite store (WAL; one file, many
processes), with Redis (the machine's, a fresh key prefix per deployment) for the
rate-limit buckets and the runtime's messages.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from e2e_servers import ROOT, Server, free_port, server_env

_svc_spec = importlib.util.spec_from_file_location("conjure_e2e_services", ROOT / "tests" / "python" / "services.py")
assert _svc_spec is not None and _svc_spec.loader is not None
services = importlib.util.module_from_spec(_svc_spec)
_svc_spec.loader.exec_module(services)

DEPLOY_MD = ROOT / "docs" / "deploy.md"
START_TIMEOUT_S = 60.0


def haproxy_config(bind_port: int, ports: list[int]) -> str:
    """docs/deploy.md's HAProxy config, bound to ``bind_port`` with one server line per process port."""
    blocks = re.findall(r"```haproxy\n# /etc/haproxy/haproxy.cfg\n(.*?)```", DEPLOY_MD.read_text(), flags=re.S)
    assert len(blocks) == 1, "docs/deploy.md must hold one haproxy.cfg block"
    text = blocks[0]
    text, n = re.subn(r"bind 0\.0\.0\.0:8000", f"bind 127.0.0.1:{bind_port}", text)
    assert n == 1, "the frontend binds 0.0.0.0:8000 in docs/deploy.md"
    lines = [ln for ln in text.splitlines() if not re.match(r"\s+server api\d+ ", ln)]
    assert len(lines) < len(text.splitlines()), "no server lines in the backend"
    servers = [f"    server api{i + 1} 127.0.0.1:{port} check" for i, port in enumerate(ports)]
    return "\n".join(lines + servers) + "\n"


def haproxy_exe() -> str:
    exe = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    assert exe, "haproxy is missing (Debian package haproxy; scripts/test installs it)"
    return exe


@dataclass
class Deployment:
    tmp: pathlib.Path
    env: dict[str, str]
    ports: list[int]
    procs: list[subprocess.Popen[bytes] | None]
    balancer_port: int
    balancer: subprocess.Popen[bytes] | None = None
    redis_url: str = ""
    redis_prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}"

    def process_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def client(self, i: int | None = None, **kwargs: Any) -> httpx.Client:
        base = self.url if i is None else self.process_url(i)
        return httpx.Client(base_url=base, timeout=30.0, **kwargs)

    def as_server(self) -> Server:
        """The balancer as an e2e ``Server`` (for the tests written against one process)."""
        assert self.balancer is not None
        return Server(kind="balanced", proc=self.balancer, port=self.balancer_port, data_dir=self.tmp / "data",
                      log_path=self.tmp / "haproxy.log")

    def log(self, i: int) -> str:
        return (self.tmp / f"api{i + 1}.log").read_text(errors="replace")

    # ------------------------------------------------------------ processes
    def start_process(self, i: int) -> None:
        argv = [sys.executable, "-m", "conjure.cli", "serve", "--host", "127.0.0.1", "--port", str(self.ports[i])]
        with open(self.tmp / f"api{i + 1}.log", "ab") as log:
            self.procs[i] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             env=self.env, cwd=self.tmp, start_new_session=True)

    def wait_ready(self, i: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        proc = self.procs[i]
        assert proc is not None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"api{i + 1} exited with {proc.returncode}:\n{self.log(i)}")
            try:
                if httpx.get(self.process_url(i) + "/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"api{i + 1} was not ready within {START_TIMEOUT_S:.0f} s:\n{self.log(i)}")

    def kill(self, i: int) -> None:
        """SIGKILL: no drain, no settle, no goodbye."""
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def stop_process(self, i: int) -> None:
        proc = self.procs[i]
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.wait(timeout=30)

    def wait_balanced(self, up: int) -> None:
        """Until the balancer's health checks see ``up`` processes answering (1 s checks, rise 2)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200 and up > 0:
                    time.sleep(2.5)  # let every server line pass its `rise 2`
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("the balancer never answered /readyz")

    def stop(self) -> None:
        if self.balancer is not None and self.balancer.poll() is None:
            self.balancer.terminate()
            try:
                self.balancer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.balancer.kill()
        for i in range(len(self.procs)):
            self.stop_process(i)
        if self.redis_url:
            services.drop_prefix(self.redis_url, self.redis_prefix)


def start_deployment(tmp: pathlib.Path, processes: int = 3, **settings: Any) -> Deployment:
    """``processes`` API processes on one store and one Redis, behind HAProxy; ready when it returns."""
    redis_url = services.ensure_redis()
    prefix = services.unique_prefix("e2e")
    env = server_env(**{"data_dir": tmp / "data", "redis_url": redis_url, "redis_prefix": prefix,
                        "secret": secrets.token_hex(32), **settings})
    (tmp / "data").mkdir(parents=True, exist_ok=True)
    ports = [free_port() for _ in range(processes)]
    dep = Deployment(tmp=tmp, env=env, ports=ports, procs=[None] * processes, balancer_port=free_port(),
                     redis_url=redis_url, redis_prefix=prefix)
    try:
        # The first creates the store (schema, secret); the others open it.
        dep.start_process(0)
        dep.wait_ready(0)
        for i in range(1, processes):
            dep.start_process(i)
        for i in range(1, processes):
            dep.wait_ready(i)
        cfg = tmp / "haproxy.cfg"
        cfg.write_text(haproxy_config(dep.balancer_port, ports))
        with open(tmp / "haproxy.log", "ab") as log:
            dep.balancer = subprocess.Popen([haproxy_exe(), "-db", "-f", str(cfg)], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        dep.wait_balanced(processes)
    except BaseException:
        dep.stop()
        raise
    return dep
