"""The authorisation matrix: every endpoint x every kind of credential -> the expected status.

Every route of the app is either in the matrix or in an explicit allowlist of routes that
take no credential of these kinds (with the reason); a refused write leaves tenant A's
data exactly as it was.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from server_helpers import TestClient, create_app, make_settings, make_tenant, small_world

CREDS = ("none", "user", "sk_test", "sk_live", "pk_test", "pk_live", "revoked", "other")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

# Routes outside the matrix: each takes no credential, or a credential of its own, tested where named.
PUBLIC = {
    ("GET", "/openapi.json"): "the API description",
    ("GET", "/docs"): "the API reference page",
    ("GET", "/docs/oauth2-redirect"): "part of the reference page",
    ("POST", "/v1/auth/signup"): "creates a user (anonymous, rate-limited per address)",
    ("POST", "/v1/auth/login"): "password sign-in (throttled: test_security_hardening.py)",
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/readyz"): "readiness probe",
    ("GET", "/metrics"): "loopback or its own metrics token (test_security_hardening.py)",
    ("GET", "/embed.js"): "the embed script, static",
    ("GET", "/schema/smworld-1.0.json"): "the published SMWorld JSON Schema, static",
    ("GET", "/play/{}"): "the play page, static; the world is read with a session token",
    ("WS", "/v1/runtime"): "takes a single-use connect token (test_sessions.py)",
}

# families: what each credential gets on an endpoint, given the status of success
def key_write(ok: int) -> dict[str, int]:
    return {"none": 401, "user": 403, "sk_test": ok, "sk_live": 404, "pk_test": 403, "pk_live": 403, "revoked": 401,
            "other": 404}


def key_read(ok: int) -> dict[str, int]:
    return {"none": 401, "user": 403, "sk_test": ok, "sk_live": 404, "pk_test": ok, "pk_live": 404, "revoked": 401,
            "other": 404}


def key_collection(ok: int, pk: int) -> dict[str, int]:
    return {"none": 401, "user": 403, "sk_test": ok, "sk_live": ok, "pk_test": pk, "pk_live": pk, "revoked": 401,
            "other": ok}


def user_owned(ok: int) -> dict[str, int]:
    return {"none": 401, "user": ok, "sk_test": 403, "sk_live": 403, "pk_test": 403, "pk_live": 403, "revoked": 401,
            "other": 404}


def user_collection(ok: int) -> dict[str, int]:
    return {"none": 401, "user": ok, "sk_test": 403, "sk_live": 403, "pk_test": 403, "pk_live": 403, "revoked": 401,
            "other": ok}


def session_token_only() -> dict[str, int]:
    """Endpoints of the player's browser: only a session token (st_…) is a credential there."""
    return {cred: 401 for cred in CREDS}


def key_unknown() -> dict[str, int]:
    """A secret-key route on an id no one has: 404 for a secret key, the credential errors otherwise."""
    return {"none": 401, "user": 403, "sk_test": 404, "sk_live": 404, "pk_test": 403, "pk_live": 403, "revoked": 401,
            "other": 404}


def player_only() -> dict[str, int]:
    """A character's talk and voice: a key there is a 403 (the player's call), anything else not a session token 401."""
    return {"none": 401, "user": 401, "sk_test": 403, "sk_live": 403, "pk_test": 403, "pk_live": 403, "revoked": 403,
            "other": 403}


def demo_off() -> dict[str, int]:
    """The demo token endpoint exists only with the server's `demo` setting (off here): 404 for everyone."""
    return {cred: 404 for cred in CREDS}


