"""Request bodies that once froze the server or answered 500: many parts, big JSON, bad multipart seeds.

"Off the event loop" is proven without timing: the work under test is replaced by a
function that waits until a ``/healthz`` request, sent from another thread, has been
answered. On the event loop, that answer could never come and the wait runs out.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

import conjure.server.routers.worlds as worlds_router
import conjure.server.routing as routing
from server_helpers import small_world


def _multipart(fields: list[tuple[str, bytes]], boundary: str = "XbOuNdArYx") -> tuple[bytes, str]:
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def test_a_form_with_sixty_thousand_parts_is_refused_before_parsing(client, tenant):
    body, ctype = _multipart([(f"f{i}", b"x") for i in range(60_000)])
    r = client.post("/v1/worlds", content=body, headers={**tenant.auth("sk_test"), "Content-Type": ctype})
    assert r.status_code == 400 and r.json()["code"] == "too_many_parts"
    assert client.get("/v1/worlds", headers=tenant.auth("sk_test")).json()["data"] == []


@pytest.mark.parametrize("seed", ["²", "1" * 5000, "-1", "1e3", "١٢"])
def test_a_multipart_seed_that_is_not_a_plain_integer_is_a_400(client, tenant, seed):
    body, ctype = _multipart([("premise", b"a sunken city"), ("seed", seed.encode())])
    r = client.post("/v1/worlds", content=body, headers={**tenant.auth("sk_test"), "Content-Type": ctype})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_request"


def _waits_for_healthz(client: Any, original: Any, seen: dict[str, bool]) -> Any:
    """``original`` wrapped: it first waits (bounded) for a /healthz answer sent from another thread."""
    answered = threading.Event()

    def probe() -> None:
        if client.get("/healthz").status_code == 200:
            answered.set()

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        threading.Thread(target=probe, daemon=True).start()
        seen["loop_free"] = answered.wait(10)
        return original(*args, **kwargs)

    return wrapped


def test_multipart_parsing_runs_off_the_event_loop(client, tenant, monkeypatch):
    seen: dict[str, bool] = {}
    monkeypatch.setattr(worlds_router, "parse_multipart",
                        _waits_for_healthz(client, worlds_router.parse_multipart, seen))
    body, ctype = _multipart([("premise", b"a sunken city"), ("seed", b"3")])
    r = client.post("/v1/worlds", content=body, headers={**tenant.auth("sk_test"), "Content-Type": ctype})
    assert r.status_code == 201, r.text
    assert seen == {"loop_free": True}


def _big_ops_body() -> bytes:
    ops = [{"op": "patchWorld", "patch": {"description": "d" * 200}} for _ in range(400)]
    return json.dumps({"ops": ops}).encode()


def test_a_large_json_body_is_parsed_off_the_event_loop(client, tenant, monkeypatch):
    created = client.post("/v1/worlds", json={"world": small_world()}, headers=tenant.auth("sk_test"))
    assert created.status_code == 201, created.text
    world_id = created.json()["world"]["id"]
    seen: dict[str, bool] = {}
    monkeypatch.setattr(routing, "parse_json", _waits_for_healthz(client, routing.parse_json, seen))
    body = _big_ops_body()
    assert len(body) > routing.OFF_LOOP_BYTES
    r = client.post(f"/v1/worlds/{world_id}/ops", content=body,
                    headers={**tenant.auth("sk_test"), "Content-Type": "application/json"})
    assert r.status_code < 500, r.text
    assert seen == {"loop_free": True}


def test_the_idempotency_hash_of_a_body_is_computed_off_the_event_loop(client, tenant, monkeypatch):
    seen: dict[str, bool] = {}
    monkeypatch.setattr(routing, "_request_hash", _waits_for_healthz(client, routing._request_hash, seen))
    r = client.post("/v1/worlds", json={"world": small_world()},
                    headers={**tenant.auth("sk_test"), "Idempotency-Key": "hash-off-loop"})
    assert r.status_code == 201, r.text
    assert seen == {"loop_free": True}


def test_a_large_malformed_json_body_is_a_400_not_a_500(client, tenant):
    body = b'{"world": ' + b"[" * 10 + b"1" * (routing.OFF_LOOP_BYTES + 10)
    r = client.post("/v1/worlds", content=body, headers={**tenant.auth("sk_test"), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
