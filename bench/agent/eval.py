"""The edit eval: every case of the dev and the held-out test part, one checker, one run.

    python bench/agent/eval.py [--part dev|test|both] [--out bench/results/agent_eval.json] [--failures]

For each part: intended-effect rate (the case's effects hold and nothing else changed, or
the question it should ask was asked), wrong-edit rate (an edit was applied that is not what
was asked or that changed more), question rate (the agent asked), error-level worlds returned
(must be 0), and p50 / p90 latency of ``edit`` (with p50 on the 100-state world alone, once
cold as the cases run and once warm, best of 3 per instruction).
Cases and checks: tests/python/agent/agent_eval.py. Never tune on the test part.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
from collections import Counter
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "python" / "agent"))

import conjure  # noqa: E402
from agent_eval import judge, load_part, load_world, part_sha256  # noqa: E402
from conjure.agent import edit  # noqa: E402


def run_case(case: dict[str, Any], worlds: dict[str, dict[str, Any]], provider: Any = None) -> dict[str, Any]:
    before = worlds[case["world"]]
    text = case["instruction"] * int(case.get("repeat", 1))
    t0 = time.perf_counter()
    try:
        out = edit(before, text, provider=provider)
        crashed = None
    except Exception as exc:  # a crash is a failed case, never a stopped run
        out, crashed = None, f"{type(exc).__name__}: {exc}"
    ms = (time.perf_counter() - t0) * 1000
    if out is None:
        return {"id": case["id"], "world": case["world"], "passed": False, "kind": "failed", "problems": [crashed],
                "ms": ms, "error_world": False, "reply": ""}
    after = out.world.to_dict() if out.world is not None else None
    question = out.reply if out.clarification else None
    verdict = judge(case["expect"], before, after, question)
    error_world = bool(after is not None and any(d.severity == "error" for d in conjure.validate(after).diagnostics))
    return {"id": case["id"], "world": case["world"], "passed": verdict.passed, "kind": verdict.kind,
            "problems": verdict.problems, "ms": ms, "error_world": error_world, "reply": out.reply[:300],
            "expected": "question" if case["expect"].get("ask") else "edit"}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(results)
    ms = sorted(r["ms"] for r in results)
    big = sorted(r["ms"] for r in results if r["world"] == "city")
    wrong = [r for r in results if r["kind"] == "edit" and not r["passed"]]
    asked = [r for r in results if r["kind"] == "question"]
    by_world = Counter(r["world"] for r in results)
    ok_world = Counter(r["world"] for r in results if r["passed"])
    return {
        "cases": n,
        "intended_effect_rate": round(sum(r["passed"] for r in results) / n, 4),
        "wrong_edit_rate": round(len(wrong) / n, 4),
        "question_rate": round(len(asked) / n, 4),
        "questions_when_an_edit_was_wanted": sum(1 for r in asked if r["expected"] == "edit"),
        "edits_when_a_question_was_wanted": sum(1 for r in wrong if r["expected"] == "question"),
        "failed_or_unchanged": sum(1 for r in results if r["kind"] in ("failed", "unchanged")),
        "error_level_worlds": sum(r["error_world"] for r in results),
        "p50_ms": round(statistics.median(ms), 2),
        "p90_ms": round(ms[int(0.9 * (n - 1))], 2),
        "p50_ms_100_state_world": round(statistics.median(big), 2) if big else None,
        "by_world": {w: f"{ok_world[w]}/{by_world[w]}" for w in sorted(by_world)},
    }


def warm_latency(cases: list[dict[str, Any]], world: dict[str, Any], runs: int = 3) -> float:
    """p50 over the 100-state world's instructions of the best of ``runs`` timings each: the
    steady cost of an edit with the world's caches warm, less sensitive to a loaded machine."""
    best = []
    for c in cases:
        text = c["instruction"] * int(c.get("repeat", 1))
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            edit(world, text)
            times.append((time.perf_counter() - t0) * 1000)
        best.append(min(times))
    return round(statistics.median(best), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "agent_eval.json"))
    parser.add_argument("--failures", action="store_true", help="print each failed case (dev part only)")
    args = parser.parse_args()
    parts = ("dev", "test") if args.part == "both" else (args.part,)
    report: dict[str, Any] = {"provider": "offline"}
    for part in parts:
        cases = load_part(part)
        worlds = {w: load_world(w) for w in sorted({c["world"] for c in cases})}
        results = [run_case(c, worlds) for c in cases]
        report[part] = summarise(results) | {"sha256": part_sha256(part)}
        if "city" in worlds:
            report[part]["p50_ms_100_state_world_warm_best_of_3"] = warm_latency(
                [c for c in cases if c["world"] == "city"], worlds["city"])
        if args.failures and part == "dev":
            for r in results:
                if not r["passed"]:
                    case = next(c for c in cases if c["id"] == r["id"])
                    print(f"FAIL {r['id']} [{r['kind']}] {case['instruction'][:100]!r}\n     {r['problems'][:3]}\n     reply: {r['reply'][:160]!r}")
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
