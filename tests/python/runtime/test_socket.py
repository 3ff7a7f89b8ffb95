"""The runtime socket's message protocol through Starlette's TestClient."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

WIN_KEYS = ["E", "F", "K", "U", "T"]  # lantern, cellar, iron key, crypt, tunnel → the far shore (conftest.py plays the same)


def settled(hub: Any, session_id: str, deadline_s: float = 10.0) -> bool:
    """Waits (bounded) until the socket's session is settled and unregistered; its settle runs off the loop."""
    end = time.monotonic() + deadline_s
    while hub.is_live(session_id) and time.monotonic() < end:
        time.sleep(0.01)
    return not hub.is_live(session_id)


def next_json(ws: Any, want: str | None = None, limit: int = 500) -> dict[str, Any]:
    """The next text message (of type `want`), skipping frames; fails past `limit` messages."""
    for _ in range(limit):
        msg = ws.receive()
        if msg["type"] == "websocket.close":
            raise WebSocketDisconnect(msg.get("code", 1000), msg.get("reason"))
        if msg.get("text") is None:
            continue
        data = json.loads(msg["text"])
        if want is None or data["type"] == want:
            return data
    raise AssertionError(f"no {want} message among {limit}")


def test_ready_then_the_entrance_state(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        ready = next_json(ws)
        assert ready["type"] == "ready"
        assert (ready["sessionId"], ready["width"], ready["height"], ready["fps"]) == (ex["sessionId"], 160, 90, 20.0)
        state = next_json(ws)
        assert state["type"] == "state" and state["state"] == "courtyard"
        assert [e["index"] for e in state["events"]] == list(range(1, len(state["events"]) + 1))
        assert {"name": "Take the lantern", "hotkey": "E", "index": 1, "kind": "override"} in state["events"]


def test_frames_arrive_as_binary_jpeg_messages(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        frames = 0
        for _ in range(200):
            msg = ws.receive()
            if msg.get("bytes"):
                assert msg["bytes"][:2] == b"\xff\xd8"  # JPEG SOI
                frames += 1
                if frames == 3:
                    break
        assert frames == 3


def test_a_hotkey_fires_and_a_new_state_follows(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        next_json(ws, "state")
        ws.send_json({"type": "key", "key": "e"})
        fired = next_json(ws, "fired")
        assert (fired["event"], fired["kind"], fired["duration"]) == ("Take the lantern", "override", 3.0)
        state = next_json(ws, "state")
        assert state["flags"] == ["lantern"] and state["override"] == "Take the lantern"
        ws.send_json({"type": "fire", "event": "Enter the nave"})
        assert next_json(ws, "state")["state"] == "nave"
        ws.send_json({"type": "move", "keys": "W"})
        assert next_json(ws, "state")["moving"] is True


def test_the_first_message_may_authenticate(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect("/v1/runtime") as ws:
        ws.send_json({"type": "auth", "token": ex["connectToken"]})
        assert next_json(ws)["type"] == "ready"


@pytest.mark.parametrize(
    "bad",
    ['not json', '[1,2]', '{"type":"dance"}', '{"type":"key"}', '{"type":"key","key":""}',
     '{"type":"move","keys":5}', '{"type":"fire","event":"x","extra":1}', '{"type":"key","key":"' + "k" * 40 + '"}'],
)
def test_a_bad_message_gets_an_error_and_the_session_goes_on(play, bad):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        next_json(ws, "state")
        ws.send_text(bad)
        err = next_json(ws, "error")
        assert err["code"] == "bad_message" and err["message"]
        ws.send_bytes(b"\x00\x01")
        assert next_json(ws, "error")["code"] == "bad_message"
        ws.send_json({"type": "ping"})
        assert next_json(ws, "pong") == {"type": "pong"}


def test_a_refused_input_is_an_error_and_the_session_goes_on(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        next_json(ws, "state")
        ws.send_json({"type": "key", "key": "F"})
        err = next_json(ws, "error")
        assert (err["code"], err["reason"]) == ("refused", "missing_flags")
        ws.send_json({"type": "key", "key": "N"})
        assert next_json(ws, "state")["state"] == "nave"


def test_playing_to_the_ending_sends_it_then_closes_normally(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        next_json(ws, "state")
        for key in WIN_KEYS:
            ws.send_json({"type": "key", "key": key})
        ending = next_json(ws, "ending")
        assert (ending["kind"], ending["title"]) == ("win", "The far shore")
        with pytest.raises(WebSocketDisconnect) as closed:
            next_json(ws)
        assert closed.value.code == 1000
    assert settled(client.app.state.runtime, ex["sessionId"])


def test_usage_messages_arrive_on_their_interval(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        usage = next_json(ws, "usage", limit=2000)
        assert usage["secondsLimit"] == 600
        assert usage["secondsUsed"] >= 0 and usage["framesDropped"] >= 0


@pytest.mark.parametrize("token", ["ct_unknown", "st_not_a_connect_token", ""])
def test_bad_connect_tokens_are_refused_with_4000(play, token):
    client, _ = play
    with client.websocket_connect(f"/v1/runtime?token={token}") as ws:
        if token == "":
            ws.send_json({"type": "ping"})  # not an auth message
        err = next_json(ws, "error")
        assert err["code"] == "unauthorized"
        with pytest.raises(WebSocketDisconnect) as closed:
            next_json(ws)
        assert closed.value.code == 4000


def test_a_reused_connect_token_is_refused(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        assert next_json(ws)["type"] == "ready"
        with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as again:
            assert next_json(again, "error")["code"] == "unauthorized"
            with pytest.raises(WebSocketDisconnect) as closed:
                next_json(again)
            assert closed.value.code == 4000


def test_a_session_bound_to_an_origin_refuses_a_socket_from_another(play):
    client, connect = play
    ex = connect(origin="https://game.example")
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}",
                                  headers={"Origin": "https://evil.example"}) as ws:
        assert next_json(ws, "error")["code"] == "forbidden"
        with pytest.raises(WebSocketDisconnect) as closed:
            next_json(ws)
        assert closed.value.code == 4000


def test_closing_the_socket_settles_the_session(play):
    client, connect = play
    ex = connect()
    with client.websocket_connect(f"/v1/runtime?token={ex['connectToken']}") as ws:
        next_json(ws, "state")
    hub = client.app.state.runtime
    assert settled(hub, ex["sessionId"])
    # The socket settled it: no minutes stay reserved, and the native session is gone.
    meters = client.get("/v1/usage", headers=connect.tenant.auth("sk_test")).json()["meters"]
    assert meters["session_minutes"]["reserved"] == 0
    assert hub.native.session_stats(ex["sessionId"]) is None
