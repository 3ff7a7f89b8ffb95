"""The OpenAI-compatible provider against a real chat-completions server on 127.0.0.1."""

from __future__ import annotations

import json
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import conjure
from conjure.agent import (
    GenerationError,
    OfflineProvider,
    OpenAICompatibleProvider,
    ProviderError,
    edit,
    generate,
    parse_reply,
)

WORLDS = pathlib.Path(__file__).resolve().parents[2] / "data" / "agent" / "worlds"


def abbey() -> conjure.World:
    return conjure.World.from_file(WORLDS / "abbey.json")


class ScriptedServer:
    """A chat-completions server answering from a script: (status, content or raw body, delay)."""

    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                step = outer.script.pop(0) if outer.script else {"status": 500, "raw": "script exhausted"}
                if step.get("delay"):
                    outer.stop.wait(step["delay"])
                status = step.get("status", 200)
                if "content" in step:
                    payload = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": step["content"]}}]})
                else:
                    payload = step.get("raw", "")
                data = payload.encode()
                try:
                    self.send_response(status)
                    for k, v in step.get("headers", {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def answer(self, obj: Any = None, *, text: str | None = None, status: int = 200, delay: float = 0.0) -> None:
        content = text if text is not None else json.dumps(obj)
        self.script.append({"status": status, "content": content, "delay": delay})


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


def provider(server: ScriptedServer, timeout: float = 5.0, response_format: str = "json_schema") -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(server.url, "test-model-7b", api_key="sk-test-secret", timeout=timeout, allow_loopback=True,
                                    response_format=response_format)


# ------------------------------------------------------------------ edits


def test_a_valid_answer_is_applied_and_the_reply_hides_model_and_ops(server):
    server.answer({"ops": [{"op": "set_entrance", "state": "chapel"}]})
    out = edit(abbey(), "start in the chapel", provider=provider(server))
    assert out.world is not None and out.world.entrance == "chapel"
    assert out.changed and not out.clarification and out.attempts == 1
    assert "chapel" in out.reply and "test-model" not in out.reply and "set_entrance" not in out.reply
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "test-model-7b"
    assert req["auth"] == "Bearer sk-test-secret"
    system = req["body"]["messages"][0]["content"]
    assert "add_state" in system and "hotkey" in system
    assert "courtyard" in req["body"]["messages"][1]["content"]


def test_an_answer_in_a_code_fence_with_a_slot_is_applied(server):
    answer = {"ops": [{"op": "update_state", "id": "tower", "patch": {"base": "the bell tower stair, {bell}"}}],
              "slots": {"bell": "a cracked bronze bell"}}
    server.answer(text="Here you go:\n```json\n" + json.dumps(answer) + "\n```")
    out = edit(abbey(), "put a bell slot in the tower", provider=provider(server))
    assert out.world is not None
    assert out.world.to_dict()["scene"]["slots"]["bell"] == "a cracked bronze bell"
    assert "{bell}" in out.world.states["tower"]["base"]


def test_a_question_changes_nothing(server):
    server.answer({"question": "Which tower do you mean?"})
    before = abbey()
    out = edit(before, "fix the tower", provider=provider(server))
    assert out.clarification and not out.changed
    assert out.world == before
    assert out.reply == "Which tower do you mean?"


def test_malformed_json_is_repaired_then_asked_about_and_changes_nothing(server):
    server.answer(text="{ops: [set the entrance to chapel")
    server.answer(text="{ops: [set the entrance to chapel")
    out = edit(abbey(), "start in the chapel", provider=provider(server), max_attempts=2)
    assert out.clarification and not out.changed and out.ops == []
    assert out.world is not None and out.world.entrance == "courtyard"
    repair = server.requests[1]["body"]["messages"][1]["content"]
    assert "not valid JSON" in repair or "not JSON" in repair


def test_wrong_ops_are_fed_back_and_a_corrected_answer_is_applied(server):
    server.answer({"ops": [{"op": "explode", "id": "tower"}]})
    server.answer({"ops": [{"op": "set_entrance", "state": "chapel"}]})
    out = edit(abbey(), "start in the chapel", provider=provider(server))
    assert out.changed and out.world.entrance == "chapel" and out.attempts == 2
    repair = server.requests[1]["body"]["messages"][1]["content"]
    assert "malformed ops" in repair and "explode" in repair


@pytest.mark.parametrize("fmt", ["json_schema", "json_object", "none"])
def test_the_answer_shape_is_asked_for_in_the_configured_response_format(server, fmt):
    server.answer({"ops": [{"op": "set_entrance", "state": "chapel"}]})
    edit(abbey(), "start in the chapel", provider=provider(server, response_format=fmt))
    sent = server.requests[0]["body"].get("response_format")
    if fmt == "none":
        assert sent is None
    elif fmt == "json_object":
        assert sent["type"] == "json_object" and "set_slot" in sent["schema"]["properties"]["ops"]["items"]["properties"]["op"]["enum"]
    else:
        assert sent["type"] == "json_schema" and sent["json_schema"]["schema"]["anyOf"]


def test_a_server_that_refuses_response_format_is_asked_again_without_it(server):
    server.answer({"error": "unknown field response_format"}, status=400)
    server.answer({"ops": [{"op": "set_entrance", "state": "chapel"}]})
    out = edit(abbey(), "start in the chapel", provider=provider(server))
    assert out.changed
    assert "response_format" in server.requests[0]["body"] and "response_format" not in server.requests[1]["body"]


def test_a_gate_failing_answer_is_repaired_with_the_diagnostics(server):
    bad = {"ops": [{"op": "add_event", "name": "Wade to the hall", "kind": "transition", "from": ["cellar"], "to": "hall", "hotkey": "W"}]}
    good = {"ops": [{"op": "add_event", "name": "Wade to the hall", "kind": "transition", "from": ["cellar"], "to": "hall", "hotkey": "Y"}]}
    server.answer(bad)
    server.answer(good)
    out = edit(abbey(), "let the player wade from the cellar to the hall", provider=provider(server))
    assert out.world is not None and out.attempts == 2
    assert any(e["name"] == "Wade to the hall" and e["hotkey"] == "Y" for e in out.world.events)
    retry = server.requests[1]["body"]["messages"][1]["content"]
    assert "reserved" in retry.lower() and "Previous ops" in retry
    assert conjure.validate(out.world).ok


def test_an_answer_that_never_passes_the_gate_gives_up_after_max_attempts(server):
    bad = {"ops": [{"op": "add_event", "name": "Go", "kind": "transition", "from": ["cellar"], "to": "nowhere", "hotkey": "Y"}]}
    for _ in range(3):
        server.answer(bad)
    out = edit(abbey(), "go nowhere", provider=provider(server), max_attempts=3)
    assert out.world is None and len(server.requests) == 3
    assert "Nothing was changed" in out.reply
    assert any(d.lint == "dangling-ref" for d in out.diagnostics)


def test_ops_that_cannot_apply_are_retried(server):
    server.answer({"ops": [{"op": "delete_state", "id": "attic"}]})
    server.answer({"ops": [{"op": "delete_event", "name": "Ring the bell"}]})
    out = edit(abbey(), "remove the bell ringing", provider=provider(server))
    assert out.world is not None and out.attempts == 2
    assert "not_found" in json.dumps(server.requests[1]["body"]) or "attic" in server.requests[1]["body"]["messages"][1]["content"]


def test_a_timeout_is_a_provider_failure(server):
    server.script.append({"status": 200, "content": json.dumps({"ops": []}), "delay": 3.0})
    out = edit(abbey(), "start in the chapel", provider=provider(server, timeout=0.3))
    assert out.world is None
    assert "did not answer" in out.reply


def test_a_server_error_is_a_provider_failure(server):
    server.script.append({"status": 500, "raw": "{\"error\": \"boom\"}"})
    out = edit(abbey(), "start in the chapel", provider=provider(server))
    assert out.world is None
    assert "(500)" in out.reply


def test_a_redirect_is_not_followed(server):
    server.script.append({"status": 302, "raw": "", "headers": {"Location": "http://169.254.169.254/latest"}})
    with pytest.raises(ProviderError, match="redirect"):
        provider(server).complete([{"role": "user", "content": "hi"}])
    assert len(server.requests) == 1


def test_an_answer_that_is_not_a_chat_completion_fails_clearly(server):
    server.script.append({"status": 200, "raw": "{\"result\": 1}"})
    with pytest.raises(ProviderError, match="not a chat completion"):
        provider(server).complete([{"role": "user", "content": "hi"}])


# --------------------------------------------------------------- SSRF guard


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3/v1", "http://192.168.0.10:8080/v1", "http://169.254.169.254/v1", "http://[fd00::1]/v1",
     "http://0.0.0.0/v1", "http://100.64.1.1/v1"],
)
def test_private_and_link_local_addresses_are_refused(url):
    p = OpenAICompatibleProvider(url, "m")
    with pytest.raises(ProviderError, match="private or reserved"):
        p.check_destination()


