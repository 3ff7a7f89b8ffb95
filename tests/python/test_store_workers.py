"""Store calls of the server's readers and workers: the graph as text, caller-scheduled
delivery retries, the attempt log, and a generation job completed in one transaction."""

from __future__ import annotations

import json

import pytest

from conjure import Store
from conjure.errors import BadInputError, ConflictError, GateError, NotFoundError


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "s.db") as s:
        yield s


def _world(name: str = "Abbey") -> dict:
    return {
        "name": name,
        "entrance": {"state": "hall"},
        "scene": {
            "states": {
                "hall": {"base": "a vaulted stone hall lit by tall windows, dust in the air"},
                "cloister": {"base": "a square cloister around a quiet garden, moss on the stones",
                             "ending": {"kind": "win", "title": "Out"}},
            },
            "events": [{"name": "Walk out", "kind": "transition", "from": ["hall"], "to": "cloister"}],
        },
    }


def test_get_graph_json_is_the_stored_graph_as_text(store):
    created = store.create_world(_world())
    wid = created["world"]["id"]
    text, rev = store.get_graph_json(wid)
    assert isinstance(text, str) and rev == created["rev"]
    assert json.loads(text) == store.get_graph(wid)["world"]
    with pytest.raises(NotFoundError):
        store.scoped("other").get_graph_json(wid)


def test_record_delivery_keeps_the_callers_schedule_and_lists_attempts(store):
    app = store.create_app("Game")
    store.create_webhook(app["id"], "https://example.com/h", ["*"])
    store.scoped(app["id"]).enqueue_event("world.edited", {"worldId": "w"})
    (d,) = store.claim_deliveries()
    assert store.list_delivery_attempts(d["id"]) == []
    assert store.record_delivery(d["id"], 500, False, "HTTP 500", next_attempt_in=0)["status"] == "pending"
    (again,) = store.claim_deliveries()  # due at once, not after the built-in minute
    assert again["id"] == d["id"] and again["attempt"] == 1
    failed = store.record_delivery(d["id"], 0, False, "timeout", next_attempt_in=-1)
    assert failed["status"] == "failed" and failed["nextAttemptAt"] is None
    attempts = store.list_delivery_attempts(d["id"])
    assert [(a["attempt"], a["status"], a["responseStatus"], a["error"]) for a in attempts] == [
        (1, "pending", 500, "HTTP 500"), (2, "failed", None, "timeout")]
    assert all(a["createdAt"] for a in attempts)
    with pytest.raises(ConflictError):
        store.record_delivery(d["id"], 200, True)
    with pytest.raises(NotFoundError):
        store.list_delivery_attempts("no-such-delivery")
    with pytest.raises(BadInputError):
        store.record_delivery(d["id"], 200, True, next_attempt_in=float("inf"))


def test_complete_generation_job_is_one_transaction(store):
    app = store.create_app("Game")
    scoped = store.scoped(app["id"], "live")
    store.create_webhook(app["id"], "https://example.com/h", ["world.generation.succeeded"])
    job = scoped.create_job("generate", {"premise": "an abbey"})
    assert store.claim_job("w1")["id"] == job["id"]
    done = store.complete_generation_job(job["id"], _world(), "world.generation.succeeded")
    wid, rev = done["world"]["world"]["id"], done["world"]["rev"]
    assert done["job"]["status"] == "succeeded" and done["job"]["result"] == {"worldId": wid, "rev": rev}
    assert done["event"]["data"] == {"jobId": job["id"], "worldId": wid, "rev": rev}
    assert scoped.get_graph(wid)["rev"] == rev and scoped.get_job(job["id"])["status"] == "succeeded"
    (delivery,) = store.claim_deliveries()
    assert delivery["body"]["data"]["worldId"] == wid
    with pytest.raises(ConflictError):  # a rerun of the same job: no second world
        store.complete_generation_job(job["id"], _world(), "world.generation.succeeded")
    assert len(scoped.list_worlds()["data"]) == 1

    job2 = scoped.create_job("generate", {})
    store.claim_job("w1")
    bad = _world()
    bad["entrance"] = {"state": "nowhere"}
    with pytest.raises(GateError):
        store.complete_generation_job(job2["id"], bad, "world.generation.succeeded")
    assert scoped.get_job(job2["id"])["status"] == "running"
    assert len(scoped.list_worlds()["data"]) == 1 and store.claim_deliveries() == []