W = "/v1/worlds/{world}"
ENDPOINTS: list[tuple[str, str, Any, dict[str, int]]] = [
    ("POST", "/v1/apps", {"name": "another"}, user_collection(201)),
    ("GET", "/v1/apps", None, user_collection(200)),
    ("POST", "/v1/apps/{app}/keys", {"type": "secret", "mode": "test"}, user_owned(201)),
    ("GET", "/v1/apps/{app}/keys", None, user_owned(200)),
    ("DELETE", "/v1/apps/{app}/keys/{key}", None, user_owned(200)),
    ("POST", "/v1/worlds", {"world": small_world()}, key_collection(201, 403)),
    ("GET", "/v1/worlds", None, key_collection(200, 200)),
    ("GET", W, None, key_read(200)),
    ("PATCH", W, {"name": "Renamed"}, key_write(200)),
    ("DELETE", W, None, key_write(204)),
    ("POST", W + "/fork", {}, key_write(201)),
    ("GET", W + "/graph", None, key_read(200)),
    ("GET", W + "/states", None, key_read(200)),
    ("POST", W + "/states", {"base": "a quiet library with tall shelves"}, key_write(201)),
    ("GET", W + "/states/hall", None, key_read(200)),
    ("PATCH", W + "/states/hall", {"base": "a narrow hall with a red carpet"}, key_write(200)),
    ("DELETE", W + "/states/extra", None, key_write(200)),
    ("GET", W + "/events", None, key_read(200)),
    ("POST", W + "/events", {"name": "Back", "kind": "transition", "from": "extra", "to": "hall"}, key_write(201)),
    ("GET", W + "/events/Open%20the%20garden%20door", None, key_read(200)),
    ("PATCH", W + "/events/Open%20the%20garden%20door", {"hotkey": "F"}, key_write(200)),
    ("DELETE", W + "/events/Open%20the%20garden%20door", None, key_write(200)),
    ("PUT", W + "/entrance", {"state": "extra"}, key_write(200)),
    ("POST", W + "/ops", {"ops": [{"op": "add_state", "base": "a small chapel"}]}, key_write(200)),
    ("POST", W + "/edit", {"instruction": "rename the world to Harbour"}, key_write(200)),
    ("GET", "/v1/worlds/jobs/{job}", None, key_write(200)),
    ("GET", "/v1/assets/{asset}", None, key_read(200)),
    ("GET", W + "/entrance.jpg", None, key_read(200)),
    ("POST", "/v1/sessions/token", {"worldId": "{world}", "playerId": "p1"}, key_write(201)),
    ("POST", "/v1/characters", {"character": {"name": "x"}}, key_collection(422, 403)),
    ("GET", "/v1/characters", None, key_collection(200, 403)),
    ("GET", "/v1/characters/00000000-0000-4000-8000-000000000001", None, key_unknown()),
    ("PATCH", "/v1/characters/00000000-0000-4000-8000-000000000001", {"name": "y"}, key_unknown()),
    ("DELETE", "/v1/characters/00000000-0000-4000-8000-000000000001", None, key_unknown()),
    ("POST", "/v1/characters/00000000-0000-4000-8000-000000000001/say", {"text": "hi"}, player_only()),
    ("POST", "/v1/characters/00000000-0000-4000-8000-000000000001/tts", {"text": "hi"}, player_only()),
    ("POST", "/v1/sessions/exchange", None, session_token_only()),
    ("POST", "/v1/sessions/bind", {"sessionId": "s"}, session_token_only()),
    ("POST", "/v1/sessions/settle", {"sessionId": "s"}, session_token_only()),
    ("POST", "/play/{world}/token", {"app": "{app}"}, demo_off()),
    ("POST", W + "/validate", {}, key_write(200)),
    ("POST", W + "/lint", {}, key_write(200)),
    ("POST", W + "/versions", {"message": "m"}, key_write(201)),
    ("GET", W + "/versions", None, key_write(200)),
    ("GET", W + "/versions/{version}", None, key_write(200)),
    ("POST", W + "/versions/{version}/checkout", None, key_write(200)),
    ("GET", W + "/versions/diff?a={version}&b={version}", None, key_write(200)),
    ("GET", "/v1/usage", None, key_collection(200, 403)),
    ("POST", "/v1/webhooks", {"appId": "{app}", "url": "https://example.com/hook"}, user_owned(201)),
    ("GET", "/v1/webhooks?appId={app}", None, user_owned(200)),
    ("DELETE", "/v1/webhooks/{webhook}", None, user_owned(200)),
    ("POST", "/v1/webhooks/{webhook}/delete", None, user_owned(200)),
    ("GET", "/v1/webhooks/{webhook}/deliveries", None, user_owned(200)),
]


