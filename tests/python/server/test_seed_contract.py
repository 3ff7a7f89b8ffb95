"""What the seeds type and the code once did otherwise: loc.fill, size-limit diagnostics, the lints
/validate and /lint run, and the webhook events API.md lists."""

from __future__ import annotations

from typing import Any

import pytest

import conjure.plugins as plugins
from server_helpers import TestClient, create_app, import_world, make_settings, make_tenant, small_world
from test_jobs_webhooks import FAST, Receiver, eventually, register, verify


def test_an_undefined_slot_has_no_null_fill_in_its_loc(client, tenant):
    world = small_world()
    world["scene"]["states"]["hall"]["base"] = "the hall of {nowhere}, with a long table"
    r = client.post("/v1/worlds", json={"world": world}, headers=tenant.auth("sk_test"))
    assert r.status_code == 422
    (diag,) = [d for d in r.json()["diagnostics"] if d["lint"] == "slot-undefined"]
    assert diag["loc"]["slot"] == "nowhere" and "fill" not in diag["loc"]
    for d in r.json()["diagnostics"]:
        assert not isinstance(d.get("loc"), dict) or isinstance(d["loc"].get("fill", ""), str)


def test_a_size_limit_422_carries_a_limit_diagnostic(tmp_path):
    with TestClient(create_app(make_settings(tmp_path, limits={"max_document_bytes": 4096})),
                    raise_server_exceptions=False) as c:
        tenant = make_tenant(c)
        world = small_world()
        world["description"] = "a long description of the house " * 400
        r = c.post("/v1/worlds", json={"world": world}, headers=tenant.auth("sk_test"))
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["detail"] and body["diagnostics"], body
        assert body["diagnostics"][0]["lint"] == "limit" and body["diagnostics"][0]["severity"] == "error"


def test_validate_and_lint_run_the_plugin_lints_a_write_runs(client, tenant):
    plugins.register_lint("test.no-roses", lambda w: [
        {"path": "state[garden].base", "message": "roses are banned here"}
        for s in w["scene"]["states"].values() if "roses" in s.get("base", "")
    ])
    plugins.configure(error_plugins=["test.no-roses"])
    refused = client.post("/v1/worlds", json={"world": small_world()}, headers=tenant.auth("sk_test"))
    assert refused.status_code == 422  # the write runs the plugin
    plugins.reset_configuration()
    world_id = import_world(client, tenant)["world"]["id"]  # advisory now: the write passes
    plugins.configure(error_plugins=["test.no-roses"])
    v = client.post(f"/v1/worlds/{world_id}/validate", json={}, headers=tenant.auth("sk_test"))
    assert v.status_code == 422 and any(d["lint"] == "plugin.test.no-roses" for d in v.json()["diagnostics"])
    lint = client.post(f"/v1/worlds/{world_id}/lint", json={}, headers=tenant.auth("sk_test")).json()
    assert lint["ok"] is False and any(d["lint"] == "plugin.test.no-roses" for d in lint["diagnostics"])


@pytest.fixture
def hooked(tmp_path):
    receiver = Receiver()
    with TestClient(create_app(make_settings(tmp_path, **FAST)), raise_server_exceptions=False) as c:
        tenant = make_tenant(c)
        yield c, tenant, receiver
    receiver.close()


def test_an_endpoint_registered_without_events_gets_every_event(hooked):
    c, tenant, receiver = hooked
    hook = register(c, tenant, receiver.url)
    assert set(hook["events"]) == {"world.generation.succeeded", "world.generation.failed", "world.edited",
                                   "session.started"}


def test_every_accepted_graph_write_sends_world_edited(hooked):
    c, tenant, receiver = hooked
    hook = register(c, tenant, receiver.url, events=["world.edited"])
    sk = tenant.auth("sk_test")
    wid = import_world(c, tenant)["world"]["id"]
    version = c.post(f"/v1/worlds/{wid}/versions", json={}, headers=sk).json()["id"]
    writes: list[tuple[str, Any]] = [
        ("ops", lambda: c.post(f"/v1/worlds/{wid}/ops", json={"ops": [
            {"op": "add_state", "id": "cellar", "base": "a damp cellar with barrels"}]}, headers=sk)),
        ("state", lambda: c.patch(f"/v1/worlds/{wid}/states/cellar", json={"base": "a dry cellar of wine racks"},
                                  headers=sk)),
        ("event", lambda: c.post(f"/v1/worlds/{wid}/events", json={
            "name": "Go down", "kind": "transition", "from": "hall", "to": "cellar", "hotkey": "F"}, headers=sk)),
        ("entrance", lambda: c.put(f"/v1/worlds/{wid}/entrance", json={"state": "hall"}, headers=sk)),
        ("metadata", lambda: c.patch(f"/v1/worlds/{wid}", json={"name": "Renamed"}, headers=sk)),
        ("checkout", lambda: c.post(f"/v1/worlds/{wid}/versions/{version}/checkout", headers=sk)),
    ]
    revs = {}
    for via, write in writes:
        r = write()
        assert r.status_code in (200, 201), (via, r.text)
        revs[via] = r.json()["rev"]
    refused = c.delete(f"/v1/worlds/{wid}/states/hall", headers=sk)  # the entrance: refused, so no event
    assert refused.status_code == 400
    nothing = c.post(f"/v1/worlds/{wid}/ops", json={"ops": [{"op": "delete_state", "id": "hall"}]}, headers=sk)
    assert nothing.status_code == 200 and nothing.json()["applyErrors"]  # no op applied: no event
    eventually(lambda: receiver.answered_2xx >= len(writes), what="one delivery per write")
    events = [verify(hook["secret"], x) for x in receiver.received]
    assert {e["data"]["via"]: e["data"]["rev"] for e in events} == revs
    assert all(e["type"] == "world.edited" and e["data"]["worldId"] == wid for e in events)


