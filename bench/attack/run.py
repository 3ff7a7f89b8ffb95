"""Attack benchmark: the graph read's latency under wrk, alone and while the attacks of docs/security.md run.

One `conjure serve` process (one worker) on loopback, set up as bench/http/run.py sets it
up (a 100-state world read with a secret key). wrk reads the graph twice for the same
duration, side by side in one run:

    quiet      nothing else
    attacked   while another tenant, from threads of this process, sends in a loop:
               - a multipart POST /v1/worlds of 60,000 tiny parts (refused unread),
               - a 4 MiB JSON body to POST /v1/worlds/{id}/ops of its own world
                 (parsed in a worker thread, then refused),
               - wrong API keys (throttled after the failure burst: 429),
               - logins with a wrong password (scrypt, bounded concurrency),
               and its webhook endpoints, one trickling its headers and one answering
               256 MiB, receive a delivery for each of its edits.

It reports both p99 latencies and their ratio; the target is attacked/quiet <= 2.
Results go to bench/results/attack.json. Needs wrk (Debian package `wrk`).

    .venv/bin/python bench/attack/run.py             # 10 s per run
    .venv/bin/python bench/attack/run.py --quick     # 3 s per run, no file
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import socket
import sys
import tempfile
import threading
import time
from typing import Any

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "http"))
from run import PASSWORD, Server, _setup, _wrk  # noqa: E402

TARGET_RATIO = 2.0


class _Endpoint:
    """A loopback webhook endpoint that trickles its headers, or answers a huge body."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                conn.recv(65536)
                if self.behaviour == "trickle":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    while not self.stop.wait(0.5):
                        conn.sendall(b"a")
                else:
                    size = 256 * 1024 * 1024
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
                    chunk = b"x" * 65536
                    for _ in range(size // len(chunk)):
                        if self.stop.is_set():
                            break
                        conn.sendall(chunk)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


class Attacker:
    """Another tenant hammering the server from threads until stopped; counts what it sent."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.sent: dict[str, int] = {}
        self.statuses: dict[str, dict[int, int]] = {}
        self._lock = threading.Lock()
        with httpx.Client(base_url=url, timeout=60.0) as http:
            r = http.post("/v1/auth/signup", json={"email": "attacker@example.com", "password": PASSWORD})
            r.raise_for_status()
            self.email = "attacker@example.com"
            user = {"Authorization": f"Bearer {r.json()['token']}"}
            app = http.post("/v1/apps", json={"name": "attacker"}, headers=user).json()["id"]
            key = http.post(f"/v1/apps/{app}/keys", json={"type": "secret", "mode": "test"}, headers=user).json()["key"]
            self.sk = {"Authorization": f"Bearer {key}"}
            self.world = http.post("/v1/worlds", json={"premise": "a harbour"}, headers=self.sk).json()["world"]["id"]
            self.endpoints = [_Endpoint("trickle"), _Endpoint("huge")]
            for endpoint in self.endpoints:
                r = http.post("/v1/webhooks", json={"appId": app, "url": endpoint.url, "events": ["world.edited"]},
                              headers=user)
                r.raise_for_status()

    def _count(self, name: str, status: int) -> None:
        with self._lock:
            self.sent[name] = self.sent.get(name, 0) + 1
            per = self.statuses.setdefault(name, {})
            per[status] = per.get(status, 0) + 1

    def _loop(self, name: str, send: Any) -> None:
        with httpx.Client(base_url=self.url, timeout=60.0) as http:
            while not self.stop.is_set():
                try:
                    self._count(name, send(http).status_code)
                except httpx.HTTPError:
                    self._count(name, 0)

    def start(self, only: list[str] | None = None) -> list[threading.Thread]:
        boundary = "b0undary"
        parts = b"".join(b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i
                         for i in range(60_000)) + b"--" + boundary.encode() + b"--\r\n"
        form = {**self.sk, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        big = json.dumps({"ops": [{"op": "update_state", "id": "x" * 64, "patch": {"base": "y" * 200}}] * 14_000})
        big_headers = {**self.sk, "Content-Type": "application/json"}
        edit = {"ops": [{"op": "add_state", "base": "a narrow quay of wet stones"}]}
        loops = {
            "multipart_60k_parts": lambda h: h.post("/v1/worlds", content=parts, headers=form),
            "json_4mib_ops": lambda h: h.post(f"/v1/worlds/{self.world}/ops", content=big, headers=big_headers),
            "wrong_api_keys": lambda h: h.get("/v1/worlds", headers={"Authorization": "Bearer sk_test_" + "x" * 43}),
            "wrong_passwords": lambda h: h.post("/v1/auth/login", json={"email": self.email, "password": "wrong pass!!"}),
            "edits_to_bad_webhooks": lambda h: h.post(f"/v1/worlds/{self.world}/ops", json=edit, headers=self.sk),
        }
        chosen = [(name, send) for name, send in loops.items() if not only or name in only]
        threads = [threading.Thread(target=self._loop, args=item, daemon=True) for item in chosen]
        for t in threads:
            t.start()
        return threads

    def close(self) -> None:
        self.stop.set()
        for endpoint in self.endpoints:
            endpoint.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10, help="seconds of each wrk run (default 10)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--quick", action="store_true", help="3 s per run, no results file")
    p.add_argument("--only", nargs="+", help="run only these attacks (names as in attacks_sent); no results file")
    p.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "results" / "attack.json")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = 3
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    report: dict[str, Any] = {
        "benchmark": "attack",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_at_start": os.getloadavg()},
        "load": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration,
                 "workers": 1, "world_states": 100, "tool": "wrk", "endpoint": "GET /v1/worlds/{id}/graph"},
        "target": f"attacked p99 / quiet p99 <= {TARGET_RATIO:g}",
    }
    with tempfile.TemporaryDirectory(prefix="conjure-bench-attack-") as tmp:
        server = Server("conjure-serve", 1, pathlib.Path(tmp), pathlib.Path("/nonexistent"))
        try:
            key, world_id, _ = _setup(server.url)
            graph = f"{server.url}/v1/worlds/{world_id}/graph"
            report["quiet"] = _wrk(graph, ["GET", key], args.duration, args.threads, args.connections)
            attacker = Attacker(server.url)
            attacker.start(args.only)
            time.sleep(1.0)  # every attack under way
            try:
                report["attacked"] = _wrk(graph, ["GET", key], args.duration, args.threads, args.connections)
            finally:
                attacker.close()
            report["attacks_sent"] = attacker.sent
            report["attack_statuses"] = {k: {str(s): n for s, n in v.items()} for k, v in attacker.statuses.items()}
            healthy = httpx.get(server.url + "/healthz", timeout=30).status_code == 200
        finally:
            report["exit_status"] = server.stop()
    quiet, attacked = report["quiet"]["latency_ms"]["p99"], report["attacked"]["latency_ms"]["p99"]
    report["p99_ratio"] = round(attacked / quiet, 3) if quiet else None
    report["healthy_after"] = healthy
    print(f"graph p99: quiet {quiet:.2f} ms, attacked {attacked:.2f} ms, ratio {report['p99_ratio']}"
          f" (target <= {TARGET_RATIO:g}); attacks sent {attacker.sent}")
    if not args.quick and not args.only:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    errors = report["quiet"]["error_count"] + report["attacked"]["error_count"]
    return 1 if errors or not healthy else 0


if __name__ == "__main__":
    raise SystemExit(main())
