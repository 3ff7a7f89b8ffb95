"""Crash test of a deployment: SIGKILL its API processes 50 times under writers.

Three processes behind HAProxy on one store; writers create worlds through the
balancer the whole time while one process after another is killed with SIGKILL and
started again. Every write that was acknowledged (201) is present afterwards, read
from every process, and the store passes `conjure store check`.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from deployment import Deployment, start_deployment
from test_scaleout import PASSWORD, _world_ids

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KILLS = 50


@pytest.fixture
def dep(tmp_path) -> Iterator[Deployment]:
    d = start_deployment(tmp_path, processes=3)
    yield d
    d.stop()


def test_fifty_sigkills_under_writers_lose_no_acknowledged_write(dep: Deployment) -> None:
    with dep.client() as http:
        r = http.post("/v1/auth/signup", json={"email": "crash@example.com", "password": PASSWORD})
        user = {"Authorization": f"Bearer {r.json()['token']}"}
        app_id = http.post("/v1/apps", json={"name": "crash"}, headers=user).json()["id"]
        r = http.post(f"/v1/apps/{app_id}/keys", json={"type": "secret", "mode": "test"}, headers=user)
        sk = {"Authorization": f"Bearer {r.json()['key']}"}
    world = {"schemaVersion": "1.0", "name": "w", "entrance": {"state": "a"},
             "scene": {"states": {"a": {"base": "a quiet room with one window"}}, "events": []}}
    acknowledged: list[str] = []
    other: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w: int) -> None:
        n = 0
        with dep.client() as http:
            while not stop.is_set():
                n += 1
                try:
                    r = http.post("/v1/worlds", json={"world": {**world, "name": f"w{w}-{n}"}}, headers=sk)
                except httpx.TransportError:
                    continue
                with lock:
                    if r.status_code == 201:
                        acknowledged.append(r.json()["world"]["id"])
                    else:
                        other.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for th in threads:
        th.start()
    try:
        # Kill api1, api2, api3, api1, ... each restarted at once; a process is killed again only
        # once it serves (so two of three may be down together), and only after a write was
        # acknowledged since the previous kill.
        for k in range(KILLS):
            i = k % 3
            dep.wait_ready(i)
            before = len(acknowledged)
            deadline = time.monotonic() + 60
            while len(acknowledged) == before and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(acknowledged) > before, f"no write acknowledged before kill {k + 1}"
            dep.kill(i)
            dep.start_process(i)
        for i in range(3):
            dep.wait_ready(i)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=60)
    assert len(acknowledged) > KILLS
    assert all(code in (502, 503) for code in other), other  # only requests cut by a kill
    time.sleep(2.5)  # the balancer sees every process up again
    for i in range(3):
        missing = set(acknowledged) - _world_ids(dep, i, sk)
        assert not missing, f"process {i} lacks {len(missing)} acknowledged worlds"
    dep.stop()  # every process down: check the store file itself
    check = subprocess.run([sys.executable, "-m", "conjure.cli", "store", "check", "--store",
                            str(dep.tmp / "data" / "conjure.db")], capture_output=True, text=True, timeout=300,
                           env=dep.env)  # the deployment's CONJURE_SECRET: the store keeps none
    assert check.returncode == 0, check.stdout + check.stderr
