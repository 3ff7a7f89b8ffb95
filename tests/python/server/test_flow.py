"""A whole developer flow through the HTTP API, in-process."""

from __future__ import annotations

from server_helpers import import_world, make_tenant, small_world


def test_signup_app_keys_world_ops_versions_checkout_diff_usage(client):
    tenant = make_tenant(client)
    sk = tenant.auth("sk_test")

    created = import_world(client, tenant)
    world_id = created["world"]["id"]
    assert created["schemaVersion"] == "1.0"
    rev0 = created["rev"]

    r = client.post(f"/v1/worlds/{world_id}/versions", json={"message": "first"}, headers=sk)
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert v1["head"] is True and v1["parentVersionId"] is None

    failing = {"ops": [{"op": "add_event", "name": "Jump", "kind": "transition", "from": "hall", "to": "nowhere"}]}
    r = client.post(f"/v1/worlds/{world_id}/ops", json=failing, headers=sk)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "gate_failed" and body["schemaVersion"] == "1.0"
    assert any(d["lint"] == "dangling-ref" for d in body["diagnostics"])
    assert client.get(f"/v1/worlds/{world_id}/graph", headers=sk).json()["rev"] == rev0

    passing = {
        "ops": [
            {"op": "add_state", "id": "cellar", "base": "a vaulted cellar lined with oak barrels"},
            {"op": "add_event", "name": "Go down", "kind": "transition", "from": "hall", "to": "cellar", "hotkey": "F"},
            {"op": "delete_state", "id": "missing"},
        ],
        "expectedRev": rev0,
    }
    r = client.post(f"/v1/worlds/{world_id}/ops", json=passing, headers=sk)
    assert r.status_code == 200, r.text
    result = r.json()
    assert "cellar" in result["world"]["scene"]["states"]
    assert len(result["applyErrors"]) == 1 and result["applyErrors"][0].startswith("ops[2]")
    assert r.headers["etag"] == f'"{result["rev"]}"' and result["rev"] != rev0

    r = client.post(f"/v1/worlds/{world_id}/versions", json={"message": "cellar"}, headers=sk)
    v2 = r.json()
    assert v2["parentVersionId"] == v1["id"]

    r = client.get(f"/v1/worlds/{world_id}/versions/diff", params={"a": v1["id"], "b": v2["id"]}, headers=sk)
    assert r.status_code == 200, r.text
    diff = r.json()
    assert diff["states"]["added"] == ["cellar"]
    assert diff["events"]["added"] == ["Go down"]

    r = client.post(f"/v1/worlds/{world_id}/versions/{v1['id']}/checkout", headers=sk)
    assert r.status_code == 200, r.text
    assert r.json()["head"] == v1["id"]
    assert "cellar" not in r.json()["world"]["scene"]["states"]

    tree = client.get(f"/v1/worlds/{world_id}/versions", headers=sk).json()
    assert [v["id"] for v in tree["data"]] == [v1["id"], v2["id"]] and tree["head"] == v1["id"]

    one = client.get(f"/v1/worlds/{world_id}/versions/{v2['id']}", headers=sk).json()
    assert "cellar" in one["world"]["scene"]["states"]

    usage = client.get("/v1/usage", headers=sk).json()
    assert usage["meters"]["generate"]["used"] == 1
    assert set(usage["meters"]) == {"generate", "edit", "session", "session_minutes", "say", "tts_seconds"}


def test_state_and_event_crud_round_trip(client):
    tenant = make_tenant(client)
    sk = tenant.auth("sk_test")
    world_id = import_world(client, tenant)["world"]["id"]
    base = f"/v1/worlds/{world_id}"

    r = client.post(f"{base}/states", json={"id": "attic", "base": "a dusty attic under slanted beams"}, headers=sk)
    assert r.status_code == 201 and "attic" in r.json()["world"]["scene"]["states"]
    assert client.post(f"{base}/states", json={"id": "attic", "base": "again"}, headers=sk).json()["code"] == "state_exists"

    r = client.patch(f"{base}/states/attic", json={"patch": {"base": "a bright attic with a round window"}}, headers=sk)
    assert r.status_code == 200
    assert client.get(f"{base}/states/attic", headers=sk).json()["state"]["base"] == "a bright attic with a round window"

    event = {"name": "Climb / up?", "kind": "transition", "from": ["hall"], "to": "attic", "hotkey": "Q"}
    assert client.post(f"{base}/events", json=event, headers=sk).status_code == 201
    encoded = "Climb%20%2F%20up%3F"
    r = client.get(f"{base}/events/{encoded}", headers=sk)
    assert r.status_code == 200 and r.json()["event"]["to"] == "attic"
    assert client.patch(f"{base}/events/{encoded}", json={"hotkey": "R"}, headers=sk).status_code == 200
    assert client.get(f"{base}/events/{encoded}", headers=sk).json()["event"]["hotkey"] == "R"

    r = client.delete(f"{base}/states/attic", headers=sk)
    assert r.status_code == 400  # referenced by an event
    assert client.delete(f"{base}/events/{encoded}", headers=sk).status_code == 200
    assert client.delete(f"{base}/states/attic", headers=sk).status_code == 200
    assert client.get(f"{base}/states/attic", headers=sk).status_code == 404

    r = client.put(f"{base}/entrance", json={"state": "garden"}, headers=sk)
    assert r.status_code == 200 and r.json()["world"]["entrance"]["state"] == "garden"
    r = client.put(f"{base}/entrance", json={"state": "nowhere"}, headers=sk)
    assert r.status_code == 404


def test_world_metadata_list_fork_delete(client):
    tenant = make_tenant(client)
    sk = tenant.auth("sk_test")
    ids = [import_world(client, tenant)["world"]["id"] for _ in range(3)]
    page1 = client.get("/v1/worlds", params={"limit": 2}, headers=sk).json()
    assert [w["id"] for w in page1["data"]] == ids[:2] and page1["nextCursor"]
    page2 = client.get("/v1/worlds", params={"limit": 2, "cursor": page1["nextCursor"]}, headers=sk).json()
    assert [w["id"] for w in page2["data"]] == ids[2:] and page2["nextCursor"] is None

    r = client.patch(f"/v1/worlds/{ids[0]}", json={"name": "Renamed", "visibility": "public"}, headers=sk)
    assert r.status_code == 200 and r.json()["world"]["name"] == "Renamed"

    r = client.post(f"/v1/worlds/{ids[0]}/fork", json={"name": "Copy"}, headers=sk)
    assert r.status_code == 201
    fork = r.json()["world"]
    assert fork["id"] != ids[0] and fork["name"] == "Copy"

    assert client.delete(f"/v1/worlds/{ids[1]}", headers=sk).status_code == 204
    assert client.get(f"/v1/worlds/{ids[1]}", headers=sk).status_code == 404
    assert client.get(f"/v1/worlds/{ids[1]}/graph", headers=sk).status_code == 404


def test_import_refused_by_gate_writes_nothing_and_refunds_quota(client):
    tenant = make_tenant(client)
    sk = tenant.auth("sk_test")
    broken = small_world()
    broken["entrance"]["state"] = "nowhere"
    r = client.post("/v1/worlds", json={"world": broken}, headers=sk)
    assert r.status_code == 422
    assert any(d["lint"] == "dangling-ref" for d in r.json()["diagnostics"])
    assert client.get("/v1/worlds", headers=sk).json()["data"] == []
    assert client.get("/v1/usage", headers=sk).json()["meters"]["generate"] == {"used": 0, "reserved": 0, "limit": 1000}
