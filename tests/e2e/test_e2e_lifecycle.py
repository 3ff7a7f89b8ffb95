"""Process lifecycle of the hosts: graceful SIGTERM, worker supervision, command line."""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import httpx
import pytest

from e2e_servers import CONJURED, HOSTS, Server, requires_conjured, server_env, start_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery"
POLL_LIMIT_S = 30.0


def _until(predicate, what: str, limit: float = POLL_LIMIT_S):  # type: ignore[no-untyped-def]
    """Polls ``predicate`` until it returns something truthy; fails after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _in_flight(server: Server) -> float:
    text = httpx.get(server.base_url + "/metrics", timeout=5.0).text
    match = re.search(r"^conjure_http_requests_in_flight (\S+)$", text, re.MULTILINE)
    assert match, text
    return float(match.group(1))


def _refuses_connections(server: Server) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=1.0):
            return False
    except OSError:
        return True


def _read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2:]
        body = decoded
    return status, json.loads(body)


@pytest.mark.parametrize("kind", HOSTS)
def test_sigterm_completes_the_request_in_flight_and_exits_zero(kind: str, tmp_path: pathlib.Path,
                                                                servers: list[Server]) -> None:
    server = start_server(kind, tmp_path, shutdown_timeout_seconds=60)
    servers.append(server)
    body = json.dumps({"email": "slow@example.com", "password": PASSWORD}).encode()
    head = (f"POST /v1/auth/signup HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=POLL_LIMIT_S) as slow:
        # A slow client: the headers and half the body now, the rest once the server is stopping.
        slow.sendall(head + body[: len(body) // 2])
        _until(lambda: _in_flight(server) >= 2, "the slow request to reach the app")  # it and /metrics itself
        os.killpg(server.proc.pid, signal.SIGTERM)
        _until(lambda: _refuses_connections(server), "the server to stop accepting connections")
        assert server.proc.poll() is None, "the server exited with a request in flight"
        slow.sendall(body[len(body) // 2:])
        status, answer = _read_response(slow)
    assert status == 201, answer
    assert answer["user"]["email"] == "slow@example.com" and answer["token"].startswith("us_")
    assert server.wait_exit() == 0, server.log()


def test_conjured_workers_share_the_port_and_a_killed_worker_is_replaced(tmp_path: pathlib.Path,
                                                                        servers: list[Server]) -> None:
    server = start_server("conjured", tmp_path, workers=2)
    servers.append(server)
    match = re.search(r"listening on 127\.0\.0\.1:(\d+) \(pid (\d+), 2 workers\)", server.log())
    assert match and int(match.group(1)) == server.port and int(match.group(2)) == server.proc.pid

    def workers() -> set[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.proc.pid)], capture_output=True, text=True)
        return {int(p) for p in out.stdout.split()}

    first = _until(lambda: (lambda w: w if len(w) == 2 else None)(workers()), "two workers")
    with server.client() as http:
        r = http.post("/v1/auth/signup", json={"email": "w@example.com", "password": PASSWORD})
        assert r.status_code == 201, r.text
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        replaced = _until(lambda: (lambda w: w if len(w) == 2 and victim not in w else None)(workers()),
                          "the killed worker to be replaced")
        assert len(replaced & first) == 1
        _until(lambda: "died (killed by signal 9)" in server.log(), "the supervisor to report the death")
        # Both workers serve the same store: every request succeeds, whichever worker takes it.
        for i in range(20):
            r = http.post("/v1/auth/login", json={"email": "w@example.com", "password": PASSWORD},
                          headers={"Connection": "close"})
            assert r.status_code == 200, (i, r.text)
    os.kill(server.proc.pid, signal.SIGTERM)
    assert server.wait_exit() == 0, server.log()
    assert not workers()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "unknown option --bogus"),
        (["--port", "70000"], "--port takes a number from 0 to 65535"),
        (["--port", "eighty"], "--port takes a number from 0 to 65535"),
        (["--workers", "0"], "--workers takes a number from 1 to 64"),
        (["--workers"], "--workers needs a value"),
        (["--python", "/nonexistent/python3"], "--python: no executable at /nonexistent/python3"),
    ],
)
def test_conjured_bad_flags_exit_2_with_a_message(argv: list[str], message: str, tmp_path: pathlib.Path) -> None:
    requires_conjured()
    done = subprocess.run([str(CONJURED), *argv], capture_output=True, text=True, env=server_env(),
                          cwd=tmp_path, timeout=POLL_LIMIT_S)
    assert done.returncode == 2
    assert message in done.stderr


def test_conjured_bad_settings_exit_2_naming_the_setting(tmp_path: pathlib.Path) -> None:
    requires_conjured()
    done = subprocess.run([str(CONJURED), "--port", "0", "--data-dir", str(tmp_path / "d")], capture_output=True,
                          text=True, env=server_env(rate_limit_burst=0), cwd=tmp_path, timeout=POLL_LIMIT_S)
    assert done.returncode == 2
    assert "invalid settings" in done.stderr and "rate_limit_burst" in done.stderr


def test_conjured_redis_url_flag_is_a_setting_checked_without_showing_it(tmp_path: pathlib.Path) -> None:
    requires_conjured()
    done = subprocess.run([str(CONJURED), "--port", "0", "--data-dir", str(tmp_path / "d"),
                           "--redis-url", "http://:hunter2secret@127.0.0.1:1"], capture_output=True, text=True,
                          env=server_env(), cwd=tmp_path, timeout=POLL_LIMIT_S)
    assert done.returncode == 2
    assert "invalid settings" in done.stderr and "redis_url" in done.stderr
    assert "hunter2secret" not in done.stderr


def test_conjured_reads_settings_from_conjure_config(tmp_path: pathlib.Path, servers: list[Server]) -> None:
    config = tmp_path / "conjure.toml"
    config.write_text('rate_limit_per_second = 0.001\nrate_limit_burst = 2\n')
    requires_conjured()
    env = server_env()
    env.pop("CONJURE_RATE_LIMIT_PER_SECOND")
    env.pop("CONJURE_RATE_LIMIT_BURST")
    env["CONJURE_CONFIG"] = str(config)
    log_path = tmp_path / "conjured.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(CONJURED), "--port", "0", "--data-dir", str(tmp_path / "d")], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True)
    server = Server(kind="conjured", proc=proc, port=0, data_dir=tmp_path / "d", log_path=log_path)
    servers.append(server)
    port = _until(lambda: re.search(r"listening on 127\.0\.0\.1:(\d+)", log_path.read_text()), "the listening line")
    server.port = int(port.group(1))
    _until(lambda: _ready(server), "readiness")
    with server.client() as http:
        r = http.post("/v1/auth/signup", json={"email": "cfg@example.com", "password": PASSWORD})
        token = {"Authorization": f"Bearer {r.json()['token']}"}
        statuses = [http.get("/v1/apps", headers=token).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the burst of 2 came from the TOML file


def _ready(server: Server) -> bool:
    try:
        return httpx.get(server.base_url + "/readyz", timeout=2.0).status_code == 200
    except httpx.TransportError:
        return False
