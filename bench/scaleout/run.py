"""Scale-out benchmark: one process on SQLite beside 1, 2 and 3 processes behind HAProxy with Redis, in one run.

Every deployment serves the same 100-state world (bench/gate/worlds.py) and is driven
by wrk on loopback exactly as bench/http drives one server:

    graph   GET  /v1/worlds/{id}/graph    auth, the shared rate-limit bucket, a store read
    ops     POST /v1/worlds/{id}/ops      one update_state per request: gate, one store transaction

Deployments (all on the SQLite store of one host; PostgreSQL is not a serving backend yet):

    direct      one `conjure serve`, no balancer, no Redis: the reference
    balanced-N  N `conjure serve` processes on one store, Redis (rate limits, runtime bus),
                HAProxy with docs/deploy.md's config in front (tests/e2e/scaleout/deployment.py)

On a machine with 2 cores this shows what the balancer, Redis and extra processes
cost, not how throughput scales with hosts. Ratios reported: balanced-1 / direct (the
price of the balancer and a Redis round trip per request), balanced-3 / balanced-1
(graph reads; target >= 0.9: shared state must not cost more than the processes give).

    .venv/bin/python bench/scaleout/run.py              # 10 s per endpoint and deployment
    .venv/bin/python bench/scaleout/run.py --quick      # 2 s, no file

Needs wrk and haproxy (Debian), Redis on 127.0.0.1:6379, conjure._core importable.
Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import platform
import shutil
import sys
import tempfile
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
for extra in (ROOT / "tests" / "e2e", ROOT / "tests" / "e2e" / "scaleout"):
    sys.path.insert(0, str(extra))
from deployment import start_deployment  # noqa: E402

_spec = importlib.util.spec_from_file_location("conjure_bench_http", ROOT / "bench" / "http" / "run.py")
assert _spec is not None and _spec.loader is not None
http_bench = importlib.util.module_from_spec(_spec)  # bench/http/run.py: setup, wrk, the ops bodies
_spec.loader.exec_module(http_bench)

SETTINGS = {"rate_limit_per_second": 1_000_000, "rate_limit_burst": 1_000_000, "meter_limit_per_day": 1_000_000_000,
            "access_log": "false", "log_level": "warning"}


def bench(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    key, world_id, state_id = http_bench._setup(url)
    base = f"{url}/v1/worlds/{world_id}"
    out: dict[str, Any] = {}
    for endpoint, (target, wrk_args) in {
        "graph": (f"{base}/graph", ["GET", key]),
        "ops": (f"{base}/ops", ["POST", key, *(json.dumps(http_bench._ops(state_id, b)) for b in http_bench.BASES)]),
    }.items():
        r = http_bench._wrk(target, wrk_args, args.duration, args.threads, args.connections)
        out[endpoint] = r
        print(f"  {name:11s} {endpoint:5s} {r['requests_per_s']:9.1f} req/s  p50 {r['latency_ms']['p50']:7.2f} ms"
              f"  p99 {r['latency_ms']['p99']:7.2f} ms  errors {r['error_count']}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per endpoint (default 10)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--quick", action="store_true", help="2 s per endpoint, no results file")
    p.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "results" / "scaleout.json")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = 2
    for tool in ("wrk", "haproxy"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"{tool} is not installed (apt-get install -y {tool})", file=sys.stderr)
            return 2
    report: dict[str, Any] = {
        "benchmark": "scaleout",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration,
                 "world_states": 100, "tool": "wrk", "address": "127.0.0.1", "store": "sqlite (one host)"},
        "deployments": {},
    }
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s per endpoint")
    with tempfile.TemporaryDirectory(prefix="conjure-bench-scaleout-") as tmp:
        direct = start_deployment(pathlib.Path(tmp) / "direct", processes=1, **SETTINGS)
        try:
            report["deployments"]["direct"] = bench("direct", direct.process_url(0), args)
        finally:
            direct.stop()
        for n in args.processes:
            dep = start_deployment(pathlib.Path(tmp) / f"balanced-{n}", processes=n, **SETTINGS)
            try:
                report["deployments"][f"balanced-{n}"] = bench(f"balanced-{n}", dep.url, args)
            finally:
                dep.stop()
    d = report["deployments"]

    def ratio(a: str, b: str, endpoint: str) -> float | None:
        if a in d and b in d and d[b][endpoint]["requests_per_s"]:
            return round(d[a][endpoint]["requests_per_s"] / d[b][endpoint]["requests_per_s"], 3)
        return None

    report["ratios"] = {
        "graph_balanced1_vs_direct": ratio("balanced-1", "direct", "graph"),
        "ops_balanced1_vs_direct": ratio("balanced-1", "direct", "ops"),
        "graph_balanced3_vs_balanced1": ratio("balanced-3", "balanced-1", "graph"),
        "ops_balanced3_vs_balanced1": ratio("balanced-3", "balanced-1", "ops"),
    }
    print("ratios: " + ", ".join(f"{k} {v}" for k, v in report["ratios"].items()))
    failed = [f"{name}/{ep}" for name, runs in d.items() for ep in ("graph", "ops") if runs[ep]["error_count"]]
    if not args.quick:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out.relative_to(ROOT)}")
    if failed:
        print("failed requests: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
