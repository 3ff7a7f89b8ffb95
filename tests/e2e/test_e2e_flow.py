"""A developer's whole flow over real HTTP, against both hosts of the same app."""

from __future__ import annotations

import json

import pytest

from e2e_servers import EXAMPLES, Server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery"


def test_signup_app_keys_import_ops_versions_checkout_diff_usage_over_http(server: Server) -> None:
    with server.client() as http:
        r = http.post("/v1/auth/signup", json={"email": "flow@example.com", "password": PASSWORD})
        assert r.status_code == 201, r.text
        user = {"Authorization": f"Bearer {r.json()['token']}"}

        r = http.post("/v1/apps", json={"name": "abbey game"}, headers=user)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]

        r = http.post(f"/v1/apps/{app_id}/keys", json={"type": "secret", "mode": "test"}, headers=user)
        assert r.status_code == 201, r.text
        secret = r.json()["key"]
        assert secret.startswith("sk_test_")
        sk = {"Authorization": f"Bearer {secret}"}
        r = http.post(f"/v1/apps/{app_id}/keys", json={"type": "publishable", "mode": "test"}, headers=user)
        assert r.status_code == 201, r.text
        pk = {"Authorization": f"Bearer {r.json()['key']}"}

        abbey = json.loads((EXAMPLES / "drowned-abbey.json").read_text())
        r = http.post("/v1/worlds", json={"world": abbey}, headers={**sk, "Idempotency-Key": "import-abbey"})
        assert r.status_code == 201, r.text
        created = r.json()
        world_id, rev0 = created["world"]["id"], created["rev"]
        assert created["world"]["entrance"]["state"] == "courtyard"
        replay = http.post("/v1/worlds", json={"world": abbey}, headers={**sk, "Idempotency-Key": "import-abbey"})
        assert replay.headers.get("idempotent-replayed") == "true" and replay.json()["world"]["id"] == world_id

        r = http.get(f"/v1/worlds/{world_id}/graph", headers=pk)
        assert r.status_code == 200 and r.headers["etag"] == f'"{rev0}"'
        assert http.get(f"/v1/worlds/{world_id}/graph", headers={**pk, "If-None-Match": f'"{rev0}"'}).status_code == 304

        r = http.post(f"/v1/worlds/{world_id}/versions", json={"message": "imported"}, headers=sk)
        assert r.status_code == 201, r.text
        v1 = r.json()

        failing = {"ops": [{"op": "add_event", "name": "Swim away", "kind": "transition",
                            "from": "shore", "to": "open_sea", "hotkey": "G"}]}
        r = http.post(f"/v1/worlds/{world_id}/ops", json=failing, headers=sk)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "gate_failed"
        assert any(d["lint"] == "dangling-ref" for d in r.json()["diagnostics"])
        assert http.get(f"/v1/worlds/{world_id}/graph", headers=sk).json()["rev"] == rev0

        passing = {
            "ops": [
                {"op": "add_state", "id": "scriptorium", "base": "a scriptorium of tilted desks under a leaking roof"},
                {"op": "add_event", "name": "Read the ledgers", "kind": "transition",
                 "from": "nave", "to": "scriptorium", "hotkey": "L"},
                {"op": "add_event", "name": "Leave the scriptorium", "kind": "transition",
                 "from": "scriptorium", "to": "nave", "hotkey": "R"},
                {"op": "delete_state", "id": "no_such_state"},
            ],
            "expectedRev": rev0,
        }
        r = http.post(f"/v1/worlds/{world_id}/ops", json=passing, headers=sk)
        assert r.status_code == 200, r.text
        result = r.json()
        assert "scriptorium" in result["world"]["scene"]["states"]
        assert len(result["applyErrors"]) == 1 and result["applyErrors"][0].startswith("ops[3]")
        assert result["rev"] != rev0 and r.headers["etag"] == f'"{result["rev"]}"'
        stale = http.post(f"/v1/worlds/{world_id}/ops", json=passing, headers=sk)
        assert stale.status_code == 409 and stale.json()["code"] == "conflict"

        r = http.post(f"/v1/worlds/{world_id}/versions", json={"message": "scriptorium"}, headers=sk)
        assert r.status_code == 201, r.text
        v2 = r.json()
        assert v2["parentVersionId"] == v1["id"]

        r = http.get(f"/v1/worlds/{world_id}/versions/diff", params={"a": v1["id"], "b": v2["id"]}, headers=sk)
        assert r.status_code == 200, r.text
        assert r.json()["states"]["added"] == ["scriptorium"]
        assert sorted(r.json()["events"]["added"]) == ["Leave the scriptorium", "Read the ledgers"]

        r = http.post(f"/v1/worlds/{world_id}/versions/{v1['id']}/checkout", headers=sk)
        assert r.status_code == 200, r.text
        assert r.json()["head"] == v1["id"]
        assert "scriptorium" not in r.json()["world"]["scene"]["states"]
        tree = http.get(f"/v1/worlds/{world_id}/versions", headers=sk).json()
        assert [v["id"] for v in tree["data"]] == [v1["id"], v2["id"]] and tree["head"] == v1["id"]

        usage = http.get("/v1/usage", headers=sk).json()
        assert usage["meters"]["generate"]["used"] == 1
        assert set(usage["meters"]) == {"generate", "edit", "session", "session_minutes", "say", "tts_seconds"}

        metrics = http.get("/metrics").text
        assert 'conjure_http_requests_total{method="POST",route="/v1/worlds/{id}/ops",status="422"}' in metrics
