"""Several API processes sharing Redis: one rate limit, and settles that reach the socket's process.

Two apps built in one test process stand for two server processes: each has its own
store handle, runtime hub, rate limiter and Redis connections, and they share only what
separate processes share (the store file and Redis). tests/e2e/scaleout does the same
with real processes behind a load balancer.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from server_helpers import TestClient, import_world, make_settings, make_tenant

from conjure.server import create_app
from conjure.server.coordination import Coordination, RedisRateLimiter, missing_guarantees
from conjure.server.security import RateLimiter


def _settings(tmp_path, redis_service, **overrides: Any):
    url, prefix = redis_service
    base: dict[str, Any] = {"redis_url": url, "redis_prefix": prefix, "runtime_width": 160, "runtime_height": 90,
                            "runtime_fps": 10.0}
    base.update(overrides)
    return make_settings(tmp_path, **base)


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, decode_responses=True)


def test_limiters_of_several_processes_share_one_bucket(redis_service):
    url, prefix = redis_service
    clients = [_redis(url) for _ in range(3)]
    limiters = [RedisRateLimiter(c, prefix, rate=0.001, burst=7) for c in clients]
    allowed = sum(limiters[i % 3].take("key:k1").allowed for i in range(30))
    assert allowed == 7  # the configured burst, not three times it
    # another credential has a bucket of its own
    assert limiters[0].take("key:k2").allowed
    for c in clients:
        c.close()


def test_concurrent_takes_from_many_connections_never_exceed_the_bucket(redis_service):
    url, prefix = redis_service
    limiters = [RedisRateLimiter(_redis(url), prefix, rate=0.001, burst=25) for _ in range(8)]
    results: list[bool] = []
    lock = threading.Lock()

    def hammer(limiter: RedisRateLimiter) -> None:
        for _ in range(20):
            got = limiter.take("key:race").allowed
            with lock:
                results.append(got)

    threads = [threading.Thread(target=hammer, args=(lim,)) for lim in limiters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 160 and sum(results) == 25  # the script is atomic: no lost update


def test_a_bucket_refills_at_the_configured_rate(redis_service):
    url, prefix = redis_service
    limiter = RedisRateLimiter(_redis(url), prefix, rate=20.0, burst=2)
    assert limiter.take("key:r").allowed and limiter.take("key:r").allowed
    refused = limiter.take("key:r")
    assert not refused.allowed and refused.retry_after >= 1
    time.sleep(0.2)  # 20 per second: at least one token is back (never an upper bound on time)
    assert limiter.take("key:r").allowed


def test_without_redis_each_process_has_its_own_bucket_and_says_so(tmp_path):
    settings = make_settings(tmp_path, workers=2)
    missing = missing_guarantees(settings)
    assert any("rate limits are per process" in m for m in missing)
    assert any("settle" in m for m in missing)
    a, b = RateLimiter(0.001, 3), RateLimiter(0.001, 3)
    assert sum(x.take("key:k").allowed for x in (a, b) for _ in range(5)) == 6  # N times the limit


def test_a_multi_process_server_without_redis_names_what_it_lacks_at_start(tmp_path, caplog):
    settings = make_settings(tmp_path, workers=2)
    with caplog.at_level(logging.WARNING, logger="conjure.server"):
        with TestClient(create_app(settings)):
            pass
    text = caplog.text
    assert "without Redis" in text and "rate limits are per process" in text and "settle" in text


def test_one_rate_limit_across_two_servers(tmp_path, redis_service):
    with TestClient(create_app(make_settings(tmp_path)), raise_server_exceptions=False) as setup:
        tenant = make_tenant(setup)
    settings = _settings(tmp_path, redis_service, rate_limit_per_second=0.001, rate_limit_burst=6)
    with TestClient(create_app(settings), raise_server_exceptions=False) as one, \
            TestClient(create_app(settings), raise_server_exceptions=False) as two:
        replies = [(one if i % 2 else two).get("/v1/worlds", headers=tenant.auth("sk_test")) for i in range(12)]
    statuses = [r.status_code for r in replies]
    assert statuses.count(200) == 6 and statuses.count(429) == 6, statuses
    assert replies[-1].headers["RateLimit-Limit"] == "6" and "Retry-After" in replies[-1].headers


def test_redis_down_falls_back_to_local_buckets_and_counts_it(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0", rate_limit_per_second=0.001,
                             rate_limit_burst=2)
    counted: list[int] = []
    coord = Coordination(settings, on_fallback=lambda: counted.append(1))
    decisions = [coord.limiter.take("key:k").allowed for _ in range(4)]
    assert decisions == [True, True, False, False]  # still limited, by this process's bucket
    assert len(counted) == 4
    assert not coord.ping()
    coord.stop()


def test_the_redis_url_is_validated_and_never_shown(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        make_settings(tmp_path, redis_url="http://:hunter2secret@127.0.0.1:6379")
    assert "redis_url" in str(refused.value) and "hunter2secret" not in str(refused.value)
    settings = make_settings(tmp_path, redis_url="redis://:hunter2secret@127.0.0.1:6379/0")
    assert "hunter2secret" not in repr(settings) and "hunter2secret" not in str(settings.model_dump())


def _mint(client, tenant, world_id: str) -> str:
    r = client.post("/v1/sessions/token", json={"worldId": world_id, "playerId": "p1"}, headers=tenant.auth("sk_test"))
    assert r.status_code == 201, r.text
    return r.json()["token"]


def _playing(holder) -> tuple[Any, str, dict[str, Any]]:
    """A tenant of ``holder`` with a world and an admitted session: (tenant, session token, exchange answer)."""
    tenant = make_tenant(holder)
    world = import_world(holder, tenant)["world"]["id"]
    token = _mint(holder, tenant, world)
    ex = holder.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {token}"}).json()
    return tenant, token, ex


def test_a_settle_sent_to_one_server_closes_the_socket_held_by_another(tmp_path, redis_service):
    from starlette.websockets import WebSocketDisconnect

    settings = _settings(tmp_path, redis_service)
    with TestClient(create_app(settings), raise_server_exceptions=False) as holder, \
            TestClient(create_app(settings), raise_server_exceptions=False) as other:
        _, token, ex = _playing(holder)
        with holder.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
            assert ws.receive_json()["type"] == "ready"
            end = time.monotonic() + 10  # the socket announces itself off the event loop
            owner_key = f"{settings.redis_prefix}sock:{ex['sessionId']}"
            while not _redis(str(settings.redis_url.get_secret_value())).get(owner_key) and time.monotonic() < end:
                time.sleep(0.02)
            assert not other.app.state.runtime.is_live(ex["sessionId"])
            r = other.post("/v1/sessions/settle", json={"sessionId": ex["sessionId"]},
                           headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "settled" and r.json()["secondsUsed"] >= 0
            texts = []
            with pytest.raises(WebSocketDisconnect) as closed:
                while True:
                    msg = ws.receive()
                    if msg["type"] == "websocket.close":
                        raise WebSocketDisconnect(msg.get("code", 1000))
                    if msg.get("text"):
                        texts.append(msg["text"])
            assert closed.value.code == 4003
            assert any('"code":"killed"' in t for t in texts)
        hub = holder.app.state.runtime
        end = time.monotonic() + 10
        while hub.is_live(ex["sessionId"]) and time.monotonic() < end:
            time.sleep(0.01)
        assert not hub.is_live(ex["sessionId"])
        # the holder released its claim: a later settle finds nobody to reach and answers at once
        end = time.monotonic() + 10
        while _redis(str(settings.redis_url.get_secret_value())).get(owner_key) and time.monotonic() < end:
            time.sleep(0.02)
        assert _redis(str(settings.redis_url.get_secret_value())).get(owner_key) is None


def test_a_kill_for_another_apps_session_is_ignored_by_the_holder(tmp_path, redis_service):
    settings = _settings(tmp_path, redis_service)
    redis = _redis(str(settings.redis_url.get_secret_value()))
    with TestClient(create_app(settings), raise_server_exceptions=False) as holder:
        tenant, token, ex = _playing(holder)
        with holder.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
            assert ws.receive_json()["type"] == "ready"
            end = time.monotonic() + 10
            while not redis.get(f"{settings.redis_prefix}sock:{ex['sessionId']}") and time.monotonic() < end:
                time.sleep(0.02)
            sender = Coordination(settings)  # another process: a node id of its own
            try:
                assert sender.kill_remote(ex["sessionId"], "app_other", "test", "killed") is None
                assert holder.app.state.runtime.is_live(ex["sessionId"])  # a foreign app's kill did nothing
                stats = sender.kill_remote(ex["sessionId"], tenant.app_id, "test", "killed")
                assert stats is not None and stats["seconds"] >= 0
            finally:
                sender.stop()
            ws.close()
