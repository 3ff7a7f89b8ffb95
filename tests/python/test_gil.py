"""Native work releases the GIL: other Python threads make progress meanwhile."""

from __future__ import annotations

import threading

import conjure
from conjure import _core


def big_world(n: int) -> dict:
    states = {f"s{i}": {"base": f"a stone room number {i} with a narrow window and a wooden door"} for i in range(n)}
    events = [
        {"name": f"Walk on {i}", "kind": "transition", "from": [f"s{i}"], "to": f"s{i + 1}", "hotkey": "E"}
        for i in range(n - 1)
    ]
    states[f"s{n - 1}"]["ending"] = {"kind": "win", "title": "The last room"}
    return {"name": "Long corridor", "entrance": {"state": "s0"}, "scene": {"states": states, "events": events}}


def _progress_during(work) -> int:
    """How many times another Python thread ran a loop iteration while `work` ran."""
    done = threading.Event()
    counter = [0]

    def spin():
        while not done.is_set():
            counter[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        work()
    finally:
        done.set()
        spinner.join()
    return counter[0]


def test_gate_on_big_world_lets_other_threads_run():
    text = conjure.World.from_dict(big_world(3000)).to_json()
    ticks = _progress_during(lambda: [_core.gate(text) for _ in range(5)])
    assert ticks > 0


def test_gate_from_a_worker_thread_while_main_thread_counts():
    text = conjure.World.from_dict(big_world(3000)).to_json()
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("r", _core.gate(text)))
    count = 0
    worker.start()
    while worker.is_alive():
        count += 1
    worker.join()
    assert result["r"].ok
    assert count > 0


def test_parse_only_runs_concurrently_from_threads():
    text = conjure.World.from_dict(big_world(2000)).to_json()
    errors = []

    def work():
        try:
            for _ in range(3):
                _core.parse_only(text)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
