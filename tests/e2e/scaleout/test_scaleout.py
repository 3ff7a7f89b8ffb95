"""Three API processes behind HAProxy (docs/deploy.md's config), one store, one Redis: they act as one server.

The e2e flow and a real WebSocket play pass through the balancer; the rate limit and
the session caps hold across processes; a settle sent to one process closes a socket
held by another; a SIGKILL of one process under writers loses no acknowledged write.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import websockets

from deployment import Deployment, start_deployment
from e2e_servers import EXAMPLES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery"
RATE, BURST = 0.5, 120  # per credential, for the whole deployment
APP_CAP = 2


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    d = start_deployment(tmp_path_factory.mktemp("scaleout"), processes=3, rate_limit_per_second=RATE,
                         rate_limit_burst=BURST, session_app_cap=APP_CAP, runtime_width=160, runtime_height=90,
                         runtime_fps=10.0)
    yield d
    d.stop()


_emails = iter(range(10_000))


def tenant(dep: Deployment, keys: int = 1) -> dict[str, Any]:
    """A user, an app, ``keys`` test secret keys and the Drowned Abbey: {app, sks, sk, world}."""
    with dep.client() as http:
        r = http.post("/v1/auth/signup", json={"email": f"scale{next(_emails)}@example.com", "password": PASSWORD})
        assert r.status_code == 201, r.text
        user = {"Authorization": f"Bearer {r.json()['token']}"}
        app_id = http.post("/v1/apps", json={"name": "scale"}, headers=user).json()["id"]
        sks = []
        for _ in range(keys):
            r = http.post(f"/v1/apps/{app_id}/keys", json={"type": "secret", "mode": "test"}, headers=user)
            assert r.status_code == 201, r.text
            sks.append({"Authorization": f"Bearer {r.json()['key']}"})
        abbey = json.loads((EXAMPLES / "drowned-abbey.json").read_text())
        r = http.post("/v1/worlds", json={"world": abbey}, headers=sks[0])
        assert r.status_code == 201, r.text
        return {"app": app_id, "sks": sks, "sk": sks[0], "world": r.json()["world"]["id"]}


def exchange(http: httpx.Client, t: dict[str, Any], player: str = "p1") -> tuple[str, httpx.Response]:
    r = http.post("/v1/sessions/token", json={"worldId": t["world"], "playerId": player}, headers=t["sk"])
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    return token, http.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {token}"})


def test_the_e2e_flow_passes_through_the_balancer(dep: Deployment) -> None:
    from test_e2e_flow import test_signup_app_keys_import_ops_versions_checkout_diff_usage_over_http as flow

    flow(dep.as_server())


def test_every_process_serves_requests_and_sees_the_others_writes(dep: Deployment) -> None:
    t = tenant(dep)
    for i in range(3):  # a world written through one process is read by every other
        with dep.client(i) as http:
            r = http.get(f"/v1/worlds/{t['world']}/graph", headers=t["sk"])
            assert r.status_code == 200, (i, r.text)
    before = [_requests_served(dep, i) for i in range(3)]
    with dep.client() as http:
        for _ in range(30):
            assert http.get(f"/v1/worlds/{t['world']}", headers=t["sk"]).status_code == 200
    after = [_requests_served(dep, i) for i in range(3)]
    assert all(a > b for a, b in zip(after, before)), (before, after)  # round robin reached all three


def _requests_served(dep: Deployment, i: int) -> float:
    text = httpx.get(dep.process_url(i) + "/metrics", timeout=10).text
    one_world = re.compile(r'^conjure_http_requests_total\{.*route="/v1/worlds/\{[^}/]+\}"')
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if one_world.match(line))


def test_the_rate_limit_holds_across_processes(dep: Deployment) -> None:
    t = tenant(dep, keys=2)
    key = t["sks"][1]  # a fresh bucket
    started = time.monotonic()
    with dep.client() as http, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: http.get("/v1/worlds", headers=key).status_code, range(BURST + 60)))
    elapsed = time.monotonic() - started
    allowed = statuses.count(200)
    assert statuses.count(429) == len(statuses) - allowed
    # One bucket for the deployment: the burst plus what refilled meanwhile, not three bursts.
    assert BURST <= allowed <= BURST + math.ceil(elapsed * RATE) + 1, (allowed, elapsed)


def test_session_caps_hold_across_processes(dep: Deployment) -> None:
    t = tenant(dep)
    admitted, refused = [], []
    with dep.client() as http:
        for i in range(APP_CAP + 3):  # round robin: the exchanges land on every process
            token, r = exchange(http, t, player=f"p{i}")
            (admitted if r.status_code == 200 else refused).append((token, r))
        assert len(admitted) == APP_CAP, [r.status_code for _, r in admitted + refused]
        assert all(r.status_code == 429 and r.json()["code"] == "concurrency_cap" for _, r in refused)
        for token, r in admitted:
            s = http.post("/v1/sessions/settle", json={"sessionId": r.json()["sessionId"]},
                          headers={"Authorization": f"Bearer {token}"})
            assert s.status_code == 200, s.text


def test_a_settle_sent_to_one_process_closes_a_socket_held_by_another(dep: Deployment) -> None:
    t = tenant(dep)
    with dep.client(0) as http:
        token, r = exchange(http, t)
    assert r.status_code == 200, r.text
    ex = r.json()
    holder_url = f"ws://127.0.0.1:{dep.ports[0]}/v1/runtime?token={ex['connectToken']}"

    async def scenario() -> tuple[int | None, list[dict[str, Any]], httpx.Response]:
        texts: list[dict[str, Any]] = []
        async with websockets.connect(holder_url, max_size=2**22) as ws:
            while True:  # the first state: the socket is live (and announced) on process 0
                msg = await asyncio.wait_for(ws.recv(), 30)
                if isinstance(msg, str) and json.loads(msg)["type"] == "state":
                    break
            await asyncio.sleep(0.5)
            async with httpx.AsyncClient(base_url=dep.process_url(1), timeout=30) as other:
                settled = await other.post("/v1/sessions/settle", json={"sessionId": ex["sessionId"]},
                                           headers={"Authorization": f"Bearer {token}"})
            try:
                while True:
                    msg = await asyncio.wait_for(ws.recv(), 30)
                    if isinstance(msg, str):
                        texts.append(json.loads(msg))
            except websockets.ConnectionClosed:
                pass
            return ws.close_code, texts, settled

    code, texts, settled = asyncio.run(scenario())
    assert settled.status_code == 200 and settled.json()["status"] == "settled", settled.text
    assert code == 4003
    assert any(m.get("type") == "error" and m.get("code") == "killed" for m in texts)


def test_a_player_plays_to_the_ending_through_the_balancer(dep: Deployment) -> None:
    from test_play import play_to_the_end

    t = tenant(dep)
    with dep.client() as http:
        _, r = exchange(http, t)
    assert r.status_code == 200, r.text
    ex = r.json()
    assert ex["runtimeUrl"] == f"ws://127.0.0.1:{dep.balancer_port}/v1/runtime"  # the balancer, not a process
    seen = asyncio.run(play_to_the_end(ex))
    assert seen.get("ending", {}).get("kind") == "win" and seen["frames"] > 0


def test_a_sigkilled_process_under_writers_loses_no_acknowledged_write(dep: Deployment) -> None:
    t = tenant(dep, keys=5)
    t["verify"], t["sks"] = t["sks"][4], t["sks"][:4]  # a key of its own for the reads after
    world = {"schemaVersion": "1.0", "name": "w", "entrance": {"state": "a"},
             "scene": {"states": {"a": {"base": "a quiet room with one window"}}, "events": []}}
    acknowledged: list[str] = []
    failures: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    per_writer = BURST - 10  # stays within each key's bucket

    def writer(key: dict[str, str]) -> None:
        with dep.client() as http:
            for n in range(per_writer):
                if stop.is_set():
                    return
                try:
                    r = http.post("/v1/worlds", json={"world": {**world, "name": f"w{n}"}}, headers=key)
                except httpx.TransportError:
                    with lock:
                        failures.append(-1)
                    continue
                with lock:
                    if r.status_code == 201:
                        acknowledged.append(r.json()["world"]["id"])
                    else:
                        failures.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(k,)) for k in t["sks"]]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    killed_at = len(acknowledged)
    dep.kill(1)
    for th in threads:
        th.join(timeout=300)
    stop.set()
    assert killed_at >= 40 and len(acknowledged) > killed_at  # writes went on through the other two
    assert all(code in (-1, 502, 503) for code in failures), failures  # only requests cut by the kill
    for i in (0, 2):
        assert set(acknowledged) <= _world_ids(dep, i, t["verify"])
    dep.start_process(1)  # and the killed process comes back on the same store
    dep.wait_ready(1)
    assert set(acknowledged) <= _world_ids(dep, 1, t["verify"])


def _world_ids(dep: Deployment, i: int, key: dict[str, str]) -> set[str]:
    """Every world id of the key's app and mode, as process ``i`` reads them (paginated)."""
    ids: set[str] = set()
    cursor = None
    with dep.client(i) as http:
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            r = http.get("/v1/worlds", params=params, headers=key)
            assert r.status_code == 200, (i, r.text)
            ids.update(w["id"] for w in r.json()["data"])
            cursor = r.json().get("nextCursor")
            if not cursor:
                return ids
