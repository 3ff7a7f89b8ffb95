"""The gate benchmark: the C++ kernel gate against a pure-Python reference and
against the parse floor, in one run.

For each world size (10, 100, 1,000, 10,000 states; 3 events per state) it times
  (a) gate       conjure._core.gate(text).diagnostics: parse + normalise + every lint,
                 from JSON text, up to the findings as Python dicts
  (b) reference  bench/gate/reference.py on the already-parsed dict (json.loads excluded)
  (c) floor      conjure._core.parse_only(text): the core's standard JSON parse
                 (nlohmann DOM) of the text, discarded: the parse floor of the targets
  (d) fast read  conjure._core.read_only(text): the gate's own fast reader
                 (simdjson) on the text, discarded
  (e) json.loads Python's parser on the same text
The gate builds its resolved world only when asked for it (GateResult.resolved),
so (a) does not include it.
takes the median of several repeats, checks that (a) and (b) report the same set
of (lint, path) findings, prints a table and writes bench/results/gate.json.

Worlds over the default 2 MiB document limit (the 10,000-state world) run with
Limits(max_document_bytes=64 MiB), for the gate, the floor and the reference alike.

    python bench/gate/run.py            full run (about a minute)
    python bench/gate/run.py --quick    10, 100 and 1,000 states, few repeats (seconds);
                                        writes no file unless --out is given

Exit status 1 when the gate refuses a generated world or disagrees with the reference.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import reference  # noqa: E402
import worlds  # noqa: E402

try:
    from conjure import _core
except ImportError as exc:  # pragma: no cover - depends on the build
    sys.exit(f"conjure._core is not importable ({exc}); build it first (scripts/test --fast)")

DEFAULT_LIMIT_BYTES = 2 << 20
BIG_LIMIT_BYTES = 64 << 20
TARGETS = {"reference_over_gate_at_1000": 50.0, "gate_over_floor_max": 3.0, "gate_10k_over_1k_max": 12.0}
FULL = {10: 200, 100: 50, 1000: 10, 10000: 5}    # size -> repeats
QUICK = {10: 20, 100: 5, 1000: 2}


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall time of `fn` in seconds (one warm-up call; the collector off while timing)."""
    fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return statistics.median(times)


