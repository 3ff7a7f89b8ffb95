"""Cross-cutting HTTP behaviour: bad input, idempotency, rate limits, ETags, body limits, request ids."""

from __future__ import annotations

import json

import pytest

from server_helpers import TestClient, create_app, import_world, make_settings, make_tenant, small_world

BAD_UUID = "not-a-uuid"


def _assert_error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["schemaVersion"] == "1.0" and isinstance(body["detail"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(
    "method, path, content",
    [
        ("POST", "/v1/auth/signup", b"{not json"),
        ("POST", "/v1/apps", b"{not json"),
        ("POST", "/v1/worlds", b'{"world": '),
        ("POST", "/v1/worlds/{world}/ops", b"[1, 2"),
        ("POST", "/v1/worlds/{world}/states", b"{"),
        ("PATCH", "/v1/worlds/{world}", b"nope"),
        ("POST", "/v1/webhooks", b"\xff\xfe"),
    ],
)
def test_malformed_json_is_400_and_writes_nothing(client, tenant, method, path, content):
    world = import_world(client, tenant)
    headers = {**tenant.auth("user" if path.startswith(("/v1/apps", "/v1/webhooks")) else "sk_test"),
               "Content-Type": "application/json"}
    rev = world["rev"]
    r = client.request(method, path.replace("{world}", world["world"]["id"]), content=content, headers=headers)
    _assert_error(r, 400)
    after = client.get(f"/v1/worlds/{world['world']['id']}/graph", headers=tenant.auth("sk_test")).json()
    assert after["rev"] == rev
    assert len(client.get("/v1/worlds", headers=tenant.auth("sk_test")).json()["data"]) == 1


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        ("POST", "/v1/auth/signup", {"email": 5, "password": "long enough password"}, "email"),
        ("POST", "/v1/auth/signup", {"email": "x@y.z", "password": "short"}, "password"),
        ("POST", "/v1/apps", {"name": ["a"]}, "name"),
        ("POST", "/v1/worlds", {"world": "a string"}, "world"),
        ("POST", "/v1/worlds", {"premise": 5}, "premise"),
        ("POST", "/v1/worlds/{world}/ops", {"ops": "add_state"}, "ops"),
        ("POST", "/v1/worlds/{world}/ops", {"ops": []}, "ops"),
        ("PATCH", "/v1/worlds/{world}", {"visibility": "secret"}, "visibility"),
        ("PATCH", "/v1/worlds/{world}", {"name": 12}, "name"),
        ("PUT", "/v1/worlds/{world}/entrance", {"state": 1}, "state"),
        ("POST", "/v1/worlds/{world}/versions", {"message": 3}, "message"),
    ],
)
def test_wrong_types_are_400_with_field_errors(client, tenant, method, path, body, field):
    world_id = import_world(client, tenant)["world"]["id"]
    headers = tenant.auth("user" if path.startswith(("/v1/apps", "/v1/webhooks")) else "sk_test")
    r = client.request(method, path.replace("{world}", world_id), json=body, headers=headers)
    err = _assert_error(r, 400)
    assert any(e.startswith(field) for e in err["errors"]), err


def test_inapplicable_op_shape_is_400(client, tenant):
    world_id = import_world(client, tenant)["world"]["id"]
    r = client.post(f"/v1/worlds/{world_id}/ops", json={"ops": [{"op": "teleport"}]}, headers=tenant.auth("sk_test"))
    _assert_error(r, 400)


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/worlds/{BAD_UUID}",
        f"/v1/worlds/{BAD_UUID}/graph",
        f"/v1/worlds/{BAD_UUID}/versions",
        "/v1/worlds/jobs/123",
        "/v1/worlds?limit=0",
        "/v1/worlds?limit=101",
        "/v1/worlds?limit=abc",
        "/v1/worlds?cursor=not-a-cursor",
        "/v1/usage?day=2024-13-45",
        "/v1/usage?day=yesterday",
    ],
)
def test_bad_ids_limits_and_cursors_are_400(client, tenant, path):
    _assert_error(client.get(path, headers=tenant.auth("sk_test")), 400)


def test_unknown_ids_are_404(client, tenant):
    unknown = "6f1c2d3e-4b5a-4c6d-8e7f-000000000000"
    sk = tenant.auth("sk_test")
    _assert_error(client.get(f"/v1/worlds/{unknown}", headers=sk), 404, "not_found")
    world_id = import_world(client, tenant)["world"]["id"]
    _assert_error(client.get(f"/v1/worlds/{world_id}/versions/{unknown}", headers=sk), 404)
    _assert_error(client.get(f"/v1/worlds/{world_id}/states/nowhere", headers=sk), 404)
    _assert_error(client.get(f"/v1/worlds/{world_id}/events/Nope", headers=sk), 404)
    _assert_error(client.get("/v1/nothing-here", headers=sk), 404, "not_found")
    _assert_error(client.put("/v1/usage", headers=sk), 405, "method_not_allowed")