def test_an_admitted_session_sends_session_started(hooked):
    c, tenant, receiver = hooked
    hook = register(c, tenant, receiver.url, events=["session.started"])
    wid = import_world(c, tenant)["world"]["id"]
    token = c.post("/v1/sessions/token", json={"worldId": wid, "playerId": "p-7"},
                   headers=tenant.auth("sk_test")).json()["token"]
    admitted = c.post("/v1/sessions/exchange", headers={"Authorization": f"Bearer {token}"})
    assert admitted.status_code == 200, admitted.text
    eventually(lambda: receiver.answered_2xx >= 1, what="the session.started delivery")
    event = verify(hook["secret"], receiver.received[0])
    assert event["type"] == "session.started"
    assert event["data"] == {"sessionId": admitted.json()["sessionId"], "worldId": wid, "playerId": "p-7"}


def test_a_world_without_an_image_is_answered_with_its_rendered_entrance_an_img_can_load(client, tenant):
    created = import_world(client, tenant)
    world_id = created["world"]["id"]
    src = created["world"]["entrance"]["image"]["src"]
    assert src.startswith(f"/v1/worlds/{world_id}/entrance.jpg?")
    for kind in ("sk_test", "pk_test"):
        read = client.get(f"/v1/worlds/{world_id}", headers=tenant.auth(kind)).json()
        assert read["entrance"]["image"]["src"] == src and read["entrance"]["state"] == "hall"
    graph = client.get(f"/v1/worlds/{world_id}/graph", headers=tenant.auth("sk_test")).json()
    assert graph["world"]["entrance"]["image"]["src"] == src
    frame = client.get(src)  # no credential at all, as an <img> sends it
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
    assert frame.content[:3] == b"\xff\xd8\xff"
    assert client.get(src.replace("sig=", "sig=0")).status_code == 404
    other = import_world(client, tenant)["world"]["id"]
    assert client.get(src.replace(world_id, other)).status_code == 404  # a signature names one world
    assert client.get(f"/v1/worlds/{world_id}/entrance.jpg").status_code == 401
    assert client.get(f"/v1/worlds/{world_id}/entrance.jpg", headers=tenant.auth("pk_test")).status_code == 200


def test_a_users_entrance_image_is_kept(client, tenant):
    world = small_world()
    world["entrance"]["image"] = {"src": "https://images.example.com/hall.jpg", "label": "the hall"}
    created = client.post("/v1/worlds", json={"world": world}, headers=tenant.auth("sk_test")).json()
    assert created["world"]["entrance"]["image"] == {"src": "https://images.example.com/hall.jpg", "label": "the hall"}
    read = client.get(f"/v1/worlds/{created['world']['id']}", headers=tenant.auth("sk_test")).json()
    assert read["entrance"]["image"]["src"] == "https://images.example.com/hall.jpg"


def test_the_smworld_json_schema_is_served_at_a_stable_url_and_holds_for_served_worlds(client, tenant):
    import jsonschema

    r = client.get("/schema/smworld-1.0.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    schema = r.json()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$ref"] == "#/$defs/SMWorld" and "Compatibility" in schema["description"]
    world = client.get(f"/v1/worlds/{import_world(client, tenant)['world']['id']}", headers=tenant.auth("sk_test"))
    jsonschema.validate(world.json(), schema)
    example = client.get(f"/v1/worlds/{import_world(client, tenant, world=_abbey())['world']['id']}",
                         headers=tenant.auth("pk_test"))
    jsonschema.validate(example.json(), schema)


def _abbey() -> dict[str, Any]:
    import json
    import pathlib

    return json.loads((pathlib.Path(__file__).resolve().parents[3] / "examples" / "drowned-abbey.json").read_text())
