"""/embed.js, the demo page and its demo-only token endpoint."""

from __future__ import annotations

import json
import pathlib

from server_helpers import TestClient, make_settings, make_tenant

from conjure.server import create_app

ABBEY = json.loads((pathlib.Path(__file__).resolve().parents[3] / "examples" / "drowned-abbey.json").read_text())


def test_embed_js_is_served_as_an_es_module_exporting_mount(client):
    r = client.get("/embed.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "export" in r.text and "mount" in r.text and "sendBeacon" in r.text


def test_the_play_page_names_its_world_and_loads_the_sdk(client):
    r = client.get("/play/w_123-abc")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'const worldId = "w_123-abc"' in r.text
    assert 'from "/embed.js"' in r.text
    assert "__WORLD_ID__" not in r.text
    assert client.get("/play/bad%22id").status_code in (400, 404, 422)


def test_the_demo_token_endpoint_is_off_by_default(client):
    assert client.post("/play/anything/token", json={"app": "x"}).status_code == 404


def test_with_demo_on_the_page_gets_a_token_for_a_test_world_of_the_app(tmp_path):
    settings = make_settings(tmp_path, demo=True, runtime_width=160, runtime_height=90)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        test_world = client.post("/v1/worlds", json={"world": ABBEY}, headers=tenant.auth("sk_test")).json()["world"]["id"]
        live_world = client.post("/v1/worlds", json={"world": ABBEY}, headers=tenant.auth("sk_live")).json()["world"]["id"]
        r = client.post(f"/play/{test_world}/token", json={"app": tenant.app_id})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        ex = client.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {token}"})
        assert ex.status_code == 200, ex.text
        assert client.post(f"/play/{live_world}/token", json={"app": tenant.app_id}).status_code == 404
        assert client.post(f"/play/{test_world}/token", json={}).status_code == 400