def test_oversized_body_is_413_and_writes_nothing(tmp_path):
    settings = make_settings(tmp_path, body_limit_bytes=4096)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        world = small_world()
        world["description"] = "x" * 10_000
        r = client.post("/v1/worlds", json={"world": world}, headers=tenant.auth("sk_test"))
        _assert_error(r, 413, "body_too_large")

        def chunks():
            yield b'{"world": {"description": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}}'

        r = client.post("/v1/worlds", content=chunks(), headers={**tenant.auth("sk_test"), "Content-Type": "application/json"})
        _assert_error(r, 413, "body_too_large")
        assert client.get("/v1/worlds", headers=tenant.auth("sk_test")).json()["data"] == []


def test_idempotent_post_replays_and_spends_once(client, tenant):
    headers = {**tenant.auth("sk_test"), "Idempotency-Key": "create-1"}
    first = client.post("/v1/worlds", json={"world": small_world()}, headers=headers)
    second = client.post("/v1/worlds", json={"world": small_world()}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert second.json() == first.json() and second.headers["etag"] == first.headers["etag"]
    assert len(client.get("/v1/worlds", headers=tenant.auth("sk_test")).json()["data"]) == 1
    assert client.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["generate"]["used"] == 1


def test_idempotency_key_reused_with_other_parameters_is_409(client, tenant):
    headers = {**tenant.auth("sk_test"), "Idempotency-Key": "create-2"}
    assert client.post("/v1/worlds", json={"world": small_world()}, headers=headers).status_code == 201
    other = small_world()
    other["name"] = "Other"
    _assert_error(client.post("/v1/worlds", json={"world": other}, headers=headers), 409, "idempotency_key_reused")


def test_idempotency_keys_are_scoped_per_mode(client, tenant):
    for kind in ("sk_test", "sk_live"):
        r = client.post("/v1/worlds", json={"world": small_world()}, headers={**tenant.auth(kind), "Idempotency-Key": "k"})
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers


def test_idempotency_in_flight_is_409(client, tenant):
    st = client.app.state.conjure
    scoped = st.store.scoped(tenant.app_id, "test")
    from conjure.server.routing import scoped_key

    begin = scoped.idempotency_begin(scoped_key("secret", "busy"), "hash-of-another-running-request")
    assert begin["kind"] == "new"
    r = client.post("/v1/worlds", json={"world": small_world()}, headers={**tenant.auth("sk_test"), "Idempotency-Key": "busy"})
    assert r.status_code == 409 and r.json()["code"] in ("idempotency_in_flight", "idempotency_key_reused")


def test_idempotency_in_flight_same_parameters_is_409_in_flight(client, tenant):
    from conjure.server.routing import _request_hash, scoped_key

    class Req:
        method = "POST"

        class url:
            path = "/v1/worlds"
            query = ""

    body = json.dumps({"world": small_world()}).encode()
    scoped = client.app.state.conjure.store.scoped(tenant.app_id, "test")
    assert scoped.idempotency_begin(scoped_key("secret", "same"), _request_hash(Req, body))["kind"] == "new"
    r = client.post("/v1/worlds", content=body, headers={**tenant.auth("sk_test"), "Idempotency-Key": "same",
                                                         "Content-Type": "application/json"})
    _assert_error(r, 409, "idempotency_in_flight")


def test_failed_gate_answer_is_replayed_not_rerun(client, tenant):
    broken = small_world()
    broken["entrance"]["state"] = "nowhere"
    headers = {**tenant.auth("sk_test"), "Idempotency-Key": "broken"}
    first = client.post("/v1/worlds", json={"world": broken}, headers=headers)
    second = client.post("/v1/worlds", json={"world": broken}, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"


def test_rate_limit_answers_429_with_headers(tmp_path):
    settings = make_settings(tmp_path, rate_limit_per_second=0.001, rate_limit_burst=3)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        st = client.app.state.conjure
        app = st.store.create_app("limited", None)
        key = st.store.create_key(app["id"], "secret", "test", "")["key"]
        headers = {"Authorization": f"Bearer {key}"}
        answers = [client.get("/v1/worlds", headers=headers) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["ratelimit-remaining"] for r in answers[:3]] == ["2", "1", "0"]
        limited = answers[3]
        _assert_error(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["ratelimit-limit"] == "3" and limited.headers["ratelimit-remaining"] == "0"
        assert int(limited.headers["ratelimit-reset"]) >= 1
        other = st.store.create_key(app["id"], "secret", "test", "")["key"]
        assert client.get("/v1/worlds", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_etag_if_none_match_and_if_match(client, tenant):
    sk = tenant.auth("sk_test")
    world = import_world(client, tenant)
    world_id, rev = world["world"]["id"], world["rev"]
    r = client.get(f"/v1/worlds/{world_id}/graph", headers=sk)
    assert r.headers["etag"] == f'"{rev}"'
    for path in ("", "/graph", "/states", "/states/hall", "/events"):
        assert client.get(f"/v1/worlds/{world_id}{path}", headers={**sk, "If-None-Match": f'"{rev}"'}).status_code == 304
    assert client.get(f"/v1/worlds/{world_id}", headers={**sk, "If-None-Match": '"0-stale"'}).status_code == 200

    stale = {**sk, "If-Match": '"0-stale"'}
    _assert_error(client.patch(f"/v1/worlds/{world_id}", json={"name": "X"}, headers=stale), 409)
    _assert_error(client.post(f"/v1/worlds/{world_id}/ops", json={"ops": [{"op": "add_state", "base": "a loft"}]},
                              headers=stale), 409)
    _assert_error(client.delete(f"/v1/worlds/{world_id}", headers=stale), 409)
    _assert_error(client.post(f"/v1/worlds/{world_id}/ops", json={"ops": [{"op": "add_state", "base": "a loft"}],
                                                                  "expectedRev": "0-stale"}, headers=sk), 409)
    assert client.get(f"/v1/worlds/{world_id}/graph", headers=sk).json()["rev"] == rev

    r = client.patch(f"/v1/worlds/{world_id}", json={"name": "Fresh"}, headers={**sk, "If-Match": f'"{rev}"'})
    assert r.status_code == 200 and r.json()["rev"] != rev and r.headers["etag"] == f'"{r.json()["rev"]}"'


def test_every_response_has_a_request_id_and_echoes_a_sane_one(client):
    r = client.get("/healthz")
    assert len(r.headers["request-id"]) >= 16
    assert client.get("/healthz", headers={"Request-Id": "abc-123"}).headers["request-id"] == "abc-123"
    assert client.get("/healthz", headers={"Request-Id": "bad id\twith spaces"}).headers["request-id"] != "bad id\twith spaces"
    assert client.get("/v1/worlds").headers["request-id"]


def test_missing_and_malformed_credentials_are_401(client):
    _assert_error(client.get("/v1/worlds"), 401, "missing_credential")
    for value in ("Basic abc", "Bearer", "Bearer sk_test_nope", "Bearer us_garbage.sig", "Bearer xx_1"):
        _assert_error(client.get("/v1/worlds", headers={"Authorization": value}), 401)


def test_signup_login_and_duplicate_email(client):
    r = client.post("/v1/auth/signup", json={"email": "dup@example.com", "password": "long enough pw"})
    assert r.status_code == 201 and r.json()["token"].startswith("us_")
    _assert_error(client.post("/v1/auth/signup", json={"email": "dup@example.com", "password": "long enough pw"}),
                  409, "email_taken")
    r = client.post("/v1/auth/login", json={"email": "dup@example.com", "password": "long enough pw"})
    assert r.status_code == 200 and r.json()["token"].startswith("us_") and r.json()["expiresAt"].endswith("Z")
    wrong = client.post("/v1/auth/login", json={"email": "dup@example.com", "password": "wrong password"})
    unknown = client.post("/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong password"})
    assert _assert_error(wrong, 401, "invalid_credentials") == _assert_error(unknown, 401, "invalid_credentials")


def test_quota_exhausted_is_402_and_charges_nothing(tmp_path):
    settings = make_settings(tmp_path, meter_limits={"generate": 1})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        sk = tenant.auth("sk_test")
        assert client.post("/v1/worlds", json={"world": small_world()}, headers=sk).status_code == 201
        _assert_error(client.post("/v1/worlds", json={"world": small_world()}, headers=sk), 402, "quota_exceeded")
        assert client.get("/v1/usage", headers=sk).json()["meters"]["generate"] == {"used": 1, "reserved": 0, "limit": 1}
        assert len(client.get("/v1/worlds", headers=sk).json()["data"]) == 1


def test_revoked_key_fails_at_once(client, tenant):
    sk = tenant.auth("sk_test")
    assert client.get("/v1/worlds", headers=sk).status_code == 200
    r = client.delete(f"/v1/apps/{tenant.app_id}/keys/{tenant.key_ids['sk_test']}", headers=tenant.auth("user"))
    assert r.status_code == 200 and r.json()["revokedAt"]
    _assert_error(client.get("/v1/worlds", headers=sk), 401)
    keys = client.get(f"/v1/apps/{tenant.app_id}/keys", headers=tenant.auth("user")).json()["data"]
    assert all("key" not in k for k in keys)


def test_webhook_secret_shown_once_and_http_only_to_loopback(client, tenant):
    user = tenant.auth("user")
    r = client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": "https://example.com/hook"}, headers=user)
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    assert r.json()["events"] == ["world.generation.succeeded", "world.generation.failed", "world.edited",
                                  "session.started"]  # API.md: no `events` means every event
    listed = client.get("/v1/webhooks", headers=user).json()["data"]
    assert [w["id"] for w in listed] == [r.json()["id"]] and "secret" not in listed[0]
    _assert_error(client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": "http://example.com/h"}, headers=user), 400)
    assert client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": "http://127.0.0.1:9/h"}, headers=user).status_code == 201
    assert client.get(f"/v1/webhooks/{r.json()['id']}/deliveries", headers=user).json()["data"] == []
