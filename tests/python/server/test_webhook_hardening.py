"""Webhook delivery under attack: unsendable URLs, slow, trickling and huge endpoints, DNS rebinding.

Every wait is a bounded poll; nothing asserts on wall-clock time. Each test registers
loopback endpoints for test-mode events (the only destinations reachable offline).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from server_helpers import TestClient, create_app, make_settings, make_tenant
from test_jobs_webhooks import FAST, Receiver, deliveries, eventually, register


def _generate(client: Any, tenant: Any) -> None:
    r = client.post("/v1/worlds", json={"premise": "a sunken city"}, headers=tenant.auth("sk_test"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("url", [
    "https://0110.0.0.1/hook",          # httpx: InvalidURL; the system resolver: 72.0.0.1
    "https://0x7f.1/hook",              # a resolver reads 127.0.0.1
    "https://2130706433/hook",          # one decimal number: 127.0.0.1
    "https://user:pass@example.com/h",  # credentials in the URL
    "https://[2002:a00:1::]/hook",      # 6to4 tunnel to 10.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/h",  # Teredo
    "https://[64:ff9b::a00:1]/hook",    # NAT64 of 10.0.0.1
    "https://example.com:99999/hook",
    "https://exa mple.com/hook",
    "https://example.com/hook#frag",
])
def test_a_url_the_sender_would_not_send_as_checked_is_refused_at_registration(client, tenant, url):
    r = client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": url}, headers=tenant.auth("user"))
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "bad_input"
    assert client.get(f"/v1/webhooks?appId={tenant.app_id}", headers=tenant.auth("user")).json()["data"] == []


def test_registration_stores_the_url_as_the_sending_client_normalises_it(client, tenant):
    r = client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": "https://Hooks.EXAMPLE.com:443/In?a=1"},
                    headers=tenant.auth("user"))
    assert r.status_code == 201, r.text
    assert r.json()["url"] == "https://hooks.example.com/In?a=1"


def test_one_unsendable_stored_url_does_not_stop_other_tenants_deliveries(tmp_path):
    """A row stored before registration checked URLs (or by any other path) fails alone."""
    receiver = Receiver()
    try:
        with TestClient(create_app(make_settings(tmp_path, **FAST)), raise_server_exceptions=False) as c:
            store = c.app.state.conjure.store
            bad_tenant, good_tenant = make_tenant(c), make_tenant(c)
            bad = store.create_webhook(bad_tenant.app_id, "https://0110.0.0.1/hook", ["world.generation.succeeded"], "")
            _generate(c, bad_tenant)  # the bad delivery is claimed first
            good = register(c, good_tenant, receiver.url)
            _generate(c, good_tenant)
            eventually(lambda: receiver.answered_2xx >= 1, what="the other tenant's delivery")
            row = eventually(lambda: next((d for d in deliveries(c, bad_tenant, bad["id"]) if d["attempt"] >= 1), None),
                             what="the bad delivery's recorded attempt")
            assert row["responseStatus"] is None and row["status"] in ("pending", "failed")
            eventually(lambda: deliveries(c, good_tenant, good["id"])[-1]["status"] == "succeeded", what="the record")
    finally:
        receiver.close()


def test_a_slow_endpoint_does_not_hold_back_another_endpoint(tmp_path):
    slow, fast = Receiver(["hold"]), Receiver()
    settings = make_settings(tmp_path, **{**FAST, "webhook_timeout_seconds": 90})
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as c:
            a, b = make_tenant(c), make_tenant(c)
            register(c, a, slow.url)
            register(c, b, fast.url)
            _generate(c, a)
            eventually(slow.holding.is_set, what="the slow endpoint to hold its delivery")
            _generate(c, b)
            eventually(lambda: fast.answered_2xx >= 1, what="the other endpoint's delivery")
            assert not slow.held_out.is_set()  # delivered while the slow attempt was still running
    finally:
        slow.close()
        fast.close()


class RawEndpoint:
    """A loopback HTTP endpoint written on a bare socket: it trickles headers or sends a huge body."""

    def __init__(self, behaviour: str, body_bytes: int = 0) -> None:
        self.behaviour = behaviour
        self.body_bytes = body_bytes
        self.sent = 0
        self.done = threading.Event()
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    if self.behaviour == "trickle":
                        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                        while not self.stop.wait(0.2):
                            conn.sendall(b"a")
                    else:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.body_bytes)
                        chunk = b"x" * 65536
                        while self.sent < self.body_bytes and not self.stop.is_set():
                            conn.sendall(chunk)
                            self.sent += len(chunk)
                except OSError:
                    pass
                finally:
                    self.done.set()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)


def test_an_endpoint_trickling_its_headers_is_cut_at_the_attempt_deadline(tmp_path):
    endpoint = RawEndpoint("trickle")
    settings = make_settings(tmp_path, **{**FAST, "webhook_timeout_seconds": 1.0})
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            hook = register(c, tenant, endpoint.url)
            _generate(c, tenant)
            row = eventually(lambda: next((d for d in deliveries(c, tenant, hook["id"]) if d["attempt"] >= 1), None),
                             deadline_s=20, what="the trickled attempt to end")
            assert row["responseStatus"] is None and row["status"] in ("pending", "failed")
    finally:
        endpoint.close()


def test_a_huge_answer_is_never_read(tmp_path):
    size = 256 * 1024 * 1024
    endpoint = RawEndpoint("huge", body_bytes=size)
    try:
        with TestClient(create_app(make_settings(tmp_path, **FAST)), raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            hook = register(c, tenant, endpoint.url)
            _generate(c, tenant)
            row = eventually(lambda: next((d for d in deliveries(c, tenant, hook["id"]) if d["attempt"] >= 1), None),
                             what="the delivery")
            assert row["status"] == "succeeded" and row["responseStatus"] == 200
            eventually(endpoint.done.is_set, what="the endpoint to see the connection close")
            assert endpoint.sent < size // 4  # the dispatcher hung up instead of reading the answer
    finally:
        endpoint.close()


def test_the_connection_goes_to_the_address_the_guard_checked(tmp_path):
    """DNS rebinding: the sender never resolves the host again; it connects to the checked address.

    The guard's resolver says ``localhost`` is 127.0.0.2, where the endpoint listens; the
    system resolver says 127.0.0.1, where nothing does. Only a pinned connection arrives.
    """
    receiver = Receiver(host="127.0.0.2")
    port = receiver.url.split(":")[2].split("/")[0]
    answers = {"localhost": ["127.0.0.2"]}
    try:
        app = create_app(make_settings(tmp_path, **FAST))
        app.state.workers.dispatcher.resolver = lambda host: answers[host]
        with TestClient(app, raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            hook = register(c, tenant, f"http://localhost:{port}/hook")
            _generate(c, tenant)
            eventually(lambda: receiver.answered_2xx >= 1, what="the pinned delivery")
            assert receiver.received[0]["headers"]["Host"] == f"localhost:{port}"
            eventually(lambda: deliveries(c, tenant, hook["id"])[-1]["status"] == "succeeded", what="the record")
    finally:
        receiver.close()