@pytest.fixture(scope="module")
def world_setup(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("authz"))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        a = make_tenant(client)
        b = make_tenant(client)
        r = client.post(f"/v1/apps/{a.app_id}/keys", json={"type": "secret", "mode": "test"}, headers=a.auth("user"))
        revoked = r.json()["key"]
        assert client.delete(f"/v1/apps/{a.app_id}/keys/{r.json()['id']}", headers=a.auth("user")).status_code == 200
        job = client.post("/v1/worlds", json={"premise": "a harbour", "async": True}, headers=a.auth("sk_test"))
        framed = client.post("/v1/worlds", data={"premise": "a lighthouse"}, files={"frame": ("f.png", PNG, "image/png")},
                             headers=a.auth("sk_test"))
        a.shared = {"job": job.json()["jobId"],
                    "asset": framed.json()["world"]["entrance"]["image"]["src"].rsplit("/", 1)[1]}
        yield client, a, b, revoked


def _headers(cred: str, a: Any, b: Any, revoked: str, user_endpoint: bool) -> dict[str, str]:
    if cred == "none":
        return {}
    if cred == "revoked":
        return {"Authorization": f"Bearer {revoked}"}
    if cred == "other":
        return b.auth("user" if user_endpoint else "sk_test")
    return a.auth(cred)


def _fixtures(client: Any, a: Any) -> dict[str, str]:
    """A fresh world (with a state 'extra' and a version), a fresh key and a fresh webhook of tenant A."""
    world = small_world()
    world["scene"]["states"]["extra"] = {"base": "a cold storeroom with empty shelves"}
    r = client.post("/v1/worlds", json={"world": world}, headers=a.auth("sk_test"))
    world_id = r.json()["world"]["id"]
    version = client.post(f"/v1/worlds/{world_id}/versions", json={}, headers=a.auth("sk_test")).json()["id"]
    key = client.post(f"/v1/apps/{a.app_id}/keys", json={"type": "publishable", "mode": "test"}, headers=a.auth("user"))
    hook = client.post("/v1/webhooks", json={"appId": a.app_id, "url": "https://example.com/h"}, headers=a.auth("user"))
    return {"world": world_id, "version": version, "key": key.json()["id"], "webhook": hook.json()["id"], "app": a.app_id,
            **a.shared}


def _snapshot(client: Any, a: Any, ids: dict[str, str]) -> dict[str, Any]:
    """Everything of tenant A's that a write could change, read with A's own credentials."""
    sk, user = a.auth("sk_test"), a.auth("user")

    def get(url: str, headers: dict[str, str]) -> Any:
        r = client.get(url, headers=headers)
        body = r.json() if r.status_code == 200 else None
        for item in (body or {}).get("data", []) if isinstance(body, dict) else []:
            item.pop("lastUsedAt", None)  # a key's use is stamped even when its request is refused
        return (r.status_code, body)

    return {
        "worlds": get("/v1/worlds?limit=100", sk), "live": get("/v1/worlds?limit=100", a.auth("sk_live")),
        "world": get(f"/v1/worlds/{ids['world']}", sk), "versions": get(f"/v1/worlds/{ids['world']}/versions", sk),
        "usage": get("/v1/usage", sk), "apps": get("/v1/apps", user), "keys": get(f"/v1/apps/{a.app_id}/keys?limit=100", user),
        "webhooks": get(f"/v1/webhooks?appId={a.app_id}&limit=100", user),
    }


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, ident in ids.items():
            value = value.replace("{" + name + "}", ident)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()} if "scene" not in value else value
    return value


