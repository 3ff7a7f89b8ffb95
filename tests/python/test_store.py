"""The Python facade of the store: conjure.Store."""

from __future__ import annotations

import copy
import json
import multiprocessing
import sqlite3
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from conjure import errors
from conjure.store import Store
from conjure.store_cli import add_parser


def world(n: int = 4, name: str = "Sample") -> dict[str, Any]:
    states = {
        f"s{i}": {
            "base": f"a quiet stone room number {i} with moss on the walls",
            "camera": {"static": "slow drift at eye level", "dynamic": "handheld sway"},
            "movement": {"static": "dust drifting in lamplight", "dynamic": "steps echoing"},
        }
        for i in range(n)
    }
    states[f"s{n - 1}"]["ending"] = {"kind": "win", "title": "Out"}
    events = [
        {"name": f"Go to room {i + 1}", "kind": "transition", "from": [f"s{i}"], "to": f"s{i + 1}"}
        for i in range(n - 1)
    ]
    return {"schemaVersion": "1.0", "name": name, "entrance": {"state": "s0"}, "scene": {"states": states, "events": events}}


def set_base(state: str, base: str) -> list[dict[str, Any]]:
    return [{"op": "update_state", "id": state, "patch": {"base": base}}]


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store.db")
    yield s
    s.close()


def test_create_assigns_an_id_and_reads_back(store: Store) -> None:
    w = world()
    w["id"] = "mine"
    out = store.create_world(w)
    wid = out["world"]["id"]
    assert wid != "mine" and len(wid) == 36
    assert out["rev"]
    assert store.get_world(wid) == out["world"]
    assert store.get_graph(wid)["rev"] == out["rev"]
    assert store.world_info(wid)["name"] == "Sample"


def test_json_text_is_accepted(store: Store) -> None:
    out = store.create_world(json.dumps(world()))
    assert out["world"]["name"] == "Sample"


def test_unknown_and_foreign_worlds_are_not_found(store: Store) -> None:
    wid = store.create_world(world())["world"]["id"]
    with pytest.raises(errors.NotFoundError):
        store.get_world("nope")
    with pytest.raises(errors.NotFoundError):
        store.scoped("other-app").get_world(wid)
    with pytest.raises(errors.NotFoundError):
        store.scoped("local", "live").get_world(wid)


def test_gate_failure_raises_gate_error_and_writes_nothing(store: Store) -> None:
    bad = world()
    bad["entrance"]["state"] = "nowhere"
    with pytest.raises(errors.GateError) as info:
        store.create_world(bad)
    assert any(d.lint == "dangling-ref" for d in info.value.diagnostics)
    assert store.list_worlds()["data"] == []


def test_list_pages_with_cursor(store: Store) -> None:
    ids = [store.create_world(world(2, f"W{i}"))["world"]["id"] for i in range(5)]
    first = store.list_worlds(limit=2)
    assert [w["id"] for w in first["data"]] == ids[:2]
    assert first["nextCursor"]
    assert [w["id"] for w in store.iter_worlds(page_size=2)] == ids
    with pytest.raises(errors.BadInputError):
        store.list_worlds(limit=101)


def test_apply_ops_compare_and_set(store: Store) -> None:
    out = store.create_world(world())
    wid, rev = out["world"]["id"], out["rev"]
    r = store.apply_ops(wid, set_base("s1", "a dry sandstone hall"), expected_rev=rev)
    assert r["rev"] != rev
    assert r["applyErrors"] == []
    with pytest.raises(errors.ConflictError):
        store.apply_ops(wid, set_base("s1", "another hall"), expected_rev=rev)
    assert store.get_world(wid)["scene"]["states"]["s1"]["base"] == "a dry sandstone hall"
    with pytest.raises(errors.BadInputError):
        store.apply_ops(wid, [])


