"""Play sessions through the facade (RUNTIME.md "The two-token rule"), user
tokens, the HTTP layer's lookups, plugin lints inside store writes."""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conjure import errors, plugins
from conjure.store import Store

from test_store import set_base, world


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "sessions.db", plugins=False)
    yield s
    s.close()


def _game(store: Store) -> tuple[Store, str]:
    app = store.scoped("game", "test")
    return app, app.create_world(world())["world"]["id"]


def _minutes(store: Store) -> dict[str, int]:
    return store.usage("game")["meters"]["session_minutes"]


def test_two_token_flow_charges_used_minutes_and_refunds_the_rest(store: Store) -> None:
    app, wid = _game(store)
    minted = app.mint_session_token(wid, "player-1", origin="https://play.example", ttl_seconds=300)
    assert minted["token"].startswith("st_") and minted["jti"]
    claims = store.verify_session_token(minted["token"], "https://play.example")
    assert {k: claims[k] for k in ("app", "mode", "world", "player", "origin", "jti")} == {
        "app": "game",
        "mode": "test",
        "world": wid,
        "player": "player-1",
        "origin": "https://play.example",
        "jti": minted["jti"],
    }
    admitted = store.admit_session(claims, app_cap=2, global_cap=10, minutes=10)
    assert admitted["connectToken"].startswith("ct_")
    assert _minutes(store)["reserved"] == 10
    session = store.consume_connect_token(admitted["connectToken"])
    assert session["sessionId"] == admitted["sessionId"] and session["world"] == wid and session["status"] == "admitted"
    with pytest.raises(errors.UnauthorizedError):
        store.consume_connect_token(admitted["connectToken"])  # single use
    assert store.bind_session(admitted["sessionId"], claims) == {"sessionId": admitted["sessionId"], "status": "bound"}
    settled = store.settle_session(admitted["sessionId"], 125, claims)
    assert settled == {"sessionId": admitted["sessionId"], "status": "settled", "secondsUsed": 125}
    assert _minutes(store) == {"used": 3, "reserved": 0, "limit": 1000}
    assert store.settle_session(admitted["sessionId"], 999)["secondsUsed"] == 125  # idempotent
    assert _minutes(store)["used"] == 3


def test_forged_expired_and_other_origin_tokens_are_refused(store: Store) -> None:
    app, wid = _game(store)
    token = app.mint_session_token(wid, "p", origin="https://a.example", ttl_seconds=60)["token"]
    with pytest.raises(errors.ForbiddenError):
        store.verify_session_token(token, "https://b.example")
    with pytest.raises(errors.ForbiddenError):
        store.verify_session_token(token)
    payload, _, sig = token.partition(".")
    for bad in (payload + "." + sig[::-1], "st_" + sig, token.replace("st_", "us_"), "", "st_a.b"):
        with pytest.raises(errors.UnauthorizedError):
            store.verify_session_token(bad, "https://a.example")
    with pytest.raises(errors.UnauthorizedError):
        store.verify_session_token(token, "https://a.example", now=time.time() + 61)
    with pytest.raises(errors.NotFoundError):
        store.scoped("other", "test").mint_session_token(wid, "p")
    with pytest.raises(errors.BadInputError):
        app.mint_session_token(wid, "p", ttl_seconds=3601)


def test_key_rotation_keeps_old_tokens_valid(store: Store) -> None:
    app, wid = _game(store)
    old = app.mint_session_token(wid, "p")["token"]
    old_kid = store.verify_session_token(old)["kid"]
    kid = store.rotate_session_key()
    new = app.mint_session_token(wid, "p")["token"]
    assert kid != old_kid and store.verify_session_token(new)["kid"] == kid
    assert store.verify_session_token(old)["kid"] == old_kid


def test_caps_budget_reap_and_restart_free_every_slot(store: Store) -> None:
    app, wid = _game(store)

    def claims() -> dict[str, Any]:
        return store.verify_session_token(app.mint_session_token(wid, "p")["token"])

    a = store.admit_session(claims(), app_cap=2, global_cap=2, minutes=5)
    b = store.admit_session(claims(), app_cap=2, global_cap=2, minutes=5)
    with pytest.raises(errors.CapacityError) as refused:
        store.admit_session(claims(), app_cap=2, global_cap=2, minutes=5)
    assert refused.value.code == "concurrency_cap"
    store.consume_connect_token(b["connectToken"])
    assert store.reap_sessions(now=time.time() + 61) == 1  # `a` never connected
    assert store.settle_session(a["sessionId"])["secondsUsed"] == 0
    store.set_meter_limit("game", "session_minutes", 8)
    with pytest.raises(errors.QuotaExceededError):
        store.admit_session(claims(), app_cap=5, global_cap=5, minutes=5)
    assert store.settle_all_active("restart") == 1
    assert _minutes(store)["reserved"] == 0


