"""The edit eval's data and checker: its size and spread, the deterministic 60/40 split, the
held-out part's recorded sha256, and that the checker catches what it claims to catch."""

from __future__ import annotations

import copy
import pathlib
import re

import conjure
import pytest
from agent_eval import EFFECTS, judge, load_part, load_world, part_sha256, split, world_delta

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def parts() -> tuple[list[dict], list[dict]]:
    return load_part("dev"), load_part("test")


def test_the_eval_has_at_least_300_cases_over_at_least_6_worlds_that_pass_the_gate(parts):
    cases = parts[0] + parts[1]
    assert len(cases) >= 300
    worlds = {c["world"] for c in cases}
    assert len(worlds) >= 6
    for w in worlds:
        assert conjure.validate(load_world(w)).ok, w
    assert len({c["id"] for c in cases}) == len(cases)
    questions = [c for c in cases if c["expect"].get("ask")]
    assert 0.1 <= len(questions) / len(cases) <= 0.25


def test_every_effect_in_the_data_is_in_the_vocabulary(parts):
    def ops(effects):
        for e in effects:
            yield e["op"]
            if e["op"] == "any":
                for alt in e["of"]:
                    yield from ops(alt)

    for c in parts[0] + parts[1]:
        for op in ops(c["expect"].get("effects", [])):
            assert op in EFFECTS, (c["id"], op)


def test_the_split_is_the_deterministic_60_40_split_per_world(parts):
    dev, test = parts
    again_dev, again_test = split(dev + test)
    assert {c["id"] for c in again_dev} == {c["id"] for c in dev}
    assert {c["id"] for c in again_test} == {c["id"] for c in test}
    assert 0.58 <= len(dev) / (len(dev) + len(test)) <= 0.63


def test_the_held_out_parts_sha256_is_recorded_in_the_bench_readme():
    readme = (ROOT / "bench" / "README.md").read_text()
    assert part_sha256("test") in readme
    assert re.search(r"held-out", readme)


ABBEY = load_world("abbey")


def _with(mutate) -> dict:
    w = copy.deepcopy(ABBEY)
    mutate(w)
    return w


def test_a_question_passes_only_when_the_world_is_unchanged_and_it_names_the_candidates():
    expect = {"ask": True, "names": ["bell_tower", "shore"]}
    assert judge(expect, ABBEY, ABBEY, "Which one: bell tower or shore?").passed
    assert not judge(expect, ABBEY, ABBEY, "Which one do you mean?").passed
    moved = _with(lambda w: w["entrance"].update(state="nave"))
    verdict = judge(expect, ABBEY, moved, None)
    assert not verdict.passed and verdict.kind == "edit"


def test_an_edit_that_does_what_was_asked_and_nothing_else_passes():
    def add(w):
        w["scene"]["states"]["chapel"] = {"base": "a chapel with stained glass windows"}
        w["scene"]["events"].append({"name": "Enter the chapel", "kind": "transition", "from": ["nave"], "to": "chapel", "hotkey": "H"})
    expect = {"effects": [{"op": "new_state", "head": ["chapel"], "from": "nave", "prose": ["stained glass"]}]}
    assert judge(expect, ABBEY, _with(add), None).passed


def test_an_edit_that_changes_more_than_asked_is_a_wrong_edit():
    def add_and_more(w):
        w["scene"]["states"]["chapel"] = {"base": "a chapel"}
        w["scene"]["events"].append({"name": "Enter the chapel", "kind": "transition", "from": ["nave"], "to": "chapel"})
        w["scene"]["states"]["cellar"]["base"] = "something else"
    verdict = judge({"effects": [{"op": "new_state", "head": ["chapel"], "from": "nave"}]}, ABBEY, _with(add_and_more), None)
    assert not verdict.passed and verdict.kind == "edit"
    assert ("statef", "cellar", "base") in verdict.unclaimed


def test_a_place_named_after_the_wrong_word_fails_the_head_check():
    def add(w):
        w["scene"]["states"]["windows"] = {"base": "a chapel with stained glass windows"}
    verdict = judge({"effects": [{"op": "new_state", "head": ["chapel"]}]}, ABBEY, _with(add), None)
    assert not verdict.passed


def test_the_delta_ignores_defaults_but_sees_real_field_changes():
    def noisy(w):
        for e in w["scene"]["events"]:
            e.setdefault("hidden", False)
            e.setdefault("requires", [])
    assert world_delta(ABBEY, _with(noisy)) == set()
    hidden = _with(lambda w: w["scene"]["events"][6].update(hidden=True))
    assert world_delta(ABBEY, hidden) == {("eventf", "Leap into the lake", "hidden")}
    expect = {"effects": [{"op": "event", "name": "Leap into the lake", "set": {"hidden": True}}]}
    assert judge(expect, ABBEY, hidden, None).passed
    assert not judge({"effects": [{"op": "event", "name": "Ring the bell", "set": {"hidden": True}}]}, ABBEY, hidden, None).passed
