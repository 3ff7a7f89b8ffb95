"""Idempotency under attack (API.md "Idempotency"): records are scoped by credential kind, a replay only
goes to a credential that may make the request now, and a secret is never stored or shown twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from server_helpers import import_world, small_world


def test_a_publishable_key_never_gets_a_secret_keys_stored_answer(client, tenant):
    key = {"Idempotency-Key": "create-world-1"}
    first = client.post("/v1/worlds", json={"world": small_world()}, headers={**tenant.auth("sk_test"), **key})
    assert first.status_code == 201
    stolen = client.post("/v1/worlds", json={"world": small_world()}, headers={**tenant.auth("pk_test"), **key})
    assert stolen.status_code == 403 and "world" not in stolen.json()
    assert "idempotent-replayed" not in stolen.headers


def test_a_publishable_keys_refusal_does_not_poison_the_secret_keys_request(client, tenant):
    key = {"Idempotency-Key": "create-world-2"}
    refused = client.post("/v1/worlds", json={"world": small_world()}, headers={**tenant.auth("pk_test"), **key})
    assert refused.status_code == 403
    made = client.post("/v1/worlds", json={"world": small_world()}, headers={**tenant.auth("sk_test"), **key})
    assert made.status_code == 201 and "idempotent-replayed" not in made.headers
    assert len(client.get("/v1/worlds", headers=tenant.auth("sk_test")).json()["data"]) == 1


def test_a_user_token_and_a_key_of_the_same_app_never_share_a_record(client, tenant):
    key = {"Idempotency-Key": "shared-name"}
    a = client.post("/v1/apps", json={"name": "second"}, headers={**tenant.auth("user"), **key})
    b = client.post("/v1/worlds", json={"world": small_world()}, headers={**tenant.auth("sk_test"), **key})
    assert a.status_code == 201 and b.status_code == 201 and "idempotent-replayed" not in b.headers


def _idempotency_bodies(client: Any) -> str:
    """Every stored idempotent answer, read straight from the database file."""
    path = Path(client.app.state.conjure.settings.database_path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return "\n".join(str(row[0]) for row in db.execute("SELECT body FROM idempotency"))


def _database_bytes(client: Any) -> bytes:
    path = Path(client.app.state.conjure.settings.database_path)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def _mint_key(client: Any, tenant: Any, headers: dict[str, str]) -> Any:
    return client.post(f"/v1/apps/{tenant.app_id}/keys", json={"type": "secret", "mode": "live"},
                       headers={**tenant.auth("user"), **headers})


def _register_webhook(client: Any, tenant: Any, headers: dict[str, str]) -> Any:
    return client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": "https://hooks.example.com/in"},
                       headers={**tenant.auth("user"), **headers})


def _mint_session_token(client: Any, tenant: Any, headers: dict[str, str]) -> Any:
    world = import_world(client, tenant)["world"]["id"] if not hasattr(tenant, "_world") else tenant._world
    tenant._world = world
    return client.post("/v1/sessions/token", json={"worldId": world, "playerId": "p1"},
                       headers={**tenant.auth("sk_test"), **headers})


def _login(client: Any, tenant: Any, headers: dict[str, str]) -> Any:
    from server_helpers import PASSWORD

    return client.post("/v1/auth/login", json={"email": tenant.email, "password": PASSWORD},
                       headers={**tenant.auth("user"), **headers})


@pytest.mark.parametrize("mint,field", [
    (_mint_key, "key"), (_register_webhook, "secret"), (_mint_session_token, "token"), (_login, "token"),
])
def test_a_secret_minted_under_an_idempotency_key_is_never_stored_or_replayed(client, tenant, mint, field):
    headers = {"Idempotency-Key": f"mint-{field}-{mint.__name__}"}
    first = mint(client, tenant, headers)
    assert first.status_code in (200, 201), first.text
    secret = first.json()[field]
    retry = mint(client, tenant, headers)
    assert retry.status_code == 409 and retry.json()["code"] == "idempotency_secret_not_replayed"
    assert secret not in retry.text
    assert retry.json()["id"] == first.json().get("id")
    assert secret not in _idempotency_bodies(client)
    if field != "secret":  # a webhook's signing secret is kept to sign with; keys and tokens never are
        assert secret.encode() not in _database_bytes(client)
