"""Play sessions over HTTP: mint, exchange, bind, settle; caps, origins, budgets, connect tokens, restarts."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from server_helpers import TestClient, import_world, make_settings, make_tenant

from conjure.errors import UnauthorizedError
from conjure.server import create_app


def _settings(tmp_path, **overrides: Any):
    base = {"runtime_width": 160, "runtime_height": 90, "runtime_fps": 10.0}
    base.update(overrides)
    return make_settings(tmp_path, **base)


def _mint(client, tenant, world_id: str, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/sessions/token", json={"worldId": world_id, "playerId": "p1", **body},
                    headers=tenant.auth("sk_test"))
    assert r.status_code == 201, r.text
    return r.json()


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def world(client, tenant) -> str:
    return import_world(client, tenant)["world"]["id"]


def test_mint_returns_a_session_token_and_charges_the_session_meter(client, tenant, world):
    minted = _mint(client, tenant, world)
    assert minted["token"].startswith("st_") and minted["expiresAt"]
    usage = client.get("/v1/usage", headers=tenant.auth("sk_test")).json()
    assert usage["meters"]["session"]["used"] == 1


def test_mint_needs_a_secret_key_and_an_own_world(client, tenant, world):
    body = {"worldId": world, "playerId": "p1"}
    assert client.post("/v1/sessions/token", json=body, headers=tenant.auth("pk_test")).status_code == 403
    assert client.post("/v1/sessions/token", json=body, headers=tenant.auth("sk_live")).status_code == 404
    r = client.post("/v1/sessions/token", json={**body, "ttlSeconds": 7200}, headers=tenant.auth("sk_test"))
    assert r.status_code == 400


def test_exchange_bind_settle_round_trip(client, tenant, world):
    token = _mint(client, tenant, world)["token"]
    r = client.post("/v1/sessions/exchange", headers=_bearer(token))
    assert r.status_code == 200, r.text
    ex = r.json()
    assert ex["connectToken"].startswith("ct_")
    assert ex["runtimeUrl"] == "ws://testserver/v1/runtime"
    assert ex["world"]["id"] == world
    assert ex["world"]["entrance"]["state"] in ex["world"]["scene"]["states"]  # the playable document
    sid = ex["sessionId"]
    r = client.post("/v1/sessions/bind", json={"sessionId": sid}, headers=_bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "bound"
    r = client.post("/v1/sessions/settle", json={"sessionId": sid}, headers=_bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "settled"
    again = client.post("/v1/sessions/settle", json={"sessionId": sid}, headers=_bearer(token))
    assert again.status_code == 200 and again.json()["status"] == "settled"


def test_settle_takes_the_token_in_a_text_plain_body_as_send_beacon_sends_it(client, tenant, world):
    token = _mint(client, tenant, world)["token"]
    sid = client.post("/v1/sessions/exchange", headers=_bearer(token)).json()["sessionId"]
    r = client.post("/v1/sessions/settle", content=f'{{"sessionId":"{sid}","token":"{token}"}}',
                    headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "settled"


def test_session_endpoints_refuse_missing_forged_and_foreign_tokens(client, tenant, world):
    assert client.post("/v1/sessions/exchange").status_code == 401
    assert client.post("/v1/sessions/exchange", headers=_bearer("st_forged.token")).status_code == 401
    assert client.post("/v1/sessions/exchange", headers=tenant.auth("sk_test")).status_code == 401
    token = _mint(client, tenant, world)["token"]
    sid = client.post("/v1/sessions/exchange", headers=_bearer(token)).json()["sessionId"]
    other = make_tenant(client)
    other_world = import_world(client, other)["world"]["id"]
    other_token = _mint(client, other, other_world)["token"]
    r = client.post("/v1/sessions/settle", json={"sessionId": sid}, headers=_bearer(other_token))
    assert r.status_code == 404
    r = client.post("/v1/sessions/bind", json={"sessionId": sid, "extra": 1}, headers=_bearer(token))
    assert r.status_code == 400


def test_a_token_bound_to_an_origin_is_forbidden_from_another(client, tenant, world):
    token = _mint(client, tenant, world, origin="https://game.example")["token"]
    r = client.post("/v1/sessions/exchange", headers=_bearer(token, Origin="https://evil.example"))
    assert r.status_code == 403
    r = client.post("/v1/sessions/exchange", headers=_bearer(token))
    assert r.status_code == 403
    r = client.post("/v1/sessions/exchange", headers=_bearer(token, Origin="https://game.example"))
    assert r.status_code == 200, r.text


def test_two_exchanges_racing_for_the_last_slot_exactly_one_wins(tmp_path):
    settings = _settings(tmp_path, session_app_cap=1)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        world = import_world(client, tenant)["world"]["id"]
        for _ in range(5):
            tokens = [_mint(client, tenant, world)["token"] for _ in range(2)]
            barrier = threading.Barrier(2)
            results: list[Any] = [None, None]

            def race(i: int) -> None:
                barrier.wait()
                results[i] = client.post("/v1/sessions/exchange", headers=_bearer(tokens[i]))

            threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(r.status_code for r in results)
            assert statuses == [200, 429], [r.text for r in results]
            loser = next(r for r in results if r.status_code == 429)
            assert loser.json()["code"] == "concurrency_cap"
            winner = next(r for r in results if r.status_code == 200)
            sid = winner.json()["sessionId"]
            win_token = tokens[results.index(winner)]
            assert client.post("/v1/sessions/settle", json={"sessionId": sid}, headers=_bearer(win_token)).status_code == 200


def test_exchange_past_the_session_minutes_budget_is_402(tmp_path):
    settings = _settings(tmp_path, session_minutes=10, meter_limits={"session_minutes": 5})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        world = import_world(client, tenant)["world"]["id"]
        token = _mint(client, tenant, world)["token"]
        r = client.post("/v1/sessions/exchange", headers=_bearer(token))
        assert r.status_code == 402
        assert r.json()["code"] == "quota_exceeded"


def test_connect_tokens_work_once_and_not_after_sixty_seconds(client, tenant, world):
    store = client.app.state.conjure.store
    first = client.post("/v1/sessions/exchange", headers=_bearer(_mint(client, tenant, world)["token"])).json()
    late = client.post("/v1/sessions/exchange", headers=_bearer(_mint(client, tenant, world)["token"])).json()
    session = store.consume_connect_token(first["connectToken"])
    assert session["sessionId"] == first["sessionId"]
    with pytest.raises(UnauthorizedError):
        store.consume_connect_token(first["connectToken"])  # reused
    with pytest.raises(UnauthorizedError):
        store.consume_connect_token(late["connectToken"], now=time.time() + 61)  # expired


def test_a_server_restart_settles_live_sessions_and_frees_their_slots(tmp_path):
    settings = _settings(tmp_path, session_app_cap=1)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        world = import_world(client, tenant)["world"]["id"]
        token = _mint(client, tenant, world)["token"]
        assert client.post("/v1/sessions/exchange", headers=_bearer(token)).status_code == 200
        blocked = _mint(client, tenant, world)["token"]
        assert client.post("/v1/sessions/exchange", headers=_bearer(blocked)).status_code == 429
    # The lifespan settled everything at shutdown; a new server starts with every slot free.
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        r = client.post("/v1/sessions/exchange", headers=_bearer(blocked))
        assert r.status_code == 200, r.text
        usage = client.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["session_minutes"]
        assert usage["reserved"] == settings.session_minutes  # only the new session holds minutes


def test_settling_a_playing_session_closes_its_socket_with_4003(client, tenant, world):
    from starlette.websockets import WebSocketDisconnect

    token = _mint(client, tenant, world)["token"]
    ex = client.post("/v1/sessions/exchange", headers=_bearer(token)).json()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        assert ws.receive_json()["type"] == "ready"
        r = client.post("/v1/sessions/settle", json={"sessionId": ex["sessionId"]}, headers=_bearer(token))
        assert r.status_code == 200
        codes = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                msg = ws.receive()
                if msg["type"] == "websocket.close":
                    raise WebSocketDisconnect(msg.get("code", 1000))
                if msg.get("text"):
                    codes.append(msg["text"])
        assert closed.value.code == 4003
        assert any('"code":"killed"' in c for c in codes)
    hub = client.app.state.runtime
    end = time.monotonic() + 10  # the socket's settle runs off the event loop
    while hub.is_live(ex["sessionId"]) and time.monotonic() < end:
        time.sleep(0.01)
    assert not hub.is_live(ex["sessionId"])
