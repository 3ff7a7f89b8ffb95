"""conjure.Client against the in-process app; operations endpoints; the gate table over HTTP; the CLI."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest

from conjure.client import Client, RateLimitedError
from conjure.errors import ConflictError, ForbiddenError, GateError, NotFoundError, QuotaExceededError, UnauthorizedError
from server_helpers import GATE_DATA, PASSWORD, TestClient, create_app, import_world, make_settings, make_tenant, small_world


def _client(app, key=None) -> Client:
    return Client("http://testserver", key, transport=_SyncASGI(app))


class _SyncASGI(httpx.BaseTransport):
    """Routes a sync httpx client through a Starlette TestClient (same app, same process)."""

    def __init__(self, app):
        self._tc = TestClient(app, raise_server_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        r = self._tc.request(request.method, str(request.url), content=request.content, headers=dict(request.headers))
        return httpx.Response(r.status_code, headers=r.headers, content=r.content)


def test_client_covers_a_flow_and_raises_typed_errors(tmp_path):
    app = create_app(make_settings(tmp_path, meter_limits={"generate": 2}))
    anon = _client(app)
    token = anon.signup("client@example.com", PASSWORD)["token"]
    user = _client(app, token)
    app_id = user.create_app("sdk")["id"]
    sk = _client(app, user.create_key(app_id, "secret", "test")["key"])
    pk = _client(app, user.create_key(app_id, "publishable", "test")["key"])

    created = sk.create_world(small_world())
    world_id = created["world"]["id"]
    with pytest.raises(GateError) as gate:
        sk.apply_ops(world_id, [{"op": "set_entrance", "state": "hall"}, {"op": "delete_event", "name": "Open the garden door"},
                                {"op": "add_event", "name": "Loop", "kind": "transition", "from": "hall", "to": "ghost"}])
    assert gate.value.status == 422 and any(d.lint == "dangling-ref" for d in gate.value.diagnostics)
    with pytest.raises(ConflictError):
        sk.apply_ops(world_id, [{"op": "add_state", "base": "a loft"}], expected_rev="0-stale")
    result = sk.apply_ops(world_id, [{"op": "add_state", "id": "loft", "base": "a loft under the eaves"}])
    assert "loft" in result["world"]["scene"]["states"]
    assert sk.get_state(world_id, "loft")["state"]["base"] == "a loft under the eaves"
    v = sk.snapshot(world_id, "one")
    assert sk.list_versions(world_id)["head"] == v["id"]
    with pytest.raises(ForbiddenError):
        pk.delete_world(world_id)
    with pytest.raises(NotFoundError):
        sk.get_world("6f1c2d3e-4b5a-4c6d-8e7f-000000000000")
    with pytest.raises(UnauthorizedError):
        _client(app, "sk_test_wrong").list_worlds()
    sk.create_world(small_world())
    with pytest.raises(QuotaExceededError):
        sk.create_world(small_world())
    assert sk.usage()["meters"]["generate"]["used"] == 2
    hook = user.create_webhook(app_id, "https://example.com/h")
    assert user.list_webhooks(app_id)["data"][0]["id"] == hook["id"]
    user.delete_webhook(hook["id"])
    assert user.list_webhooks(app_id)["data"] == []


def test_client_maps_429_to_rate_limited_with_retry_after(tmp_path):
    app = create_app(make_settings(tmp_path, rate_limit_per_second=0.001, rate_limit_burst=1))
    st = app.state.conjure
    key = st.store.create_key(st.store.create_app("x", None)["id"], "secret", "test", "")["key"]
    sk = _client(app, key)
    sk.list_worlds()
    with pytest.raises(RateLimitedError) as err:
        sk.list_worlds()
    assert err.value.retry_after >= 1 and err.value.status == 429


def test_healthz_readyz_metrics(client, tenant):
    assert client.get("/healthz").json() == {"status": "ok", "schemaVersion": "1.0"}
    assert client.get("/readyz").json()["status"] == "ready"
    import_world(client, tenant)
    text = TestClient(client.app, client=("127.0.0.1", 50000)).get("/metrics").text  # loopback: served
    assert 'conjure_http_requests_total{method="POST",route="/v1/worlds",status="201"}' in text
    assert 'conjure_http_request_duration_seconds_count{method="GET",route="/readyz"}' in text
    assert 'conjure_store_call_duration_seconds_count{op="create_world"}' in text


def test_readyz_is_503_when_the_store_is_closed(tmp_path):
    app = create_app(make_settings(tmp_path))
    app.state.conjure.store.close()
    r = TestClient(app, raise_server_exceptions=False).get("/readyz")
    assert r.status_code == 503 and r.json()["code"] == "not_ready"


def test_access_log_is_json_without_secrets(client, tenant, caplog):
    caplog.set_level(logging.INFO, logger="conjure.access")
    key = tenant.keys["sk_test"]
    client.get("/v1/worlds", headers=tenant.auth("sk_test"))
    client.post("/v1/auth/login", json={"email": tenant.email, "password": PASSWORD})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "conjure.access"]
    assert {line["route"] for line in lines} >= {"/v1/worlds", "/v1/auth/login"}
    listed = next(line for line in lines if line["route"] == "/v1/worlds")
    assert listed["status"] == 200 and listed["principal"] == f"secret_key:{tenant.key_ids['sk_test']}"
    blob = caplog.text
    assert key not in blob and PASSWORD not in blob and tenant.user_token not in blob


def test_openapi_documents_every_route_with_seed_schemas(client):
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name in ("GraphOp", "GraphWriteResult", "KernelDiagnostic", "Error", "GraphValidationError",
                 "SMWorld", "SMState", "SMEvent", "SMLayerPair"):
        assert name in schemas
    assert "HTTPValidationError" not in json.dumps(doc)
    routes = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    for route in client.app.routes:
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
            if route.path in ("/openapi.json", "/docs", "/docs/oauth2-redirect"):
                continue
            assert (method, route.path.replace(":path", "")) in routes
    ops = doc["paths"]["/v1/worlds/{id}/ops"]["post"]
    assert ops["requestBody"]["content"]["application/json"]["schema"]
    assert "422" in ops["responses"] and "GraphValidationError" in json.dumps(ops["responses"]["422"])
    assert client.get("/docs").status_code == 200


def _gate_cases():
    params = []
    for path in sorted(GATE_DATA.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            # Limits and the characters a world may place come from the server, not the case.
            if isinstance(case.get("world"), dict) and not case.get("limits") and "characters" not in case:
                params.append(pytest.param(case, id=f"{path.stem}:{case['name']}"))
    return params


GATE_CASES = _gate_cases()


def _subset(expected, actual) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return expected == actual


@pytest.fixture(scope="module")
def gate_client(tmp_path_factory):
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("gate"))), raise_server_exceptions=False) as c:
        tenant = make_tenant(c)
        world_id = import_world(c, tenant)["world"]["id"]
        yield c, tenant.auth("sk_test"), world_id


@pytest.mark.skipif(not GATE_CASES, reason="no gate case files in tests/data/gate yet")
@pytest.mark.parametrize("case", GATE_CASES)
def test_gate_case_through_validate_endpoint(gate_client, case):
    client, headers, world_id = gate_client
    r = client.post(f"/v1/worlds/{world_id}/validate", json={"world": case["world"]}, headers=headers)
    assert r.status_code in (200, 422), r.text
    got = r.json()["diagnostics"]
    if "ok" in case:
        assert (r.status_code == 200) is case["ok"], got
    for want in case.get("expect", []):
        assert any(_subset(want, d) for d in got), f"missing {want} in {got}"
    for absent in case.get("absent", []):
        assert all(d["lint"] != absent for d in got), f"{absent} fired: {got}"


def test_validate_and_lint_stored_and_inline_worlds(gate_client):
    client, headers, world_id = gate_client
    r = client.post(f"/v1/worlds/{world_id}/validate", headers=headers)
    assert r.status_code == 200 and r.json()["ok"] is True
    assert "{house}" not in json.dumps(r.json()["world"])  # resolved: slots filled
    broken = small_world()
    broken["scene"]["events"][0]["to"] = "void"
    r = client.post(f"/v1/worlds/{world_id}/validate", json={"data": broken}, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "gate_failed"
    r = client.post(f"/v1/worlds/{world_id}/lint", json={"world": broken}, headers=headers)
    assert r.status_code == 200 and r.json()["ok"] is False


def test_cli_bootstrap_creates_user_app_and_prints_key_once(tmp_path, monkeypatch):
    import argparse

    from conjure import serve_cli

    monkeypatch.setenv("CONJURE_DATA_DIR", str(tmp_path / "data"))
    parser = argparse.ArgumentParser()
    serve_cli.add_parser(parser.add_subparsers(dest="command"))

    def run(*argv, stdin=None):
        out = io.StringIO()
        args = parser.parse_args(list(argv))
        return args.handler(args, out, stdin), out.getvalue()

    code, text = run("users", "create", "ops@example.com", "--password-stdin", stdin=io.StringIO(PASSWORD + "\n"))
    assert code == 0
    user = json.loads(text)
    code, text = run("apps", "create", "--user", user["id"], "Ops")
    assert code == 0
    app_id = json.loads(text)["id"]
    code, text = run("keys", "create", app_id, "--type", "secret", "--mode", "test")
    assert code == 0
    minted = json.loads(text)  # stdout is one JSON document; the "shown once" advice is on stderr
    key = minted["key"]
    assert key.startswith("sk_test_") and text.count(key) == 1 and minted["appId"] == app_id
    with TestClient(create_app(make_settings(tmp_path)), raise_server_exceptions=False) as client:
        assert client.get("/v1/worlds", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert run("users", "create", "ops@example.com", "--password-stdin", stdin=io.StringIO(PASSWORD + "\n"))[0] == 1
