"""Characters over HTTP: CRUD with revs and tenant isolation, placement checked on world writes,
the talk turn and the voice with session tokens, meters, and bad input."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import pytest
from server_helpers import TestClient, import_world, make_settings, make_tenant, small_world

from conjure.characters import voice
from conjure.server import create_app

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "characters"


def keeper() -> dict[str, Any]:
    return json.loads((DATA / "keeper.json").read_text())


def _character(client, tenant, doc=None, kind="sk_test") -> dict[str, Any]:
    r = client.post("/v1/characters", json={"character": doc or keeper()}, headers=tenant.auth(kind))
    assert r.status_code == 201, r.text
    return r.json()


def _placing_world(client, tenant, character_id: str, states=("hall",)) -> str:
    world = small_world()
    world["characters"] = [{"id": character_id, "states": list(states)}]
    return import_world(client, tenant, world=world)["world"]["id"]


def _token(client, tenant, world_id: str, kind="sk_test") -> str:
    r = client.post("/v1/sessions/token", json={"worldId": world_id, "playerId": "p1"}, headers=tenant.auth(kind))
    assert r.status_code == 201, r.text
    return r.json()["token"]


def _st(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def placed(client, tenant):
    cid = _character(client, tenant)["character"]["id"]
    wid = _placing_world(client, tenant, cid)
    return cid, wid, _token(client, tenant, wid)


def test_crud_round_trip_with_revs_if_match_and_cursors(client, tenant):
    made = _character(client, tenant)
    cid, rev = made["character"]["id"], made["rev"]
    assert made["character"]["kind"] == "character" and made["diagnostics"] == []
    r = client.get(f"/v1/characters/{cid}", headers=tenant.auth("sk_test"))
    assert r.status_code == 200 and r.json()["brain"]["persona"] == keeper()["brain"]["persona"]
    assert r.headers["etag"].strip('"') == rev
    r = client.patch(f"/v1/characters/{cid}", json={"brain": {"voice": {"rate": 1.2}}},
                     headers={**tenant.auth("sk_test"), "If-Match": f'"{rev}"'})
    assert r.status_code == 200, r.text
    assert r.json()["character"]["brain"]["voice"] == {"engine": "piper", "name": "en_US-joe-medium", "rate": 1.2}
    assert r.json()["character"]["brain"]["lore"] == keeper()["brain"]["lore"]
    stale = client.patch(f"/v1/characters/{cid}", json={"name": "X"}, headers={**tenant.auth("sk_test"), "If-Match": f'"{rev}"'})
    assert stale.status_code == 409
    for _ in range(2):
        _character(client, tenant)
    first = client.get("/v1/characters?limit=2", headers=tenant.auth("sk_test")).json()
    rest = client.get(f"/v1/characters?limit=2&cursor={first['nextCursor']}", headers=tenant.auth("sk_test")).json()
    assert len(first["data"]) == 2 and len(rest["data"]) == 1 and rest["nextCursor"] is None
    assert client.delete(f"/v1/characters/{cid}", headers=tenant.auth("sk_test")).status_code == 204
    assert client.get(f"/v1/characters/{cid}", headers=tenant.auth("sk_test")).status_code == 404


def test_gate_failures_are_422_and_keys_and_tenants_are_isolated(client, tenant):
    bad = keeper()
    bad["brain"]["persona"] = " "
    r = client.post("/v1/characters", json={"character": bad}, headers=tenant.auth("sk_test"))
    assert r.status_code == 422 and r.json()["diagnostics"][0]["lint"] == "character-persona"
    r = client.post("/v1/characters", json={"character": keeper()}, headers=tenant.auth("pk_test"))
    assert r.status_code == 403
    cid = _character(client, tenant)["character"]["id"]
    assert client.get(f"/v1/characters/{cid}", headers=tenant.auth("sk_live")).status_code == 404
    other = make_tenant(client)
    assert client.get(f"/v1/characters/{cid}", headers=other.auth("sk_test")).status_code == 404
    assert client.delete(f"/v1/characters/{cid}", headers=other.auth("sk_test")).status_code == 404
    bad_patch = client.patch(f"/v1/characters/{cid}", json={"brain": {"voice": {"engine": "festival"}}},
                             headers=tenant.auth("sk_test"))
    assert bad_patch.status_code == 422
    assert client.get(f"/v1/characters/{cid}", headers=tenant.auth("sk_test")).json()["brain"].get("voice", {}).get("engine") != "festival"


def test_a_world_places_only_own_characters_and_a_placed_one_cannot_be_deleted(client, tenant):
    cid = _character(client, tenant)["character"]["id"]
    other = make_tenant(client)
    world = small_world()
    world["characters"] = [{"id": cid, "states": ["hall"]}]
    r = client.post("/v1/worlds", json={"world": world}, headers=other.auth("sk_test"))
    assert r.status_code == 422 and any(d["lint"] == "character-placement" for d in r.json()["diagnostics"])
    r = client.post("/v1/worlds", json={"world": world}, headers=tenant.auth("sk_live"))
    assert r.status_code == 422
    wid = _placing_world(client, tenant, cid)
    r = client.delete(f"/v1/characters/{cid}", headers=tenant.auth("sk_test"))
    assert r.status_code == 409 and wid in r.json()["detail"]
    ops = [{"op": "update_state", "id": "hall", "patch": {"base": "the long hall, a stranger by the fire"}}]
    assert client.post(f"/v1/worlds/{wid}/ops", json={"ops": ops}, headers=tenant.auth("sk_test")).status_code in (200, 201)
    assert client.delete(f"/v1/worlds/{wid}", headers=tenant.auth("sk_test")).status_code == 204
    assert client.delete(f"/v1/characters/{cid}", headers=tenant.auth("sk_test")).status_code == 204


def test_say_keeps_stance_and_memory_per_session_and_meters_say(client, tenant, placed):
    cid, wid, token = placed
    r = client.post(f"/v1/characters/{cid}/say", json={"text": "What fuel does the lamp use?"}, headers=_st(token))
    assert r.status_code == 200, r.text
    assert r.json()["stance"] == "wary" and "fired" not in r.json()
    r = client.post(f"/v1/characters/{cid}/say", json={"text": "Thank you, let me help you carry the cans."},
                    headers=_st(token))
    assert r.json()["fired"] == "Warm up" and r.json()["stance"] == "friendly"
    r = client.post(f"/v1/characters/{cid}/say", json={"text": "Nice evening."}, headers=_st(token))
    assert r.json()["stance"] == "friendly"  # the stance is kept in the store between turns
    fresh = _token(client, tenant, wid)
    assert client.post(f"/v1/characters/{cid}/say", json={"text": "Hello."}, headers=_st(fresh)).json()["stance"] == "wary"
    usage = client.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["say"]
    assert usage["used"] == 4 and usage["reserved"] == 0


def test_say_refuses_keys_foreign_tokens_and_bad_text_without_5xx(client, tenant, placed):
    cid, wid, token = placed
    for kind in ("sk_test", "pk_test"):
        r = client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}, headers=tenant.auth(kind))
        assert r.status_code == 403
    lone = import_world(client, tenant)["world"]["id"]  # places no character
    r = client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}, headers=_st(_token(client, tenant, lone)))
    assert r.status_code == 404
    other = make_tenant(client)
    their = _placing_world(client, other, _character(client, other)["character"]["id"])
    r = client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}, headers=_st(_token(client, other, their)))
    assert r.status_code == 404
    for body in (b'{"text": ""}', b'{"text": "' + b"a" * 1001 + b'"}', b'{"text": "\xff\xfe"}', b"[]",
                 b'{"text": 3}', b"x" * 100_000, b'{"text": "hi", "more": 1}'):
        r = client.post(f"/v1/characters/{cid}/say", content=body, headers={**_st(token), "Content-Type": "application/json"})
        assert r.status_code == 400, (body[:20], r.status_code, r.text)
    assert client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}).status_code == 401


def test_a_character_deleted_mid_conversation_is_a_404(client, tenant, placed):
    cid, wid, token = placed
    assert client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}, headers=_st(token)).status_code == 200
    r = client.patch(f"/v1/worlds/{wid}", json={"characters": None}, headers=tenant.auth("sk_test"))
    assert r.status_code == 200 and "characters" not in r.json()["world"]
    assert client.delete(f"/v1/characters/{cid}", headers=tenant.auth("sk_test")).status_code == 204
    assert client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}, headers=_st(token)).status_code == 404


def test_say_past_the_quota_is_402_and_charges_nothing(tmp_path):
    settings = make_settings(tmp_path, meter_limits={"say": 1})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        tenant = make_tenant(client)
        cid = _character(client, tenant)["character"]["id"]
        token = _token(client, tenant, _placing_world(client, tenant, cid))
        assert client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}, headers=_st(token)).status_code == 200
        r = client.post(f"/v1/characters/{cid}/say", json={"text": "hi"}, headers=_st(token))
        assert r.status_code == 402
        assert client.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["say"]["used"] == 1


@pytest.mark.skipif(not voice.espeak_installed(), reason="Debian's espeak-ng is not installed")
def test_tts_speaks_a_wav_and_meters_its_seconds(client, tenant):
    doc = keeper()
    doc["brain"]["voice"] = {"engine": "espeak-ng", "name": "en-gb", "rate": 1.0, "pitch": 0.4}
    cid = _character(client, tenant, doc)["character"]["id"]
    token = _token(client, tenant, _placing_world(client, tenant, cid))
    r = client.post(f"/v1/characters/{cid}/tts", json={"text": "The lamp burns paraffin."}, headers=_st(token))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav" and r.content[:4] == b"RIFF"
    seconds = voice.wav_seconds(r.content)
    usage = client.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["tts_seconds"]
    assert usage["used"] >= 1 and usage["used"] >= int(seconds) and usage["reserved"] == 0
    assert client.post(f"/v1/characters/{cid}/tts", json={"text": "x" * 1001}, headers=_st(token)).status_code == 400
    assert client.post(f"/v1/characters/{cid}/tts", json={"text": "hi"}, headers=tenant.auth("pk_test")).status_code == 403


def test_tts_answers_503_when_the_voice_pool_is_full(client, tenant, placed, monkeypatch):
    cid, _, token = placed
    from conjure.server.routers import characters as router

    class Full:
        def submit(self, text, spec):
            raise voice.VoiceBusy("all 1 voice workers are busy")

    monkeypatch.setattr(router, "voice_pool", lambda request: Full())
    r = client.post(f"/v1/characters/{cid}/tts", json={"text": "hi"}, headers=_st(token))
    assert r.status_code == 503 and r.json()["code"] == "voice_busy" and "retry-after" in r.headers
    assert client.get("/v1/usage", headers=tenant.auth("sk_test")).json()["meters"]["tts_seconds"]["reserved"] == 0


def test_a_character_document_patch_keeps_id_and_kind(client, tenant):
    made = _character(client, tenant)
    cid = made["character"]["id"]
    r = client.patch(f"/v1/characters/{cid}", json={"id": "other", "kind": "world", "name": "Maren"},
                     headers=tenant.auth("sk_test"))
    assert r.status_code == 200 and r.json()["character"]["id"] == cid and r.json()["character"]["kind"] == "character"
    assert copy.deepcopy(r.json()["character"]["name"]) == "Maren"
