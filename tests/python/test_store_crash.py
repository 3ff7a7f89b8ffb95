"""Crash consistency: a writer SIGKILLed at random moments loses no acknowledged write."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conjure.store import Store

CHILD = r"""
import json, random, sys
from conjure.store import Store

path, wid, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
s = Store(path)
states = s.get_world(wid)["scene"]["states"]
n = max([int(k[1:]) for k in states if k.startswith("a")] + [0])
print(json.dumps({"kind": "ready"}), flush=True)
while True:
    if rng.random() < 0.7:
        n += 1
        out = s.apply_ops(wid, [{"op": "add_state", "id": f"a{n}", "state": {"base": f"an annex room {n} of dry stone"}}])
        print(json.dumps({"kind": "write", "state": f"a{n}", "rev": out["rev"]}), flush=True)
    else:
        v = s.snapshot(wid, message=f"after a{n}")
        print(json.dumps({"kind": "snapshot", "id": v["id"], "parent": v["parentVersionId"]}), flush=True)
"""


def _rev_number(rev: str) -> int:
    return int(rev.split("-", 1)[0])


@pytest.mark.slow
def test_sigkilled_writer_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.db")
    world = {
        "schemaVersion": "1.0",
        "name": "Crash",
        "entrance": {"state": "s0"},
        "scene": {"states": {"s0": {"base": "a plain stone hall with a low ceiling"}}, "events": []},
    }
    with Store(path) as s:
        wid = s.create_world(world)["world"]["id"]
    rng = random.Random(1234)
    acked_states: list[str] = []
    acked_versions: set[str] = set()
    last_rev = 0
    kills = 0
    env = dict(os.environ)
    for run in range(55):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, path, wid, str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert child.stdout is not None
        first = child.stdout.readline()
        if not first:
            child.wait()
            assert child.stderr is not None
            pytest.fail(f"the writer did not start: {child.stderr.read()[-2000:]}")
        assert json.loads(first)["kind"] == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
        assert child.stderr is not None
        stderr = child.stderr.read()
        child.stderr.close()
        # It died of the kill, not of an error of its own before it (which would test nothing).
        assert child.returncode == -signal.SIGKILL, f"run {run}: the writer exited {child.returncode}: {stderr[-2000:]}"
        kills += 1
        for line in rest.splitlines():
            try:
                ack = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by the kill was never acknowledged
            if ack["kind"] == "write":
                acked_states.append(ack["state"])
                last_rev = max(last_rev, _rev_number(ack["rev"]))
            elif ack["kind"] == "snapshot":
                acked_versions.add(ack["id"])
        # Reopen after every kill and check everything acknowledged so far.
        with Store(path) as s:
            graph = s.get_graph(wid)
            states = graph["world"]["scene"]["states"]
            missing = [a for a in acked_states if a not in states]
            assert not missing, f"run {run}: acknowledged states lost: {missing[:5]}"
            assert _rev_number(graph["rev"]) >= last_rev
            tree = s.versions(wid)
            ids = {v["id"] for v in tree["data"]}
            assert acked_versions <= ids
            for v in tree["data"]:
                assert v["parentVersionId"] is None or v["parentVersionId"] in ids
            assert tree["head"] is None or tree["head"] in ids
    assert kills >= 50
    assert len(acked_states) > 0 and len(acked_versions) > 0
    with Store(path) as s:
        report = s.check()
        assert report["ok"], report
        tree = s.versions(wid)
        # Every version still reads back whole.
        for v in tree["data"][-5:]:
            assert s.get_version(wid, v["id"])["world"]["id"] == wid
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()
