"""Fixtures for the runtime socket tests: a server with small frames, a tenant and a world to play."""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "server"))

from server_helpers import TestClient, make_settings, make_tenant  # noqa: E402

from conjure.server import create_app  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
ABBEY = json.loads((ROOT / "examples" / "drowned-abbey.json").read_text())
WIN_KEYS = ["E", "F", "K", "U", "T"]  # lantern, cellar, iron key, crypt, tunnel → the far shore


@pytest.fixture
def play(tmp_path):
    settings = make_settings(tmp_path, runtime_width=160, runtime_height=90, runtime_fps=20.0,
                             runtime_usage_seconds=0.3)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        r = client.post("/v1/worlds", json={"world": ABBEY}, headers=tenant.auth("sk_test"))
        assert r.status_code == 201, r.text
        world = r.json()["world"]["id"]

        def connect_token(**mint: Any) -> dict[str, Any]:
            r = client.post("/v1/sessions/token", json={"worldId": world, "playerId": "p1", **mint},
                            headers=tenant.auth("sk_test"))
            assert r.status_code == 201, r.text
            token = r.json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            if mint.get("origin"):
                headers["Origin"] = mint["origin"]
            r = client.post("/v1/sessions/exchange", headers=headers)
            assert r.status_code == 200, r.text
            return {**r.json(), "token": token}

        connect_token.tenant = tenant  # type: ignore[attr-defined]
        yield client, connect_token


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(make_settings(tmp_path)), raise_server_exceptions=False) as c:
        yield c
