"""Schemathesis (slow tier): our own /openapi.json, and the seed's own fragment for the ops endpoint.

Path ids are real (a world, its version, a key, a webhook of the tenant), so calls reach the
handlers instead of stopping at 404. A bounded stateful run follows the document's links.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

import pathlib  # noqa: E402

import yaml  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from server_helpers import TestClient, create_app, import_world, make_settings, make_tenant  # noqa: E402

SEED_OPS = pathlib.Path(__file__).resolve().parents[2] / "data" / "seeds" / "003-ops.openapi.yaml"
EXAMPLES = 40


@pytest.mark.slow
def test_api_conforms_to_its_openapi_document(tmp_path):
    app = create_app(make_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        ids = _real_ids(client, tenant)
        _fuzz(app, tenant, ids)


def _real_ids(client, tenant) -> dict[str, str]:
    """Ids of real objects of the tenant, by the path parameter names the document uses."""
    world = import_world(client, tenant)["world"]["id"]
    sk, user = tenant.auth("sk_test"), tenant.auth("user")
    version = client.post(f"/v1/worlds/{world}/versions", json={}, headers=sk).json()["id"]
    hook = client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": "https://example.com/h"}, headers=user)
    job = client.post("/v1/worlds", json={"premise": "a harbour", "async": True}, headers=sk).json()["jobId"]
    return {"id": world, "versionId": version, "appId": tenant.app_id, "keyId": tenant.key_ids["pk_test"],
            "jobId": job, "stateId": "hall", "name": "Open the garden door"}


def _fuzz(app, tenant, ids) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        user_endpoint = operation.path.startswith(("/v1/apps", "/v1/webhooks"))
        token = tenant.user_token if user_endpoint else tenant.keys["sk_test"]

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            for name in list(case.path_parameters or {}):
                if name in ids and not (operation.method == "delete" and name in ("id", "keyId")):
                    case.path_parameters[name] = ids[name]  # real objects: the handler runs, not a 404
            # A schema-valid world may still fail the kernel gate (422): the gate is not expressible in
            # JSON Schema, so "valid data is accepted" does not hold for world bodies and is not checked.
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:2000]}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_a_seed_client_of_the_ops_endpoint_works_unchanged(tmp_path):
    """The seed's own OpenAPI fragment (seed 003) against the server: no 5xx, and every documented answer
    matches the seed's schemas (SMWorld's required entrance image included)."""
    app = create_app(make_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        world_id = import_world(client, tenant)["world"]["id"]
        schema = schemathesis.openapi.from_dict(yaml.safe_load(SEED_OPS.read_text(encoding="utf-8")))
        schema.app = app
        operation = schema["/v1/worlds/{id}/ops"]["POST"]
        token = tenant.keys["sk_test"]

        @given(case=operation.as_strategy())
        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.path_parameters["id"] = world_id
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "if-match"}
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                   checks=[not_a_server_error, response_schema_conformance])

        check()


@pytest.mark.slow
def test_the_api_holds_its_document_through_a_bounded_stateful_run(tmp_path):
    """Sequences of calls that feed one answer's ids into the next (schemathesis' inferred links): no 5xx,
    every answer as documented. Bounded: 25 scenarios of at most 6 steps (about a minute here)."""
    app = create_app(make_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        import_world(client, tenant)
        _stateful(app, tenant)


def _stateful(app, tenant) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            user = case.operation.path.startswith(("/v1/apps", "/v1/webhooks"))
            token = tenant.user_token if user else tenant.keys["sk_test"]
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance],
                                   transport_kwargs=kwargs)

    Machine.run(settings=settings(max_examples=25, stateful_step_count=6, deadline=None, database=None,
                                  suppress_health_check=list(HealthCheck)))
