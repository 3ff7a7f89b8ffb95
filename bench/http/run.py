"""HTTP benchmark: the same app under `conjure serve` and `conjured`, driven by wrk on loopback.

For each host (same worker count) it starts a server with a fresh data directory,
creates a user, an app and a secret key, imports a 100-state world
(bench/gate/worlds.py), then runs wrk against, in turn:

    floor   GET  /healthz                 a constant answer through the same app and
                                          middleware: the framework's floor
    graph   GET  /v1/worlds/{id}/graph    auth, a store read, the world as JSON
    ops     POST /v1/worlds/{id}/ops      one update_state per request (two bases in
                                          turn): auth, gate, one store transaction

and writes requests/s, p50/p90/p99 latency and error counts to bench/results/http.json.
The graph read is reported as a share of the floor's throughput (target >= 0.5).

The server runs with the rate limiter and the daily meters raised through settings
(CONJURE_RATE_LIMIT_PER_SECOND, CONJURE_RATE_LIMIT_BURST, CONJURE_METER_LIMIT_PER_DAY):
at the defaults (20 requests/s per key, 1,000 edits a day) wrk would measure 429s and
402s. The access log is off (CONJURE_ACCESS_LOG=false) so the terminal is not the bottleneck.

    .venv/bin/python bench/http/run.py                      # both hosts, 10 s per endpoint
    .venv/bin/python bench/http/run.py --quick              # 2 s per endpoint, no file
    .venv/bin/python bench/http/run.py --hosts conjured --workers 2

Needs wrk (Debian package `wrk`), conjure._core importable, and build/conjured for the
native host. Exit status 1 when any request failed (an error or a status >= 400).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "gate"))
from worlds import make_world  # noqa: E402

WRK_SCRIPT = ROOT / "bench" / "http" / "wrk.lua"
CONJURED = ROOT / "build" / "conjured"
HOSTS = ("conjure-serve", "conjured")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
PASSWORD = "bench password 123"
BENCH_SETTINGS = {
    "CONJURE_RATE_LIMIT_PER_SECOND": "1000000",
    "CONJURE_RATE_LIMIT_BURST": "1000000",
    "CONJURE_METER_LIMIT_PER_DAY": "1000000000",
    "CONJURE_ACCESS_LOG": "false",
    "CONJURE_LOG_LEVEL": "warning",
}
BASES = (
    "a sunlit scriptorium, slate desks under tall windows, dust in low golden light",
    "a candlelit scriptorium, oak desks under tall windows, ink pots in warm firelight",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One host process on 127.0.0.1, stopped (with its workers) by ``stop``."""

    def __init__(self, kind: str, workers: int, workdir: pathlib.Path, conjured: pathlib.Path) -> None:
        self.kind = kind
        self.log_path = workdir / f"{kind}.log"
        data_dir = workdir / f"data-{kind}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONJURE_")}
        env.update(BENCH_SETTINGS)
        if kind == "conjured":
            self.port = 0
            argv = [str(conjured), "--port", "0", "--data-dir", str(data_dir), "--workers", str(workers)]
        else:
            self.port = _free_port()
            argv = [sys.executable, "-m", "conjure.cli", "serve", "--port", str(self.port),
                    "--data-dir", str(data_dir), "--workers", str(workers)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env=env, cwd=workdir, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
            if not self.port:
                m = re.search(r"listening on \S+:(\d+)", self.log_path.read_text())
                if m:
                    self.port = int(m.group(1))
                    continue
            else:
                try:
                    if httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} not ready in {START_TIMEOUT_S:.0f} s:\n{self.log_path.read_text()}")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return self.proc.wait(timeout=STOP_TIMEOUT_S)


def _setup(url: str) -> tuple[str, str, str]:
    """A secret key, the id of an imported 100-state world, and the id of the state the ops rewrite."""
    with httpx.Client(base_url=url, timeout=60.0) as http:
        r = http.post("/v1/auth/signup", json={"email": "bench@example.com", "password": PASSWORD})
        r.raise_for_status()
        user = {"Authorization": f"Bearer {r.json()['token']}"}
        r = http.post("/v1/apps", json={"name": "bench"}, headers=user)
        r.raise_for_status()
        r = http.post(f"/v1/apps/{r.json()['id']}/keys", json={"type": "secret", "mode": "test"}, headers=user)
        r.raise_for_status()
        key = r.json()["key"]
        sk = {"Authorization": f"Bearer {key}"}
        world = make_world(100)
        r = http.post("/v1/worlds", json={"world": world}, headers=sk)
        if r.status_code != 201:
            raise RuntimeError(f"import of the 100-state world: {r.status_code} {r.text[:500]}")
        world_id = r.json()["world"]["id"]
        state_id = world["entrance"]["state"]
        for base in BASES:  # both bodies of the ops run apply and keep the world valid
            r = http.post(f"/v1/worlds/{world_id}/ops", json=_ops(state_id, base), headers=sk)
            if r.status_code != 200:
                raise RuntimeError(f"the benchmark op is refused: {r.status_code} {r.text[:500]}")
        r = http.get(f"/v1/worlds/{world_id}/graph", headers=sk)
        r.raise_for_status()
        if len(r.json()["world"]["scene"]["states"]) != 100:
            raise RuntimeError("the imported world does not have 100 states")
        return key, world_id, state_id


