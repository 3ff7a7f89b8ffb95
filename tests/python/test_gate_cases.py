"""The table-driven gate cases (tests/data/gate/*.json) run through the Python facade."""

from __future__ import annotations

import pathlib
import json
from typing import Any

import pytest

import conjure
GATE_DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "gate"


def _cases() -> list[Any]:
    params = []
    for path in sorted(GATE_DATA.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            params.append(pytest.param(doc.get("lint"), case, id=f"{path.stem}:{case['name']}"))
    return params


def _subset(expected: Any, actual: Any) -> bool:
    """True when every key of `expected` is in `actual` with a matching value (dicts recursively)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return expected == actual


def _limits(spec: dict[str, Any] | None) -> conjure.Limits | None:
    return conjure.Limits(**spec) if spec else None


CASES = _cases()


def test_gate_case_files_exist():
    assert GATE_DATA.is_dir()


@pytest.mark.skipif(not CASES, reason="no gate case files in tests/data/gate yet")
@pytest.mark.parametrize("lint_id, case", CASES)
def test_gate_case(lint_id: str, case: dict[str, Any]) -> None:
    world = case["world"]
    if isinstance(world, dict):
        result = conjure.validate(world, limits=_limits(case.get("limits")), plugins=False, characters=case.get("characters"))
    else:
        result = conjure.validate(
            json.dumps(world), limits=_limits(case.get("limits")), plugins=False, characters=case.get("characters")
        )
    got = [d.to_dict() for d in result.diagnostics]
    if "ok" in case:
        assert result.ok is case["ok"], got
    for want in case.get("expect", []):
        assert any(_subset(want, d) for d in got), f"missing {want} in {got}"
    for absent in case.get("absent", []):
        assert all(d["lint"] != absent for d in got), f"{absent} fired: {got}"
