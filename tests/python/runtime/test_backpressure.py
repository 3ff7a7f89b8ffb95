"""A client that never reads: frames are dropped in the native mailbox and memory stays flat.

Runs a real uvicorn server in a thread on 127.0.0.1 (TestClient buffers without
bound, a real socket does not) and a raw TCP client that upgrades and never reads.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import socket
import threading
import time

import pytest
import uvicorn
from server_helpers import TestClient, make_settings, make_tenant

from conjure.server import create_app

ABBEY = json.loads((pathlib.Path(__file__).resolve().parents[3] / "examples" / "drowned-abbey.json").read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
def test_a_client_that_never_reads_gets_frames_dropped_and_memory_stays_flat(tmp_path):
    settings = make_settings(tmp_path, runtime_width=640, runtime_height=360, runtime_fps=60.0, access_log=False)
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    raw = None
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        assert server.started
        client = TestClient(app)  # shares the app's store; requests only (no lifespan)
        tenant = make_tenant(client)
        world = client.post("/v1/worlds", json={"world": ABBEY}, headers=tenant.auth("sk_test")).json()["world"]["id"]
        token = client.post("/v1/sessions/token", json={"worldId": world, "playerId": "p"},
                            headers=tenant.auth("sk_test")).json()["token"]
        ex = client.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {token}"}).json()

        raw = socket.create_connection(("127.0.0.1", port))
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall((f"GET /v1/runtime?token={ex['connectToken']} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        # From here on the client reads nothing.
        hub = app.state.runtime
        sid = ex["sessionId"]

        def stats() -> dict:
            for _ in range(1000):
                s = hub.native.session_stats(sid)
                if s is not None:
                    return s
                time.sleep(0.01)
            raise AssertionError("the session never opened")

        def wait_for_drops(n: int) -> dict:
            for _ in range(6000):
                s = stats()
                if s["frames_dropped"] >= n:
                    return s
                time.sleep(0.01)
            raise AssertionError(f"fewer than {n} drops: {stats()}")

        early = wait_for_drops(60)
        rss_early = _rss_bytes()
        late = wait_for_drops(360)
        rss_late = _rss_bytes()
        frame_bytes = max(late["bytes_held"], 8192)
        dropped = late["frames_dropped"] - early["frames_dropped"]
        # The mailbox holds one frame at most; the relay stopped taking frames it could not send.
        assert late["bytes_held"] < 256 * 1024
        assert late["frames_delivered"] < late["frames_rendered"] - 300
        # Had the dropped frames been queued, memory would have grown by their size.
        assert rss_late - rss_early < dropped * frame_bytes / 2, (rss_early, rss_late, dropped, frame_bytes)
    finally:
        if raw is not None:
            raw.close()
        server.should_exit = True
        thread.join(timeout=30)
    assert not thread.is_alive()
