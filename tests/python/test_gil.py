"""Native work releases the GIL: other Python threads make progress meanwhile.

Progress is counted *during one native call* (from just before it starts to just after it
returns) and compared, as a rate, with a baseline call that holds the GIL for its whole
length (``sorted`` of floats: C code that never releases it). A native call that held the
GIL would count like the baseline.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable

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


def _tick_rate_inside(call: Callable[[], object]) -> float:
    """Loop iterations per second another thread made between the start of ``call`` and its return.

    The switch interval is 0.5 ms, so a call that holds the GIL lets the other thread in for
    at most about one interval at each end; a call that releases it lets it run throughout.
    """
    started = threading.Event()
    done = threading.Event()
    counter = [0]

    def spin() -> None:
        started.set()
        while not done.is_set():
            counter[0] += 1

    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    spinner = threading.Thread(target=spin)
    spinner.start()
    started.wait()
    try:
        before, t0 = counter[0], time.perf_counter()
        call()
        after, t1 = counter[0], time.perf_counter()
    finally:
        done.set()
        spinner.join()
        sys.setswitchinterval(previous)
    return (after - before) / max(t1 - t0, 1e-9)


def test_one_gate_call_lets_another_thread_run_while_a_gil_holding_call_does_not():
    text = conjure.World.from_dict(big_world(6000)).to_json()
    floats = [random.random() for _ in range(1_500_000)]
    baseline = _tick_rate_inside(lambda: sorted(floats))  # C code that holds the GIL throughout
    native = _tick_rate_inside(lambda: _core.gate(text))
    assert native > 10 * baseline, f"another thread ran {native:.0f}/s inside one gate call, {baseline:.0f}/s inside sorted()"


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
