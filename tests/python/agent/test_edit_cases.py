"""Every table-driven edit case in tests/data/agent/*.json, through conjure.agent.edit and the offline provider."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from agent_cases import load_cases, run_case  # noqa: E402

CASES = load_cases()


def test_there_are_at_least_sixty_edit_cases_covering_every_file():
    assert len(CASES) >= 60
    assert len({file for file, _, _ in CASES}) >= 7


@pytest.mark.parametrize(
    ("file", "case", "world"),
    CASES,
    ids=[f"{file[:-5]}: {case['name']}" for file, case, _ in CASES],
)
def test_edit_case_has_its_intended_effect_and_never_returns_an_error_world(file, case, world):
    result = run_case(file, case, world)
    assert not result.error_world
    assert result.passed, "; ".join(result.problems)
