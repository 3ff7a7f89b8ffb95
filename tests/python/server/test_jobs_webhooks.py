"""Generation jobs and webhook deliveries: the in-process workers, retries, the SSRF guard, and restarts.

Every wait polls with a bounded deadline; retry delays come from a short configured schedule.
The restart tests run the server as a real process and kill it (SIGKILL) mid-work.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from conjure.agent.generate import offline_world
from server_helpers import PASSWORD, TestClient, create_app, make_settings, make_tenant

import test_agent_http as agent_tests

ScriptedServer = agent_tests.ScriptedServer
FAST = {"webhook_retry_schedule": [0.2, 0.2, 0.2, 0.2, 0.2], "webhook_poll_seconds": 0.05, "job_poll_seconds": 0.05}


def eventually(check: Callable[[], Any], deadline_s: float = 30.0, what: str = "condition") -> Any:
    """Polls ``check`` until it returns a truthy value; fails after the deadline."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Receiver:
    """A webhook endpoint on 127.0.0.1 answering from a script of statuses ("hold" blocks until released)."""

    def __init__(self, script: list[Any] | None = None, host: str = "127.0.0.1") -> None:
        self.script = list(script or [])
        self.received: list[dict[str, Any]] = []
        self.answered_2xx = 0
        self.release = threading.Event()
        self.holding = threading.Event()
        self.held_out = threading.Event()  # a held request ended (released or given up)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    step = outer.script.pop(0) if outer.script else 200
                    outer.received.append({"raw": raw, "headers": dict(self.headers), "step": step})
                if step == "hold":
                    outer.holding.set()
                    outer.release.wait(30)
                    outer.held_out.set()
                    return  # the connection closes without an answer
                try:
                    self.send_response(int(step))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    return
                if 200 <= int(step) < 300:
                    with outer.lock:
                        outer.answered_2xx += 1

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://{host}:{self.httpd.server_address[1]}/hook"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def fast_client(tmp_path):
    with TestClient(create_app(make_settings(tmp_path, **FAST)), raise_server_exceptions=False) as c:
        yield c


def register(client: Any, tenant: Any, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"appId": tenant.app_id, "url": url}
    if events is not None:
        body["events"] = events
    r = client.post("/v1/webhooks", json=body, headers=tenant.auth("user"))
    assert r.status_code == 201, r.text
    return r.json()


def deliveries(client: Any, tenant: Any, hook_id: str) -> list[dict[str, Any]]:
    return client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=tenant.auth("user")).json()["data"]