def test_patch_delete_and_fork(store: Store) -> None:
    wid = store.create_world(world())["world"]["id"]
    assert store.patch_world(wid, name="Renamed", visibility="public")["world"]["name"] == "Renamed"
    fork = store.scoped("app-2").fork_world(wid, name="Theirs")
    assert fork["world"]["visibility"] == "private"
    assert fork["world"]["scene"] == store.get_world(wid)["scene"]
    assert store.scoped("app-2").versions(fork["world"]["id"])["head"] == fork["head"]
    store.delete_world(wid)
    with pytest.raises(errors.NotFoundError):
        store.get_world(wid)


def test_versions_tree_checkout_and_diff(store: Store) -> None:
    out = store.create_world(world(6))
    wid = out["world"]["id"]
    v1 = store.snapshot(wid, message="first")
    assert v1["head"] is True and v1["parentVersionId"] is None
    edited = store.apply_ops(wid, set_base("s2", "a copper vault"))
    v2 = store.snapshot(wid)
    branch = store.snapshot(wid, parent_version_id=v1["id"], message="branch")
    tree = store.versions(wid)
    assert [v["id"] for v in tree["data"]] == [v1["id"], v2["id"], branch["id"]]
    assert tree["head"] == v2["id"]
    d = store.diff(wid, v1["id"], v2["id"])
    assert d["states"]["changed"] == [{"id": "s2", "fields": ["base"]}]
    assert d["states"]["added"] == [] and d["events"]["changed"] == []
    back = store.checkout(wid, v1["id"], expected_rev=edited["rev"])
    assert back["head"] == v1["id"]
    assert back["world"] == out["world"]
    assert store.get_version(wid, v2["id"])["world"]["scene"]["states"]["s2"]["base"] == "a copper vault"
    with pytest.raises(errors.NotFoundError):
        store.checkout(wid, "no-such-version")


def test_accounts_keys_and_idempotency(store: Store) -> None:
    user = store.create_user("ada@example.com", "correct horse battery")
    with pytest.raises(errors.ConflictError):
        store.create_user("ADA@example.com", "correct horse battery")
    assert store.authenticate_user("ada@example.com", "correct horse battery")["id"] == user["id"]
    with pytest.raises(errors.UnauthorizedError):
        store.authenticate_user("ada@example.com", "not the password")
    app = store.create_app("Game", owner_id=user["id"])
    minted = store.create_key(app["id"], "secret", "live")
    assert minted["key"].startswith("sk_live_")
    assert "key" not in store.list_keys(app["id"])["data"][0]
    assert store.verify_key(minted["key"])["id"] == minted["id"]
    store.revoke_key(app["id"], minted["id"])
    with pytest.raises(errors.UnauthorizedError):
        store.verify_key(minted["key"])
    assert store.idempotency_begin("k", "h")["kind"] == "new"
    assert store.idempotency_begin("k", "h")["kind"] == "in_flight"
    assert store.idempotency_begin("k", "other")["kind"] == "conflict"
    store.idempotency_complete("k", 201, '{"id": 1}')
    assert store.idempotency_begin("k", "h") == {"kind": "replay", "status": 201, "body": '{"id": 1}'}


def test_meters_jobs_and_webhooks(store: Store) -> None:
    store.set_meter_limit("app", "edit", 2)
    r1 = store.meter_reserve("app", "edit")
    store.meter_reserve("app", "edit")
    with pytest.raises(errors.QuotaExceededError):
        store.meter_reserve("app", "edit")
    store.meter_refund(r1["id"])
    usage = store.usage("app")
    assert usage["meters"]["edit"] == {"used": 0, "reserved": 1, "limit": 2}
    job = store.create_job("generate", {"premise": "an abbey"})
    claimed = store.claim_job("worker-1")
    assert claimed is not None and claimed["id"] == job["id"]
    assert store.complete_job(job["id"], {"worldId": "w"})["status"] == "succeeded"
    app = store.create_app("Hooks")
    hook = store.create_webhook(app["id"], "https://example.com/h", ["world.generation.succeeded"])
    assert hook["secret"].startswith("whsec_")
    store.scoped(app["id"]).enqueue_event("world.generation.succeeded", {"worldId": "w"})
    (delivery,) = store.claim_deliveries()
    assert delivery["body"]["data"] == {"worldId": "w"}
    assert store.record_delivery(delivery["id"], 200, True)["status"] == "succeeded"