def test_a_hostname_resolving_to_a_private_address_is_refused():
    p = OpenAICompatibleProvider("https://models.internal.example/v1", "m", resolver=lambda host: ["192.168.4.2"])
    with pytest.raises(ProviderError, match="private"):
        p.check_destination()


def test_loopback_is_refused_unless_configured(server):
    with pytest.raises(ProviderError, match="loopback"):
        OpenAICompatibleProvider(server.url, "m").check_destination()
    OpenAICompatibleProvider(server.url, "m", allow_loopback=True).check_destination()
    assert server.requests == []


def test_private_addresses_are_allowed_when_asked():
    OpenAICompatibleProvider("http://10.0.0.8/v1", "m", allow_private=True).check_destination()


def test_a_public_address_passes_the_guard():
    OpenAICompatibleProvider("https://api.example.com/v1", "m", resolver=lambda host: ["93.184.216.34"]).check_destination()


def test_an_unresolvable_host_is_a_provider_failure():
    def fail(host: str) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(ProviderError, match="cannot be resolved"):
        OpenAICompatibleProvider("https://nowhere.example/v1", "m", resolver=fail).check_destination()


@pytest.mark.parametrize("url", ["ftp://example.com", "not a url", "http://user:pw@example.com/v1", ""])
def test_bad_base_urls_are_refused_at_construction(url):
    with pytest.raises(ProviderError):
        OpenAICompatibleProvider(url, "m")


