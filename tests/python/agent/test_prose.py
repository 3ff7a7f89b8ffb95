"""The agent's prose helpers agree with the kernel: word lists, the token count, the sanitiser."""

from __future__ import annotations

import pathlib

import pytest

import conjure
from conjure.agent import prose

LINTS = pathlib.Path(__file__).resolve().parents[3] / "cpp" / "data" / "lints"


def entries(name: str) -> set[str]:
    lines = (LINTS / f"{name}.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.parametrize(
    ("name", "mine"),
    [("negation", prose.NEGATION), ("intent", prose.INTENT), ("whiteout", prose.WHITEOUT), ("lethal-override", prose.LETHAL)],
)
def test_word_lists_are_the_kernel_data_files(name, mine):
    assert set(mine) == entries(name)
    assert len(mine) == len(set(mine)) > 0


def test_the_reserved_hotkeys_are_the_kernels():
    assert [k for k in "WASDwasd0123456789EQ" if conjure._core.is_reserved_hotkey(k)] == list("WASDwasd0123456789")
    assert not conjure._core.is_reserved_hotkey("Space")


@pytest.mark.parametrize(
    "text",
    ["a dusty hall with no windows, tall shelves", "you should feel afraid, a dark cellar", "a white flash over the lake",
     "the goal is the tower, stone stairs", "fog fills the view, a grey road", "it isn't lit, candles"],
)
def test_sanitized_prose_raises_no_doctrine_lint(text):
    clean = prose.sanitize(text)
    world = {"entrance": {"state": "a"}, "scene": {"states": {"a": {"base": clean or "a hall", "ending": {"kind": "win", "title": "t"}}}, "events": []}}
    assert not [d for d in conjure.lint(world) if d.lint in ("negation", "intent", "whiteout")]


def test_the_token_count_matches_the_budget_lint():
    long_base = ", ".join(["an extraordinarily ornamented balustrade"] * 12)
    world = {"entrance": {"state": "a"}, "scene": {"states": {"a": {"base": long_base, "ending": {"kind": "win", "title": "t"}}}, "events": []}}
    budget = [d for d in conjure.lint(world) if d.lint == "budget"]
    assert budget and f"is {prose.count_tokens(long_base)} tokens" in budget[0].message
    fitted = prose.fit_base({}, long_base, {})
    assert prose.count_tokens(fitted) <= prose.BUDGET


def test_gerunds_and_base_verbs():
    assert [prose.gerund(v) for v in ("fall", "escape", "die", "swim")] == ["falling", "escaping", "dying", "swimming"]
    assert [prose.base_verb(v) for v in ("falls", "escapes", "carries", "goes")] == ["fall", "escape", "carry", "go"]