def test_corrupt_and_foreign_files_fail_at_open(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database, just text" * 10)
    with pytest.raises(errors.StorageError):
        Store(junk)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    with pytest.raises(errors.StorageError):
        Store(other)


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as s:
        wid = s.create_world(world())["world"]["id"]
    with Store(path, read_only=True) as ro:
        assert ro.get_world(wid)["name"] == "Sample"
        with pytest.raises(errors.StorageError):
            ro.apply_ops(wid, set_base("s1", "a hall"))


def _cli(argv: list[str]) -> tuple[int, str]:
    import argparse
    import io

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    out = io.StringIO()
    return args.handler(args, out, None), out.getvalue()


def test_cli_check_and_backup(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as s:
        wid = s.create_world(world())["world"]["id"]
        s.snapshot(wid)
    code, text = _cli(["store", "check", "--store", str(path)])
    assert code == 0 and "OK" in text
    code, _ = _cli(["store", "backup", str(tmp_path / "b.db"), "--store", str(path)])
    assert code == 0
    with Store(tmp_path / "b.db") as b:
        assert b.get_world(wid)["name"] == "Sample"
    code, _ = _cli(["store", "backup", str(tmp_path / "b.db"), "--store", str(path)])
    assert code == 1  # exists, no --force
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("DELETE FROM blobs WHERE hash IN (SELECT hash FROM blobs WHERE base IS NULL LIMIT 1)")
    con.commit()
    con.close()
    code, text = _cli(["store", "check", "--store", str(path)])
    assert code == 1 and "FAILED" in text


def _race_process(path: str, wid: str, rounds: int, tag: str, queue: Any) -> None:
    s = Store(path)
    ok = 0
    granted = 0
    for i in range(rounds):
        while True:
            g = s.get_graph(wid)
            base = g["world"]["scene"]["states"]["s0"]["base"]
            try:
                out = s.apply_ops(wid, set_base("s0", f"{base} #{tag}-{i}"), expected_rev=g["rev"])
                assert out["applyErrors"] == [], out["applyErrors"]
                assert out["rev"] != g["rev"]
                ok += 1
                break
            except errors.ConflictError:
                continue
        try:
            r = s.meter_reserve("app", "session")
            s.meter_commit(r["id"])
            granted += 1
        except errors.QuotaExceededError:
            pass
    queue.put((ok, granted))


def test_threads_and_processes_race_without_lost_updates(tmp_path: Path) -> None:
    # Several pytest sessions may share /tmp/pytest-of-<user>; a private
    # directory keeps another session's cleanup away from the live store.
    private = Path(tempfile.mkdtemp(prefix="conjure-race-"))
    path = str(private / "race.db")
    s = Store(path)
    wid = s.create_world(world())["world"]["id"]
    s.set_meter_limit("app", "session", 50)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_race_process, args=(path, wid, 10, f"p{p}", queue)) for p in range(2)]
    for p in procs:
        p.start()
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    class Q:
        def put(self, item: tuple[int, int]) -> None:
            with lock:
                results.append(item)

    threads = [threading.Thread(target=_race_process, args=(path, wid, 10, f"t{t}", Q())) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
        results.append(queue.get(timeout=10))
    assert sum(r[0] for r in results) == 100
    assert s.get_graph(wid)["rev"].startswith("101-")  # one create + 100 writes
    base = s.get_world(wid)["scene"]["states"]["s0"]["base"]
    marks = base.split(" #")[1:]
    assert len(marks) == 100, sorted(marks)  # every acknowledged write survived
    granted = sum(r[1] for r in results)
    meters = s.usage("app")["meters"]["session"]
    assert granted == 50 and meters["used"] == 50 and meters["reserved"] == 0
    s.close()
    shutil.rmtree(private, ignore_errors=True)
