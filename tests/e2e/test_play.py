"""Play over a real server: mint, exchange, a real WebSocket client plays the Drowned Abbey to its ending."""

from __future__ import annotations

import asyncio
import json
import pathlib
from typing import Any

import pytest
import websockets

from e2e_servers import EXAMPLES, Server, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery"
WIN_KEYS = ["E", "F", "K", "U", "T"]  # lantern, cellar, iron key, crypt, tunnel → the far shore


def abbey_tenant(server: Server) -> dict[str, Any]:
    """A user, an app, its test secret key and the Drowned Abbey imported: {app, sk, world}."""
    with server.client() as http:
        r = http.post("/v1/auth/signup", json={"email": "player@example.com", "password": PASSWORD})
        assert r.status_code == 201, r.text
        user = {"Authorization": f"Bearer {r.json()['token']}"}
        app_id = http.post("/v1/apps", json={"name": "abbey"}, headers=user).json()["id"]
        r = http.post(f"/v1/apps/{app_id}/keys", json={"type": "secret", "mode": "test"}, headers=user)
        assert r.status_code == 201, r.text
        sk = {"Authorization": f"Bearer {r.json()['key']}"}
        abbey = json.loads((EXAMPLES / "drowned-abbey.json").read_text())
        r = http.post("/v1/worlds", json={"world": abbey}, headers=sk)
        assert r.status_code == 201, r.text
        return {"app": app_id, "sk": sk, "world": r.json()["world"]["id"]}


def mint(server: Server, tenant: dict[str, Any], player: str = "p1", **extra: Any) -> str:
    with server.client() as http:
        r = http.post("/v1/sessions/token", json={"worldId": tenant["world"], "playerId": player, **extra},
                      headers=tenant["sk"])
        assert r.status_code == 201, r.text
        return str(r.json()["token"])


async def play_to_the_end(ex: dict[str, Any]) -> dict[str, Any]:
    """Plays WIN_KEYS: the first key after the first frame, each next one after the state it caused."""
    seen: dict[str, Any] = {"types": [], "frames": 0, "states": []}
    async with websockets.connect(f"{ex['runtimeUrl']}?token={ex['connectToken']}", max_size=2**22) as ws:
        pending = list(WIN_KEYS)
        async for msg in ws:
            if isinstance(msg, bytes):
                assert msg[:2] == b"\xff\xd8"
                seen["frames"] += 1
                if seen["frames"] == 1:
                    await ws.send(json.dumps({"type": "ping"}))
                    await ws.send(json.dumps({"type": "key", "key": pending.pop(0)}))
                continue
            data = json.loads(msg)
            seen["types"].append(data["type"])
            if data["type"] == "state":
                seen["states"].append(data["state"])
                if pending and seen["frames"] > 0 and len(seen["states"]) > 1:
                    await ws.send(json.dumps({"type": "key", "key": pending.pop(0)}))
            elif data["type"] == "ending":
                seen["ending"] = data
            elif data["type"] == "error":
                raise AssertionError(f"error message: {data}")
        seen["close_code"] = ws.close_code
    return seen


def test_a_websocket_client_plays_the_drowned_abbey_to_its_ending(tmp_path: pathlib.Path, servers: list[Server]) -> None:
    server = start_server("conjure-serve", tmp_path, runtime_fps="20")
    servers.append(server)
    tenant = abbey_tenant(server)
    token = mint(server, tenant)
    with server.client() as http:
        r = http.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        ex = r.json()
        assert ex["runtimeUrl"] == f"ws://127.0.0.1:{server.port}/v1/runtime"

        seen = asyncio.run(asyncio.wait_for(play_to_the_end(ex), 120))
        assert seen["types"][0] == "ready"
        assert seen["frames"] >= 1
        assert seen["states"][0] == "courtyard"
        assert "crypt" in seen["states"] and seen["states"][-1] == "shore"
        assert seen["ending"]["kind"] == "win" and seen["ending"]["title"] == "The far shore"
        assert seen["close_code"] == 1000
        # The socket's close settled the session: binding it now is a conflict, settling answers as settled.
        r = http.post("/v1/sessions/settle", json={"sessionId": ex["sessionId"]},
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["status"] == "settled"
        usage = http.get("/v1/usage", headers=tenant["sk"]).json()["meters"]
        assert usage["session"]["used"] == 1
        assert usage["session_minutes"]["reserved"] == 0


def test_a_server_restart_settles_its_sessions_and_leaks_no_slot(tmp_path: pathlib.Path, servers: list[Server]) -> None:
    server = start_server("conjure-serve", tmp_path, session_app_cap="1")
    servers.append(server)
    tenant = abbey_tenant(server)
    first = mint(server, tenant, "a")
    with server.client() as http:
        assert http.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {first}"}).status_code == 200
        second = mint(server, tenant, "b")
        r = http.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {second}"})
        assert r.status_code == 429 and r.json()["code"] == "concurrency_cap"
    server.stop()
    again = start_server("conjure-serve", tmp_path, session_app_cap="1")
    servers.append(again)
    with again.client() as http:
        r = http.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {second}"})
        assert r.status_code == 200, r.text
