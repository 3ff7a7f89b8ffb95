"""Agent figures: the offline provider over the edit cases, generation over the 100 premises.

    python bench/agent/run.py [--out bench/results/agent.json]

Edits: success rate (the case's intended effect holds), the share of successful
results with no warning, and error-level worlds returned (must be 0). Generation:
validity rate, states, endings and warnings per world, determinism per seed.
Targets: success >= 90 %, 0 error-level worlds, 100 % valid generations.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "python" / "agent"))

import conjure  # noqa: E402
from agent_cases import load_cases, run_case  # noqa: E402
from conjure.agent import generate  # noqa: E402


def bench_edits() -> dict:
    results = [run_case(f, c, w) for f, c, w in load_cases()]
    passed = [r for r in results if r.passed]
    return {
        "cases": len(results),
        "succeeded": len(passed),
        "success_rate": round(len(passed) / len(results), 4),
        "no_warning_share": round(sum(1 for r in passed if r.warnings == 0) / max(1, len(passed)), 4),
        "error_level_worlds": sum(1 for r in results if r.error_world),
        "failures": [{"file": r.file, "case": r.name, "problems": r.problems} for r in results if not r.passed],
    }


def bench_generation(seeds: tuple[int, ...] = (0, 1, 2)) -> dict:
    premises = [p.strip() for p in (ROOT / "tests" / "data" / "agent" / "premises.txt").read_text().splitlines() if p.strip()]
    valid = 0
    states: list[int] = []
    endings: list[int] = []
    warnings: list[int] = []
    infos: list[int] = []
    lints: Counter[str] = Counter()
    deterministic = 0
    for premise in premises:
        for seed in seeds:
            world = generate(premise, seed=seed)
            result = conjure.validate(world)
            valid += result.ok
            states.append(len(world.states))
            endings.append(sum(1 for s in world.states.values() if isinstance(s.get("ending"), dict)))
            warnings.append(sum(1 for d in result.diagnostics if d.severity == "warning"))
            infos.append(sum(1 for d in result.diagnostics if d.severity == "info"))
            lints.update(d.lint for d in result.diagnostics)
        deterministic += generate(premise, seed=seeds[0]) == generate(premise, seed=seeds[0])
    n = len(states)
    return {
        "premises": len(premises),
        "seeds": list(seeds),
        "worlds": n,
        "validity_rate": round(valid / n, 4),
        "deterministic_rate": round(deterministic / len(premises), 4),
        "states_per_world": {"mean": round(statistics.mean(states), 2), "min": min(states), "max": max(states)},
        "endings_per_world": {"mean": round(statistics.mean(endings), 2), "min": min(endings)},
        "warnings_per_world": round(statistics.mean(warnings), 3),
        "infos_per_world": round(statistics.mean(infos), 3),
        "diagnostics_by_lint": dict(sorted(lints.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "agent.json"))
    args = parser.parse_args()
    report = {"edits": bench_edits(), "generation": bench_generation()}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    e, g = report["edits"], report["generation"]
    print(f"edits: {e['succeeded']}/{e['cases']} succeeded ({e['success_rate']:.1%}), "
          f"{e['no_warning_share']:.1%} with no warning, {e['error_level_worlds']} error-level worlds")
    print(f"generation: {g['worlds']} worlds, {g['validity_rate']:.1%} valid, "
          f"{g['states_per_world']['mean']} states and {g['endings_per_world']['mean']} endings per world, "
          f"{g['warnings_per_world']} warnings per world")
    ok = e["success_rate"] >= 0.9 and e["error_level_worlds"] == 0 and g["validity_rate"] == 1.0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