def _admit_in_process(path: str, claims: dict[str, Any], queue: Any) -> None:
    s = Store(path, plugins=False)
    try:
        s.admit_session(claims, app_cap=1, global_cap=100, minutes=1)
        queue.put("admitted")
    except errors.CapacityError:
        queue.put("capacity")
    finally:
        s.close()


def test_threads_and_processes_racing_for_the_last_slot_admit_exactly_one() -> None:
    private = Path(tempfile.mkdtemp(prefix="conjure-sessions-"))
    try:
        path = str(private / "race.db")
        s = Store(path, plugins=False)
        app, wid = _game(s)
        claims = [s.verify_session_token(app.mint_session_token(wid, f"p{i}")["token"]) for i in range(8)]
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_admit_in_process, args=(path, claims[i], queue)) for i in range(2)]
        outcomes: list[str] = []
        lock = threading.Lock()

        class Q:
            def put(self, item: str) -> None:
                with lock:
                    outcomes.append(item)

        threads = [threading.Thread(target=_admit_in_process, args=(path, claims[i], Q())) for i in range(2, 8)]
        for p in procs:
            p.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in procs:
            p.join(120)
            assert p.exitcode == 0
            outcomes.append(queue.get(timeout=10))
        assert sorted(outcomes) == ["admitted"] + ["capacity"] * 7
        assert _minutes(s)["reserved"] == 1
        s.close()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_user_tokens_find_user_get_webhook_and_compare_and_delete(store: Store) -> None:
    user = store.create_user("Ada@Example.com", "correct horse battery")
    issued = store.issue_user_token(user["id"], 3600)
    assert issued["token"].startswith("us_") and issued["expiresAt"].endswith("Z")
    assert store.verify_user_token(issued["token"])["id"] == user["id"]
    with pytest.raises(errors.UnauthorizedError):
        store.verify_user_token(issued["token"][:-2] + "xx")
    assert store.find_user("ada@example.com")["id"] == user["id"]
    assert store.find_user("nobody@example.com") is None
    app = store.create_app("game", owner_id=user["id"])
    hook = store.create_webhook(app["id"], "https://hooks.example/in", ["world.updated"])
    assert store.get_webhook(hook["id"])["appId"] == app["id"]
    with pytest.raises(errors.NotFoundError):
        store.get_webhook("no-such-webhook")
    created = store.create_world(world())
    wid, rev = created["world"]["id"], created["rev"]
    store.apply_ops(wid, set_base("s0", "a changed room"), expected_rev=rev)
    with pytest.raises(errors.ConflictError):
        store.delete_world(wid, expected_rev=rev)
    store.delete_world(wid, expected_rev=store.get_graph(wid)["rev"])
    with pytest.raises(errors.NotFoundError):
        store.get_world(wid)


def test_calls_on_a_closed_store_raise_storage_error(tmp_path: Path) -> None:
    s = Store(tmp_path / "closed.db")
    s.close()
    with pytest.raises(errors.StorageError):
        s.list_worlds()


def test_store_writes_run_the_active_plugin_lints_inside_the_gate(tmp_path: Path) -> None:
    def no_dragons(resolved: dict[str, Any]) -> list[dict[str, Any]]:
        states = resolved["scene"]["states"]
        return [
            {"path": f"scene.states.{sid}", "message": "no dragons here", "severity": "error"}
            for sid, state in states.items()
            if "dragon" in state.get("base", "")
        ]

    plugin = plugins.register_lint("no-dragons-store-test", no_dragons)
    try:
        s = Store(tmp_path / "plugins.db", plugins=[plugin.with_policy(True)])
        created = s.create_world(world())
        wid = created["world"]["id"]
        with pytest.raises(errors.GateError) as refused:
            s.apply_ops(wid, set_base("s1", "a dragon sleeps here"))
        assert any(d.lint == "plugin.no-dragons-store-test" for d in refused.value.diagnostics)
        assert s.get_graph(wid)["rev"] == created["rev"]  # nothing written
        # By default the active plugins run (advisory unless the operator opts in).
        default = Store(tmp_path / "plugins.db")
        out = default.scoped("local", "test").apply_ops(wid, set_base("s1", "a dragon sleeps here"))
        assert any(d["lint"] == "plugin.no-dragons-store-test" for d in out["diagnostics"])
        assert not Store(tmp_path / "plugins.db", plugins=False).apply_ops(wid, set_base("s2", "a dragon too"))[
            "diagnostics"
        ]
        s.close()
        default.close()
    finally:
        plugins.unregister_lint("no-dragons-store-test")
