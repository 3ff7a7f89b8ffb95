"""Credentials under attack: throttled wrong credentials, /metrics kept private, tokens kept out of logs,
a bounded number of password hashes at once."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from conjure.server.errors import ApiError
from conjure.server.runner import RedactCredentials, log_config
from conjure.server.security import PasswordHashing
from server_helpers import PASSWORD, TestClient, create_app, make_settings, make_tenant


@pytest.fixture
def strict(tmp_path):
    """An app that forgives 3 wrong credentials in a row (and almost none per second)."""
    app = create_app(make_settings(tmp_path, auth_failure_burst=3, auth_failure_per_second=0.001))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _from(client: Any, address: str) -> TestClient:
    return TestClient(client.app, raise_server_exceptions=False, client=(address, 40000))


def test_wrong_credentials_are_throttled_per_client_address(strict):
    tenant = make_tenant(strict)
    attacker = _from(strict, "198.51.100.7")
    for i in range(3):
        r = attacker.get("/v1/worlds", headers={"Authorization": f"Bearer sk_test_{'x' * 40}{i}"})
        assert r.status_code == 401
    refused = attacker.get("/v1/worlds", headers=tenant.auth("sk_test"))  # not even checked now
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_failures"
    assert int(refused.headers["Retry-After"]) >= 1
    assert _from(strict, "198.51.100.8").get("/v1/worlds", headers=tenant.auth("sk_test")).status_code == 200


def test_wrong_passwords_are_throttled_per_email_across_addresses(strict):
    tenant = make_tenant(strict)
    for i in range(3):
        r = _from(strict, f"203.0.113.{i}").post("/v1/auth/login", json={"email": tenant.email, "password": "wrong pass 123"})
        assert r.status_code == 401
    r = _from(strict, "203.0.113.99").post("/v1/auth/login", json={"email": tenant.email, "password": PASSWORD})
    assert r.status_code == 429 and r.json()["code"] == "too_many_failures"


def test_metrics_are_served_to_loopback_clients_only_by_default(client):
    assert _from(client, "203.0.113.5").get("/metrics").status_code == 404
    assert _from(client, "127.0.0.1").get("/metrics").status_code == 200


def test_metrics_take_the_metrics_token_when_one_is_configured(tmp_path):
    with TestClient(create_app(make_settings(tmp_path, metrics_token="m3trics-t0ken-long")),
                    raise_server_exceptions=False, client=("127.0.0.1", 40000)) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer m3trics-t0ken-long"})
        assert ok.status_code == 200 and "conjure_http_requests_total" in ok.text


def test_every_log_handler_redacts_connect_tokens_in_websocket_paths(tmp_path):
    config = log_config(make_settings(tmp_path))
    for name, handler in config["handlers"].items():
        assert "redact_credentials" in handler.get("filters", []), name
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5000", "/v1/runtime?token=ct_Zm9vYmFyYmF6cXV4&v=1"), None)
    assert RedactCredentials().filter(record)
    line = record.getMessage()
    assert "ct_Zm9vYmFyYmF6cXV4" not in line and "token=***" in line and "v=1" in line


def test_at_most_the_configured_number_of_password_hashes_run_at_once():
    bound = PasswordHashing(2, wait_seconds=30)
    lock, running, peak = threading.Lock(), [0], [0]

    def slow_hash() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    threads = [threading.Thread(target=bound.run, args=(slow_hash,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert peak[0] == 2


def test_a_sign_in_that_finds_no_free_hash_slot_is_a_503_and_does_nothing():
    bound = PasswordHashing(1, wait_seconds=0.01)
    held = threading.Event()
    release = threading.Event()

    def occupy() -> None:
        held.set()
        release.wait(10)

    t = threading.Thread(target=bound.run, args=(occupy,))
    t.start()
    held.wait(10)
    called = []
    with pytest.raises(ApiError) as err:
        bound.run(called.append, "x")
    release.set()
    t.join(10)
    assert err.value.status == 503 and err.value.code == "overloaded" and called == []


def test_logins_and_signups_go_through_the_password_hash_bound(client, monkeypatch):
    st = client.app.state.conjure
    seen: list[str] = []
    original = st.password_hashing.run

    def recording(fn: Any, method: Any, *args: Any) -> Any:
        seen.append(method.__name__)  # st.call times the store method under its own name
        return original(fn, method, *args)

    monkeypatch.setattr(st.password_hashing, "run", recording)
    client.post("/v1/auth/signup", json={"email": "bound@example.com", "password": PASSWORD})
    client.post("/v1/auth/login", json={"email": "bound@example.com", "password": PASSWORD})
    assert seen == ["create_user", "authenticate_user"]