def verify(secret: str, received: dict[str, Any]) -> dict[str, Any]:
    header = received["headers"]["Conjure-Signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + received["raw"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - int(time.time())) < 300
    return json.loads(received["raw"])


def wait_job(client: Any, tenant: Any, job_id: str, key: str = "sk_test") -> dict[str, Any]:
    def done() -> Any:
        job = client.get(f"/v1/worlds/jobs/{job_id}", headers=tenant.auth(key)).json()
        return job if job["status"] in ("succeeded", "failed") else None

    return eventually(done, what=f"job {job_id}")


# ------------------------------------------------------------------ jobs


def test_an_async_generation_is_a_job_that_produces_the_world(fast_client):
    tenant = make_tenant(fast_client)
    r = fast_client.post("/v1/worlds", json={"premise": "a sunken city", "seed": 4, "async": True},
                         headers=tenant.auth("sk_test"))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job = wait_job(fast_client, tenant, r.json()["jobId"])
    assert job["status"] == "succeeded" and job["error"] is None
    world = fast_client.get(f"/v1/worlds/{job['worldId']}", headers=tenant.auth("sk_test")).json()
    assert len(world["scene"]["states"]) >= 4
    usage = fast_client.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["generate"]
    assert usage == {"used": 1, "reserved": 0, "limit": 1000}
    assert fast_client.get(f"/v1/worlds/jobs/{r.json()['jobId']}", headers=tenant.auth("sk_live")).status_code == 404


def test_an_async_replay_returns_the_same_job(fast_client):
    tenant = make_tenant(fast_client)
    h = {**tenant.auth("sk_test"), "Idempotency-Key": "job-1"}
    first = fast_client.post("/v1/worlds", json={"premise": "a sunken city", "async": True}, headers=h)
    again = fast_client.post("/v1/worlds", json={"premise": "a sunken city", "async": True}, headers=h)
    assert again.json()["jobId"] == first.json()["jobId"]
    wait_job(fast_client, tenant, first.json()["jobId"])
    assert len(fast_client.get("/v1/worlds", headers=tenant.auth("sk_test")).json()["data"]) == 1


def _model_settings(tmp_path: pathlib.Path, server: Any, **extra: Any) -> Any:
    return make_settings(tmp_path, agent_provider="openai", agent_base_url=server.url, agent_model="m",
                         agent_allow_loopback=True, agent_max_attempts=1, **{**FAST, **extra})


def test_a_failed_job_reports_a_clean_error_refunds_and_notifies(tmp_path, receiver):
    server = ScriptedServer()
    try:
        server.answer({"world": {}}, status=500)
        with TestClient(create_app(_model_settings(tmp_path, server)), raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            hook = register(c, tenant, receiver.url)
            r = c.post("/v1/worlds", json={"premise": "a glacier", "async": True}, headers=tenant.auth("sk_test"))
            job = wait_job(c, tenant, r.json()["jobId"])
            assert job["status"] == "failed" and job["error"].startswith("provider_failed")
            assert job["worldId"] is None
            assert c.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["generate"]["used"] == 0
            eventually(lambda: receiver.answered_2xx == 1, what="the failure webhook")
            event = verify(hook["secret"], receiver.received[0])
            assert event["type"] == "world.generation.failed" and event["data"]["jobId"] == job["jobId"]
    finally:
        server.close()


def test_a_job_past_its_timeout_fails_cleanly(tmp_path):
    server = ScriptedServer()
    try:
        server.answer({"world": offline_world("a glacier")}, delay=3.0)
        settings = _model_settings(tmp_path, server, job_timeout_seconds=0.5, agent_timeout_seconds=10.0)
        with TestClient(create_app(settings), raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            r = c.post("/v1/worlds", json={"premise": "a glacier", "async": True}, headers=tenant.auth("sk_test"))
            job = wait_job(c, tenant, r.json()["jobId"])
            assert job["status"] == "failed" and job["error"].startswith("job_timeout")
            assert c.get("/v1/worlds", headers=tenant.auth("sk_test")).json()["data"] == []
            assert c.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["generate"]["reserved"] == 0
    finally:
        server.close()


# ------------------------------------------------------------------ webhooks


def test_a_generation_is_delivered_signed_and_recorded(fast_client, receiver):
    tenant = make_tenant(fast_client)
    hook = register(fast_client, tenant, receiver.url)
    r = fast_client.post("/v1/worlds", json={"premise": "a sunken city"}, headers=tenant.auth("sk_test"))
    assert r.status_code == 201
    eventually(lambda: receiver.answered_2xx == 1, what="the delivery")
    event = verify(hook["secret"], receiver.received[0])
    assert event["type"] == "world.generation.succeeded" and event["mode"] == "test"
    assert event["appId"] == tenant.app_id and event["data"]["worldId"] == r.json()["world"]["id"]
    assert receiver.received[0]["headers"]["Conjure-Event-Id"] == event["id"]
    rows = eventually(lambda: [d for d in deliveries(fast_client, tenant, hook["id"]) if d["status"] == "succeeded"])
    assert rows[0]["attempt"] == 1 and rows[0]["responseStatus"] == 200 and rows[0]["eventId"] == event["id"]


def test_edits_are_delivered_only_to_endpoints_that_opted_in(fast_client, receiver):
    tenant = make_tenant(fast_client)
    hook = register(fast_client, tenant, receiver.url, events=["world.edited"])
    import_world = agent_tests.import_world
    wid = import_world(fast_client, tenant)["world"]["id"]
    r = fast_client.post(f"/v1/worlds/{wid}/edit", json={"instruction": "add an attic above the hall"},
                         headers=tenant.auth("sk_test"))
    assert r.status_code == 200
    eventually(lambda: receiver.answered_2xx == 1, what="the edit delivery")
    event = verify(hook["secret"], receiver.received[0])
    assert event["type"] == "world.edited" and event["data"] == {"worldId": wid, "rev": r.json()["rev"], "via": "edit"}


def test_a_failing_endpoint_is_retried_with_backoff_until_it_answers(fast_client):
    receiver = Receiver([500, 503, 200])
    try:
        tenant = make_tenant(fast_client)
        hook = register(fast_client, tenant, receiver.url)
        fast_client.post("/v1/worlds", json={"premise": "a sunken city"}, headers=tenant.auth("sk_test"))
        row = eventually(lambda: next((d for d in deliveries(fast_client, tenant, hook["id"])
                                       if d["status"] == "succeeded"), None), what="the retried delivery")
        assert row["attempt"] == 3 and row["responseStatus"] == 200 and row["nextAttemptAt"] is None
        assert receiver.answered_2xx == 1 and [x["step"] for x in receiver.received] == [500, 503, 200]
        ids = {json.loads(x["raw"])["id"] for x in receiver.received}
        assert len(ids) == 1  # the same event each time
    finally:
        receiver.close()


def test_a_pending_delivery_shows_its_last_status_and_next_attempt(tmp_path):
    receiver = Receiver([500])
    settings = make_settings(tmp_path, webhook_poll_seconds=0.05)  # the default (minutes-long) schedule
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as c:
            tenant = make_tenant(c)
            hook = register(c, tenant, receiver.url)
            c.post("/v1/worlds", json={"premise": "a sunken city"}, headers=tenant.auth("sk_test"))
            row = eventually(lambda: next((d for d in deliveries(c, tenant, hook["id"]) if d["attempt"] == 1), None))
            assert row["status"] == "pending" and row["responseStatus"] == 500 and row["nextAttemptAt"]
    finally:
        receiver.close()


@pytest.mark.parametrize("url", ["http://10.0.0.7/hook", "https://169.254.169.254/latest", "https://[fd00::1]/h",
                                 "https://224.0.0.1/h"])
def test_private_and_link_local_endpoints_are_refused_at_registration(client, tenant, url):
    r = client.post("/v1/webhooks", json={"appId": tenant.app_id, "url": url}, headers=tenant.auth("user"))
    assert r.status_code == 400


def test_loopback_endpoints_receive_test_mode_events_only(fast_client, receiver):
    tenant = make_tenant(fast_client)
    hook = register(fast_client, tenant, receiver.url)
    fast_client.post("/v1/worlds", json={"premise": "a sunken city"}, headers=tenant.auth("sk_live"))
    row = eventually(lambda: next((d for d in deliveries(fast_client, tenant, hook["id"]) if d["attempt"] >= 1), None))
    assert row["responseStatus"] is None and row["status"] in ("pending", "failed")
    assert receiver.received == []


# ------------------------------------------------------------------ restarts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``conjure.server:create_app`` under uvicorn in its own process."""

    def __init__(self, data_dir: pathlib.Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {**os.environ, "CONJURE_DATA_DIR": str(data_dir), "CONJURE_RATE_LIMIT_PER_SECOND": "1000",
                "CONJURE_RATE_LIMIT_BURST": "1000", "CONJURE_ACCESS_LOG": "false", **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "conjure.server:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError("the server process exited")
            try:
                return httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(ready, what="the server to start")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _tenant_over_http(url: str) -> tuple[str, str, str]:
    with httpx.Client(base_url=url, timeout=10.0) as h:
        token = h.post("/v1/auth/signup", json={"email": "restart@example.com", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        app_id = h.post("/v1/apps", json={"name": "game"}, headers=auth).json()["id"]
        key = h.post(f"/v1/apps/{app_id}/keys", json={"type": "secret", "mode": "test"}, headers=auth).json()["key"]
        return token, app_id, key


def test_a_delivery_interrupted_by_a_crash_is_delivered_once_after_restart(tmp_path):
    receiver = Receiver(["hold", 500, 200])
    env = {"CONJURE_WEBHOOK_RETRY_SCHEDULE": "[0.2, 0.2, 0.2, 0.2, 0.2]", "CONJURE_WEBHOOK_POLL_SECONDS": "0.05",
           "CONJURE_WEBHOOK_LEASE_SECONDS": "2", "CONJURE_WEBHOOK_TIMEOUT_SECONDS": "20"}
    first = second = None
    try:
        first = ServerProcess(tmp_path / "data", env)
        token, app_id, key = _tenant_over_http(first.url)
        user = {"Authorization": f"Bearer {token}"}
        hook = httpx.post(first.url + "/v1/webhooks", json={"appId": app_id, "url": receiver.url}, headers=user).json()
        r = httpx.post(first.url + "/v1/worlds", json={"premise": "a sunken city"},
                       headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert r.status_code == 201
        eventually(receiver.holding.is_set, what="the first delivery to arrive")
        first.kill()  # mid-delivery: the attempt was never recorded
        receiver.release.set()
        second = ServerProcess(tmp_path / "data", env)

        def succeeded() -> Any:
            rows = httpx.get(f"{second.url}/v1/webhooks/{hook['id']}/deliveries", headers=user).json()["data"]
            return rows if rows and rows[-1]["status"] == "succeeded" else None

        rows = eventually(succeeded, what="the delivery after the restart")
        # one row per recorded attempt: the held one was never recorded
        assert [(x["attempt"], x["status"], x["responseStatus"]) for x in rows] == [(1, "pending", 500), (2, "succeeded", 200)]
        assert rows[-1]["nextAttemptAt"] is None and len({x["id"] for x in rows}) == 1
        assert receiver.answered_2xx == 1
        assert [x["step"] for x in receiver.received] == ["hold", 500, 200]
        for received in receiver.received:
            verify(hook["secret"], received)
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.stop()
        receiver.close()


def test_a_job_running_when_the_server_dies_is_reclaimed_and_completed(tmp_path):
    model = ScriptedServer()
    first = second = None
    try:
        model.answer({"world": offline_world("a sunken city")}, delay=20.0)  # the first process dies waiting
        model.answer({"world": offline_world("a sunken city")})
        env = {"CONJURE_AGENT_PROVIDER": "openai", "CONJURE_AGENT_BASE_URL": model.url, "CONJURE_AGENT_MODEL": "m",
               "CONJURE_AGENT_ALLOW_LOOPBACK": "true", "CONJURE_AGENT_TIMEOUT_SECONDS": "30",
               "CONJURE_JOB_TIMEOUT_SECONDS": "2", "CONJURE_JOB_LEASE_GRACE_SECONDS": "1",
               "CONJURE_JOB_POLL_SECONDS": "0.1"}
        first = ServerProcess(tmp_path / "data", env)
        _, _, key = _tenant_over_http(first.url)
        auth = {"Authorization": f"Bearer {key}"}
        job_id = httpx.post(first.url + "/v1/worlds", json={"premise": "a sunken city", "async": True},
                            headers=auth).json()["jobId"]
        eventually(lambda: len(model.requests) == 1, what="the job to start")
        assert httpx.get(f"{first.url}/v1/worlds/jobs/{job_id}", headers=auth).json()["status"] == "running"
        first.kill()
        second = ServerProcess(tmp_path / "data", env)

        def finished() -> Any:
            job = httpx.get(f"{second.url}/v1/worlds/jobs/{job_id}", headers=auth).json()
            return job if job["status"] in ("succeeded", "failed") else None

        job = eventually(finished, what="the reclaimed job")
        assert job["status"] == "succeeded", job
        assert len(model.requests) == 2
        worlds = httpx.get(second.url + "/v1/worlds", headers=auth).json()["data"]
        assert [w["id"] for w in worlds] == [job["worldId"]]
        usage = httpx.get(second.url + "/v1/usage", headers=auth).json()["meters"]["generate"]
        assert usage["used"] == 1 and usage["reserved"] == 0
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.stop()
        model.close()


# ------------------------------------------------------------------ Python client and CLI


def test_the_client_and_cli_generate_follow_a_job_and_edit(tmp_path, capsys):
    import conjure
    from conjure.cli import main

    server = ServerProcess(tmp_path / "data", {"CONJURE_JOB_POLL_SECONDS": "0.05"})
    try:
        _, _, key = _tenant_over_http(server.url)
        assert main(["generate", "a sunken city", "--seed", "3", "--async", "--server", server.url, "--key", key]) == 0
        out = capsys.readouterr().out
        assert "succeeded" in out and "places" in out
        world_id = out.strip().splitlines()[-1].split()[0]
        assert main(["edit", world_id, "add an attic above the " + _entrance(server.url, key, world_id),
                     "--server", server.url, "--key", key]) == 0
        assert "attic" in capsys.readouterr().out
        with conjure.Client(server.url, key) as client:
            job = client.generate("a sunken city", seed=3, wait=False)
            done = client.wait_for_job(job["jobId"], timeout=30, interval=0.05)
            assert done["status"] == "succeeded"
            edited = client.edit(done["worldId"], "zorp the flibber")
            assert edited["rev"] == client.get_graph(done["worldId"])["rev"] and edited["reply"]
        assert main(["edit", world_id, "add a cellar", "--server", server.url, "--key", "sk_test_" + "x" * 40]) == 1
        assert "error:" in capsys.readouterr().out
    finally:
        server.stop()


def _entrance(url: str, key: str, world_id: str) -> str:
    world = httpx.get(f"{url}/v1/worlds/{world_id}", headers={"Authorization": f"Bearer {key}"}).json()
    return str(world["entrance"]["state"]).replace("_", " ")