CASES = [
    pytest.param(method, path, body, cred, expected[cred], id=f"{method} {path} as {cred}")
    for method, path, body, expected in ENDPOINTS
    for cred in CREDS
]


@pytest.mark.parametrize("method, path, body, cred, status", CASES)
def test_credential_gets_expected_status(world_setup, method, path, body, cred, status):
    client, a, b, revoked = world_setup
    ids = _fixtures(client, a)
    user_endpoint = path.startswith(("/v1/apps", "/v1/webhooks"))
    headers = _headers(cred, a, b, revoked, user_endpoint)
    url = _fill(path, ids)
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = _fill(body, ids)
    refused_write = method != "GET" and status >= 400
    before = _snapshot(client, a, ids) if refused_write else None
    r = client.request(method, url, **kwargs)
    assert r.status_code == status, r.text
    if status >= 400:
        err = r.json()
        assert err["schemaVersion"] == "1.0" and err["code"] and err["detail"]
    if refused_write:
        assert _snapshot(client, a, ids) == before, "a refused write changed tenant A's data"


def _routes(routes: Any) -> Any:
    for route in routes:
        if hasattr(route, "original_router"):  # an included router
            yield from _routes(route.original_router.routes)
        else:
            yield route


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?", 1)[0])


def _pattern(template: str) -> re.Pattern[str]:
    """A route template as a regex over concrete paths (``{name:path}`` spans slashes)."""
    parts = re.split(r"(\{[^}]*\})", template)
    body = "".join((".+" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


def test_every_route_is_in_the_matrix_or_the_public_allowlist(world_setup):
    client = world_setup[0]
    served = set()
    for route in _routes(client.app.routes):
        methods = getattr(route, "methods", None) or {"WS"}
        served |= {(m, route.path) for m in methods if m != "HEAD"}
    listed = {(m, t) for m, t in served
              if any(m == em and _pattern(t).match(ep.split("?", 1)[0]) for em, ep, _, _ in ENDPOINTS)}
    allowed = {(m, t) for m, t in served if (m, _template(t)) in PUBLIC}
    assert served - listed - allowed == set(), "routes missing from the authorisation matrix"
    assert len(allowed) == len(PUBLIC), "allowlist entries for routes that do not exist"
    for method, path, _, _ in ENDPOINTS:
        assert any(m == method and _pattern(t).match(path.split("?", 1)[0]) for m, t in served), (method, path)


def test_publishable_key_reads_public_fields_only(world_setup):
    client, a, _, _ = world_setup
    world = small_world()
    world["internalNotes"] = "draft: swap the ending"
    world_id = client.post("/v1/worlds", json={"world": world}, headers=a.auth("sk_test")).json()["world"]["id"]
    secret_view = client.get(f"/v1/worlds/{world_id}", headers=a.auth("sk_test")).json()
    public_view = client.get(f"/v1/worlds/{world_id}", headers=a.auth("pk_test")).json()
    assert secret_view["internalNotes"] == "draft: swap the ending"
    assert "internalNotes" not in public_view and public_view["scene"] == secret_view["scene"]


def test_live_key_never_sees_test_worlds(world_setup):
    client, a, _, _ = world_setup
    created = client.post("/v1/worlds", json={"world": small_world()}, headers=a.auth("sk_test")).json()["world"]["id"]
    live_ids = {w["id"] for w in client.get("/v1/worlds", params={"limit": 100}, headers=a.auth("sk_live")).json()["data"]}
    assert created not in live_ids
    assert client.get(f"/v1/worlds/{created}", headers=a.auth("sk_live")).status_code == 404
    assert client.get(f"/v1/worlds/{created}", headers=a.auth("sk_test")).status_code == 200