def _ops(state_id: str, base: str) -> dict[str, Any]:
    return {"ops": [{"op": "update_state", "id": state_id, "patch": {"base": base}}]}


def _wrk(url: str, args: list[str], duration: int, threads: int, connections: int) -> dict[str, Any]:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
           "-s", str(WRK_SCRIPT), url, "--", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
    line = done.stdout.strip().splitlines()[-1]
    raw = json.loads(line)
    seconds = raw["duration_us"] / 1e6
    errors = raw["errors"]
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds, 1),
        "latency_ms": {k: round(v / 1000, 2) for k, v in raw["latency_us"].items()},
        "errors": errors,
        "error_count": sum(errors.values()),
    }


def bench_host(kind: str, args: argparse.Namespace, workdir: pathlib.Path) -> dict[str, Any]:
    server = Server(kind, args.workers, workdir, args.conjured)
    try:
        key, world_id, state_id = _setup(server.url)
        base = f"{server.url}/v1/worlds/{world_id}"
        runs = {
            "floor": (f"{server.url}/healthz", ["GET", "-"]),
            "graph": (f"{base}/graph", ["GET", key]),
            "ops": (f"{base}/ops", ["POST", key, *(json.dumps(_ops(state_id, b)) for b in BASES)]),
        }
        results: dict[str, Any] = {}
        for name, (url, wrk_args) in runs.items():
            results[name] = _wrk(url, wrk_args, args.duration, args.threads, args.connections)
            r = results[name]
            print(f"  {kind:13s} {name:5s} {r['requests_per_s']:9.1f} req/s  p50 {r['latency_ms']['p50']:7.2f} ms"
                  f"  p99 {r['latency_ms']['p99']:7.2f} ms  errors {r['error_count']}", flush=True)
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            doc = http.get(f"/v1/worlds/{world_id}/graph", headers={"Authorization": f"Bearer {key}"}).json()
        if doc["world"]["scene"]["states"][state_id]["base"] not in BASES:
            raise RuntimeError("the ops run left the state with an unexpected base")
        results["graph_vs_floor"] = round(results["graph"]["requests_per_s"] / results["floor"]["requests_per_s"], 3)
        results["graph_bytes"] = len(json.dumps(doc))
    finally:
        results_exit = server.stop()
    results["exit_status"] = results_exit
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hosts", nargs="+", choices=HOSTS, default=list(HOSTS))
    p.add_argument("--workers", type=int, default=1, help="worker processes of each host (default 1)")
    p.add_argument("--duration", type=int, default=10, help="seconds per endpoint (default 10)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--conjured", type=pathlib.Path, default=CONJURED)
    p.add_argument("--quick", action="store_true", help="2 s per endpoint, no results file")
    p.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "results" / "http.json")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = 2
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    if "conjured" in args.hosts and not os.access(args.conjured, os.X_OK):
        print(f"no conjured at {args.conjured} (cmake --build build --target conjured)", file=sys.stderr)
        return 2

    report: dict[str, Any] = {
        "benchmark": "http",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration,
                 "workers": args.workers, "world_states": 100, "tool": "wrk", "address": "127.0.0.1"},
        "settings": BENCH_SETTINGS,
        "hosts": {},
    }
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.workers} worker(s) per host")
    with tempfile.TemporaryDirectory(prefix="conjure-bench-http-") as tmp:
        for kind in args.hosts:
            report["hosts"][kind] = bench_host(kind, args, pathlib.Path(tmp))
            print(f"  {kind:13s} graph/floor {report['hosts'][kind]['graph_vs_floor']:.2f}", flush=True)
    if set(HOSTS) <= set(report["hosts"]):
        report["conjured_vs_serve"] = {
            name: round(report["hosts"]["conjured"][name]["requests_per_s"]
                        / report["hosts"]["conjure-serve"][name]["requests_per_s"], 3)
            for name in ("floor", "graph", "ops")
        }
    failed = [f"{kind}/{name}" for kind, runs in report["hosts"].items() for name in ("floor", "graph", "ops")
              if runs[name]["error_count"]]
    failed += [f"{kind} exit {runs['exit_status']}" for kind, runs in report["hosts"].items() if runs["exit_status"]]
    if not args.quick:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if failed:
        print("failed requests or shutdowns: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
