"""The graph read served from the stored text, compare-and-delete, and the per-attempt delivery log."""

from __future__ import annotations

import pathlib
import sys
from typing import Any

from server_helpers import import_world, make_tenant
from test_jobs_webhooks import FAST, Receiver, deliveries, eventually, register

from conjure.server import create_app
from conjure.server.app import open_store
from conjure.server.errors import SCHEMA_VERSION
from conjure.server.views import public_world
from server_helpers import TestClient, make_settings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "bench" / "gate"))
from worlds import make_world  # noqa: E402


def _old_graph_body(client: Any, world_id: str, app_id: str) -> dict[str, Any]:
    """What the parsed path answered: ``{world, rev, schemaVersion}`` from ``get_graph``."""
    graph = client.app.state.conjure.store.scoped(app_id, "test").get_graph(world_id)
    world = client.app.state.entrance.add_to(graph["world"], app_id, "test")  # as every answered world
    return {"world": world, "rev": graph["rev"], "schemaVersion": SCHEMA_VERSION}


def test_the_text_read_parses_to_exactly_what_the_parsed_read_returned(client, tenant):
    world = make_world(100)
    world["description"] = "ünïcode ✓ and \"quotes\" and \\ slashes"
    wid = import_world(client, tenant, world=world)["world"]["id"]
    r = client.get(f"/v1/worlds/{wid}/graph", headers=tenant.auth("sk_test"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    old = _old_graph_body(client, wid, tenant.app_id)
    assert r.json() == old
    assert r.headers["ETag"] == f'"{old["rev"]}"'
    r = client.get(f"/v1/worlds/{wid}", headers=tenant.auth("sk_test"))
    assert r.status_code == 200 and r.json() == old["world"] and r.headers["ETag"] == f'"{old["rev"]}"'


def test_the_text_read_follows_writes_and_answers_304(client, tenant):
    created = import_world(client, tenant)
    wid, rev = created["world"]["id"], created["rev"]
    sk = tenant.auth("sk_test")
    r = client.get(f"/v1/worlds/{wid}/graph", headers={**sk, "If-None-Match": f'"{rev}"'})
    assert r.status_code == 304 and r.headers["ETag"] == f'"{rev}"' and r.content == b""
    assert client.get(f"/v1/worlds/{wid}", headers={**sk, "If-None-Match": f'"{rev}"'}).status_code == 304
    r = client.patch(f"/v1/worlds/{wid}", json={"name": "Renamed"}, headers=sk)
    assert r.status_code == 200
    r = client.get(f"/v1/worlds/{wid}/graph", headers={**sk, "If-None-Match": f'"{rev}"'})
    assert r.status_code == 200 and r.json()["world"]["name"] == "Renamed"
    assert r.json() == _old_graph_body(client, wid, tenant.app_id)


def test_a_publishable_key_still_reads_public_fields_only(client, tenant):
    world = make_world(5)
    world["x-internal"] = {"notes": "not for players"}
    wid = import_world(client, tenant, world=world)["world"]["id"]
    r = client.get(f"/v1/worlds/{wid}/graph", headers=tenant.auth("pk_test"))
    assert r.status_code == 200
    old = _old_graph_body(client, wid, tenant.app_id)
    assert "x-internal" in old["world"] and "x-internal" not in r.json()["world"]
    assert r.json() == {**old, "world": public_world(old["world"])}
    assert client.get(f"/v1/worlds/{wid}", headers=tenant.auth("pk_test")).json() == public_world(old["world"])


def test_a_foreign_or_deleted_world_is_404_on_the_text_read(client, tenant):
    other = make_tenant(client)
    wid = import_world(client, tenant)["world"]["id"]
    assert client.get(f"/v1/worlds/{wid}/graph", headers=other.auth("sk_test")).status_code == 404
    assert client.get(f"/v1/worlds/{wid}/graph", headers=tenant.auth("sk_live")).status_code == 404
    assert client.delete(f"/v1/worlds/{wid}", headers=tenant.auth("sk_test")).status_code == 204
    assert client.get(f"/v1/worlds/{wid}/graph", headers=tenant.auth("sk_test")).status_code == 404


def test_delete_with_if_match_is_a_compare_and_delete(client, tenant):
    created = import_world(client, tenant)
    wid, rev = created["world"]["id"], created["rev"]
    sk = tenant.auth("sk_test")
    assert client.patch(f"/v1/worlds/{wid}", json={"name": "Moved on"}, headers=sk).status_code == 200
    r = client.delete(f"/v1/worlds/{wid}", headers={**sk, "If-Match": f'"{rev}"'})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert client.get(f"/v1/worlds/{wid}", headers=sk).status_code == 200
    current = client.get(f"/v1/worlds/{wid}/graph", headers=sk).json()["rev"]
    assert client.delete(f"/v1/worlds/{wid}", headers={**sk, "If-Match": f'"{current}"'}).status_code == 204
    assert client.get(f"/v1/worlds/{wid}", headers=sk).status_code == 404


def test_the_delivery_log_lists_every_attempt(tmp_path):
    receiver = Receiver([500, 503, 200])
    try:
        with TestClient(create_app(make_settings(tmp_path, **FAST)), raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            hook = register(c, tenant, receiver.url)
            c.post("/v1/worlds", json={"premise": "a sunken city"}, headers=tenant.auth("sk_test"))
            rows = eventually(lambda: (lambda d: d if d and d[-1]["status"] == "succeeded" else None)(
                deliveries(c, tenant, hook["id"])), what="the third attempt")
            assert [(x["attempt"], x["status"], x["responseStatus"]) for x in rows] == [
                (1, "pending", 500), (2, "pending", 503), (3, "succeeded", 200)]
            assert len({x["id"] for x in rows}) == 1 and len({x["eventId"] for x in rows}) == 1
            assert all(x["type"] == "world.generation.succeeded" and x["nextAttemptAt"] is None for x in rows)
            assert all(set(x) == {"id", "eventId", "type", "attempt", "status", "responseStatus", "createdAt",
                                  "nextAttemptAt"} for x in rows)
            assert [x["createdAt"] for x in rows] == sorted(x["createdAt"] for x in rows)
    finally:
        receiver.close()


def test_the_configured_schedule_is_kept_in_the_store(tmp_path):
    """A failed attempt is stored with the configured delay; past the schedule the delivery fails."""
    receiver = Receiver([500, 500])
    settings = make_settings(tmp_path, **{**FAST, "webhook_retry_schedule": [0.2]})
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            hook = register(c, tenant, receiver.url)
            c.post("/v1/worlds", json={"premise": "a sunken city"}, headers=tenant.auth("sk_test"))
            rows = eventually(lambda: (lambda d: d if d and d[-1]["status"] == "failed" else None)(
                deliveries(c, tenant, hook["id"])), what="the delivery to give up")
            assert [(x["attempt"], x["status"]) for x in rows] == [(1, "pending"), (2, "failed")]
            assert rows[-1]["nextAttemptAt"] is None
    finally:
        receiver.close()


def test_webhook_ownership_is_checked_by_the_endpoints_app(client, tenant):
    other = make_tenant(client)
    hook = register(client, tenant, "https://example.com/hook")
    assert client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=other.auth("user")).status_code == 404
    assert client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.auth("user")).json()["data"] == []
    r = client.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"appId": other.app_id},
                   headers=tenant.auth("user"))
    assert r.status_code == 404
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=other.auth("user")).status_code == 404
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=tenant.auth("user")).status_code == 200


def test_user_tokens_are_signed_by_the_store(settings):
    """The app signs user tokens with the store (no secret file in the data directory)."""
    with TestClient(create_app(settings)) as c:
        tenant = make_tenant(c)
        assert c.get("/v1/apps", headers=tenant.auth("user")).status_code == 200
        store = c.app.state.conjure.store
        assert store.verify_user_token(tenant.user_token)["email"] == tenant.email
    assert not (settings.data_dir / "server-secret").exists()
    store = open_store(settings)
    try:
        assert store.verify_user_token(tenant.user_token)["email"] == tenant.email  # survives a restart
    finally:
        store.close()