# ------------------------------------------------------------ parse_reply


def test_parse_reply_takes_the_object_out_of_prose():
    p = parse_reply('Sure! {"ops": [{"op": "set_entrance", "state": "hall"}]} Hope that helps.')
    assert p.ops == [{"op": "set_entrance", "state": "hall"}]


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("[1, 2]", "not an object"), ('{"ops": []}', "non-empty"), ('{"foo": 1}', "neither"),
     ('{"ops": [{"op": "add_event", "kind": "teleport", "from": "a"}]}', "malformed ops"),
     ('{"ops": [{"op": "set_entrance", "state": "a"}], "slots": {"x": 3}}', "slots")],
)
def test_parse_reply_refuses_unusable_answers(text, message):
    with pytest.raises(ProviderError, match=message):
        parse_reply(text)


# --------------------------------------------------------------- generation


def test_generation_through_a_provider_returns_its_world(server):
    world = generate("a lighthouse", seed=1)  # a valid document to serve
    server.answer(world.to_dict())
    out = generate("a lighthouse", seed=1, provider=provider(server), frame="asset_123")
    assert conjure.validate(out).ok
    assert out.to_dict()["entrance"]["image"]["src"] == "asset_123"
    assert "Premise: a lighthouse" in server.requests[0]["body"]["messages"][1]["content"]


def test_generation_repairs_then_fails_clearly_when_the_gate_keeps_refusing(server):
    broken = {"schemaVersion": "1.0", "entrance": {"state": "nowhere"}, "scene": {"states": {"a": {"base": "a hall"}}, "events": []}}
    for _ in range(2):
        server.answer(broken)
    with pytest.raises(GenerationError, match="failed the gate after 2 attempts") as info:
        generate("a hall", provider=provider(server), max_attempts=2)
    assert any(d.lint == "dangling-ref" for d in info.value.diagnostics)
    assert "entrance" in server.requests[1]["body"]["messages"][1]["content"]


def test_generation_falls_back_to_the_offline_world_when_asked(server):
    server.script.append({"status": 503, "raw": "busy"})
    out = generate("a frozen mountain pass", seed=3, provider=provider(server), fallback=True)
    assert out == generate("a frozen mountain pass", seed=3)


def test_generation_provider_failure_raises_without_fallback(server):
    server.script.append({"status": 500, "raw": "boom"})
    with pytest.raises(ProviderError, match="500"):
        generate("a desert", provider=provider(server))


def test_the_offline_provider_proposes_without_network():
    from conjure.agent import EditRequest

    p = OfflineProvider().propose(EditRequest(world=abbey().to_dict(), instruction="start in the chapel"))
    assert p.ops == [{"op": "set_entrance", "state": "chapel"}]
