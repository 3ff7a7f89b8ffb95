"""Play over the runtime socket: N concurrent sessions against one real server on loopback.

Starts ``conjure serve`` (one process) on a free 127.0.0.1 port, creates a user,
an app, a test secret key and the Drowned Abbey, mints and exchanges N session
tokens, opens N WebSockets and, for a fixed window, has every session toggle
movement (``move "W"`` / ``move ""``) every ``--input-every`` seconds. Reports:

- input → state latency: from sending a move to receiving the ``state`` message
  whose ``moving`` matches it (p50 / p99 over every input of every session);
- frames per second delivered per session (median, p10) and in total, at the
  configured frame size (default 640×360) and target fps;
- the server's resident memory (VmRSS) after the sessions opened and at the
  end of the window, and its peak (VmHWM); frames the server dropped.

Writes bench/results/play_socket.json (``--out``). Bounded in time: the window
is ``--seconds`` (default 15) after a ``--warmup`` (default 3); the whole run
takes well under a minute.

    .venv/bin/python bench/play/socket/run.py               # 100 sessions, 15 s
    .venv/bin/python bench/play/socket/run.py --sessions 20 --seconds 5 --out ""
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx
import websockets

ROOT = pathlib.Path(__file__).resolve().parents[3]
ABBEY = ROOT / "examples" / "drowned-abbey.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_mem(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    i = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return values[i]


def start_server(args: argparse.Namespace, data_dir: pathlib.Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONJURE_")}
    env.update({
        "CONJURE_RATE_LIMIT_PER_SECOND": "100000", "CONJURE_RATE_LIMIT_BURST": "100000",
        "CONJURE_METER_LIMIT_PER_DAY": "1000000", "CONJURE_LOG_LEVEL": "warning", "CONJURE_ACCESS_LOG": "false",
        "CONJURE_SESSION_APP_CAP": str(args.sessions + 10), "CONJURE_SESSION_GLOBAL_CAP": str(args.sessions + 10),
        "CONJURE_RUNTIME_FPS": str(args.fps), "CONJURE_RUNTIME_WIDTH": str(args.width),
        "CONJURE_RUNTIME_HEIGHT": str(args.height), "CONJURE_RUNTIME_THREADS": str(args.threads),
        "CONJURE_JOB_WORKERS": "0", "CONJURE_WEBHOOK_DISPATCH": "false",
    })
    argv = [sys.executable, "-m", "conjure.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir), "--workers", "1"]
    log = open(data_dir.parent / "server.log", "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {(data_dir.parent / 'server.log').read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server was not ready within 60 s")


def setup(base: str, n: int) -> list[dict[str, Any]]:
    with httpx.Client(base_url=base, timeout=60) as http:
        r = http.post("/v1/auth/signup", json={"email": "bench@example.com", "password": "correct horse battery"})
        r.raise_for_status()
        user = {"Authorization": f"Bearer {r.json()['token']}"}
        app_id = http.post("/v1/apps", json={"name": "bench"}, headers=user).json()["id"]
        key = http.post(f"/v1/apps/{app_id}/keys", json={"type": "secret", "mode": "test"}, headers=user).json()["key"]
        sk = {"Authorization": f"Bearer {key}"}
        world = http.post("/v1/worlds", json={"world": json.loads(ABBEY.read_text())}, headers=sk).json()["world"]["id"]
        out = []
        for i in range(n):
            token = http.post("/v1/sessions/token", json={"worldId": world, "playerId": f"p{i}"}, headers=sk).json()["token"]
            r = http.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            out.append(r.json())
        return out


async def session(ex: dict[str, Any], start_at: float, stop_at: float, every: float, results: dict[str, Any]) -> None:
    latencies: list[float] = results["latencies"]
    frames_in_window = 0
    async with websockets.connect(f"{ex['runtimeUrl']}?token={ex['connectToken']}", max_size=2**22,
                                  compression=None) as ws:
        moving = False
        sent_at: float | None = None
        next_input = start_at + every * (hash(ex["sessionId"]) % 1000) / 1000.0
        results["opened"] += 1
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            if sent_at is None and now >= next_input and now >= start_at:
                moving = not moving
                sent_at = time.monotonic()
                await ws.send(json.dumps({"type": "move", "keys": "W" if moving else ""}))
            timeout = max(0.001, min(stop_at, next_input if sent_at is None else stop_at) - time.monotonic())
            try:
                msg = await asyncio.wait_for(ws.recv(), timeout)
            except asyncio.TimeoutError:
                continue
            now = time.monotonic()
            if isinstance(msg, bytes):
                if start_at <= now < stop_at:
                    frames_in_window += 1
                continue
            data = json.loads(msg)
            if data["type"] == "state" and sent_at is not None and data.get("moving") is moving:
                if now >= start_at:
                    latencies.append(now - sent_at)
                sent_at = None
                next_input = now + every
            elif data["type"] == "error":
                results["errors"].append(data)
    results["frames"].append(frames_in_window)


async def drive(exchanges: list[dict[str, Any]], warmup: float, seconds: float, every: float) -> dict[str, Any]:
    results: dict[str, Any] = {"latencies": [], "frames": [], "errors": [], "opened": 0}
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    tasks = [asyncio.create_task(session(ex, start_at, stop_at, every, results)) for ex in exchanges]
    results["_start"] = start_at
    done = await asyncio.gather(*tasks, return_exceptions=True)
    results["failures"] = [repr(d) for d in done if isinstance(d, BaseException)]
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--input-every", type=float, default=0.5, help="seconds between a session's inputs")
    ap.add_argument("--fps", type=float, default=15.0)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--threads", type=int, default=2, help="native render threads of the server")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "play_socket.json"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="conjure-bench-play-") as tmp:
        port = free_port()
        data_dir = pathlib.Path(tmp) / "data"
        proc = start_server(args, data_dir, port)
        try:
            base = f"http://127.0.0.1:{port}"
            idle = proc_mem(proc.pid)
            exchanges = setup(base, args.sessions)
            mem_samples: list[int] = []

            async def run() -> dict[str, Any]:
                async def sample() -> None:
                    while True:
                        await asyncio.sleep(0.5)
                        mem_samples.append(proc_mem(proc.pid)["VmRSS"])

                sampler = asyncio.create_task(sample())
                try:
                    return await drive(exchanges, args.warmup, args.seconds, args.input_every)
                finally:
                    sampler.cancel()

            results = asyncio.run(run())
            end = proc_mem(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    lat_ms = [x * 1000 for x in results["latencies"]]
    fps = [f / args.seconds for f in results["frames"]]
    report = {
        "sessions": args.sessions,
        "opened": results["opened"],
        "failures": results["failures"][:5],
        "errors": len(results["errors"]),
        "window_seconds": args.seconds,
        "frame": f"{args.width}x{args.height}",
        "target_fps": args.fps,
        "render_threads": args.threads,
        "cpus": os.cpu_count(),
        "inputs_measured": len(lat_ms),
        "input_to_state_ms": {"p50": round(pct(lat_ms, 50), 2), "p99": round(pct(lat_ms, 99), 2),
                              "max": round(max(lat_ms), 2) if lat_ms else None},
        "fps_per_session": {"median": round(statistics.median(fps), 2) if fps else 0,
                            "p10": round(pct(fps, 10), 2), "min": round(min(fps), 2) if fps else 0},
        "fps_total": round(sum(fps), 1),
        "server_rss_mb": {"idle": round(idle["VmRSS"] / 2**20, 1),
                          "playing_median": round(statistics.median(mem_samples) / 2**20, 1) if mem_samples else None,
                          "end": round(end["VmRSS"] / 2**20, 1), "peak": round(end["VmHWM"] / 2**20, 1)},
    }
    print(json.dumps(report, indent=2))
    if args.out:
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["opened"] == args.sessions and not report["failures"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