def measure(size: int, repeats: int, seed: int) -> dict[str, Any]:
    text = worlds.world_text(size, seed)
    nbytes = len(text.encode("utf-8"))
    big = nbytes > DEFAULT_LIMIT_BYTES
    limit_bytes = BIG_LIMIT_BYTES if big else DEFAULT_LIMIT_BYTES
    limits = _core.Limits(max_document_bytes=limit_bytes)
    ref_limits = reference.Limits(max_document_bytes=limit_bytes)
    world = json.loads(text)

    result = _core.gate(text, limits)
    errors = [d for d in result.diagnostics if d["severity"] == "error"]
    gate_findings = {(d["lint"], d["path"]) for d in result.diagnostics}
    ref_findings = reference.check(world, ref_limits)
    only_gate = sorted(gate_findings - ref_findings)
    only_ref = sorted(ref_findings - gate_findings)
    by_lint: dict[str, int] = {}
    for d in result.diagnostics:
        by_lint[d["lint"]] = by_lint.get(d["lint"], 0) + 1

    # The gate is timed up to the findings in Python (diagnostics converted to dicts).
    t_gate = median_time(lambda: _core.gate(text, limits).diagnostics, repeats)
    t_ref = median_time(lambda: reference.check(world, ref_limits), repeats)
    t_floor = median_time(lambda: _core.parse_only(text, limits), repeats)
    t_read = median_time(lambda: _core.read_only(text, limits), repeats)
    t_loads = median_time(lambda: json.loads(text), repeats)

    return {
        "states": size,
        "events": len(world["scene"]["events"]),
        "bytes": nbytes,
        "max_document_bytes": limit_bytes,
        "raised_limit": big,
        "repeats": repeats,
        "gate_s": t_gate,
        "reference_s": t_ref,
        "parse_floor_s": t_floor,
        "fast_read_s": t_read,
        "json_loads_s": t_loads,
        "reference_over_gate": t_ref / t_gate,
        "gate_over_floor": t_gate / t_floor,
        "gate_over_fast_read": t_gate / t_read,
        "gate_over_json_loads": t_gate / t_loads,
        "gate_ok": bool(result.ok),
        "gate_errors": len(errors),
        "diagnostics": len(result.diagnostics),
        "diagnostics_by_lint": dict(sorted(by_lint.items())),
        "findings": len(gate_findings),
        "agree": not only_gate and not only_ref,
        "only_gate": [list(f) for f in only_gate[:20]],
        "only_reference": [list(f) for f in only_ref[:20]],
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f}" if seconds < 1 else f"{seconds * 1e3:,.0f}"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "core_version": getattr(_core, "__version__", None),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10, 100 and 1,000 states, few repeats")
    ap.add_argument("--sizes", type=int, nargs="*", help="world sizes in states (default 10 100 1000 10000)")
    ap.add_argument("--repeats", type=int, help="repeats per measurement (default: by size)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write the JSON results (default bench/results/gate.json; "
                         "--quick writes nothing unless --out is given)")
    args = ap.parse_args(argv)

    plan = dict(QUICK if args.quick else FULL)
    if args.sizes:
        plan = {s: plan.get(s, FULL.get(s, 3)) for s in args.sizes}
    if args.repeats:
        plan = {s: args.repeats for s in plan}

    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 200)
    rows = []
    for size, repeats in plan.items():
        console.print(f"[dim]measuring {size:,} states x {repeats} repeats...[/dim]")
        rows.append(measure(size, repeats, args.seed))

    table = Table(title="Kernel gate: C++ core vs pure-Python reference (median ms)")
    for col in ("states", "events", "JSON bytes", "json.loads", "fast read", "parse floor", "gate",
                "reference", "ref / gate", "gate / floor", "gate / fast read", "gate / json.loads",
                "findings", "agree"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            f"{r['states']:,}", f"{r['events']:,}",
            f"{r['bytes']:,}" + ("*" if r["raised_limit"] else ""),
            ms(r["json_loads_s"]), ms(r["fast_read_s"]), ms(r["parse_floor_s"]), ms(r["gate_s"]),
            ms(r["reference_s"]), f"{r['reference_over_gate']:.1f}x", f"{r['gate_over_floor']:.2f}x",
            f"{r['gate_over_fast_read']:.2f}x", f"{r['gate_over_json_loads']:.2f}x",
            f"{r['findings']:,}", "yes" if r["agree"] else "[red]NO[/red]",
        )
    console.print(table)
    if any(r["raised_limit"] for r in rows):
        console.print(f"* over the default 2 MiB document limit: run with "
                      f"Limits(max_document_bytes={BIG_LIMIT_BYTES:,})")

    by_size = {r["states"]: r for r in rows}
    ratios: dict[str, Any] = {
        "reference_over_gate": {str(r["states"]): round(r["reference_over_gate"], 2) for r in rows},
        "gate_over_floor": {str(r["states"]): round(r["gate_over_floor"], 3) for r in rows},
        "gate_over_fast_read": {str(r["states"]): round(r["gate_over_fast_read"], 3) for r in rows},
        "gate_over_json_loads": {str(r["states"]): round(r["gate_over_json_loads"], 3) for r in rows},
    }
    if 1000 in by_size and 10000 in by_size:
        ratios["gate_10k_over_1k"] = round(by_size[10000]["gate_s"] / by_size[1000]["gate_s"], 2)
    checks = []
    if 1000 in by_size:
        v = by_size[1000]["reference_over_gate"]
        checks.append(("reference / gate at 1,000 states", f"{v:.1f}x", "≥ 50x", v >= 50))
    worst = max(r["gate_over_floor"] for r in rows)
    checks.append(("gate / parse floor (nlohmann DOM parse, worst size)", f"{worst:.2f}x", "≤ 3x", worst <= 3))
    if "gate_10k_over_1k" in ratios:
        v = ratios["gate_10k_over_1k"]
        checks.append(("gate time 10k / 1k states", f"{v:.2f}", "≤ 12", v <= 12))
    summary = Table(title="Targets")
    for col in ("ratio", "measured", "target", "met"):
        summary.add_column(col)
    for name, value, target, met in checks:
        summary.add_row(name, value, target, "yes" if met else "[yellow]no[/yellow]")
    console.print(summary)
    console.print("Against the other floors (no target): gate / fast read (simdjson) "
                  + ", ".join(f"{r['states']:,}: {r['gate_over_fast_read']:.2f}x" for r in rows)
                  + "; gate / json.loads "
                  + ", ".join(f"{r['states']:,}: {r['gate_over_json_loads']:.2f}x" for r in rows))

    failures = []
    for r in rows:
        if not r["gate_ok"]:
            failures.append(f"the gate refused the {r['states']}-state world ({r['gate_errors']} errors)")
        if not r["agree"]:
            failures.append(f"{r['states']} states: gate and reference disagree; only gate "
                            f"{r['only_gate']}, only reference {r['only_reference']}")
    for f in failures:
        console.print(f"[red]{f}[/red]")

    out = {
        "benchmark": "gate",
        "quick": args.quick,
        "seed": args.seed,
        "machine": machine(),
        "sizes": rows,
        "ratios": ratios,
        "targets": TARGETS,
        "targets_met": {name: met for name, _, _, met in checks},
        "failures": failures,
    }
    dest = args.out or (None if args.quick else ROOT / "bench" / "results" / "gate.json")
    if dest is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(out, indent=2) + "\n")
        console.print(f"[dim]wrote {dest}[/dim]")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
