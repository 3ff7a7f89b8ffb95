"""Characters (RUNTIME.md "Characters"): CRUD with a secret key; the talk turn and the voice with a session token."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from conjure.characters import brain as _brain
from conjure.characters import voice as _voice
from conjure.errors import BadInputError, ForbiddenError, NotFoundError
from conjure.server.deps import Secret, ServerState, _bearer, session_claims, state_of
from conjure.server.errors import ApiError, json_response
from conjure.server.routing import etag, expected_rev
from conjure.server.schemas import (
    CharacterList,
    CharacterWriteResult,
    CreateCharacterRequest,
    SayRequest,
    SayResult,
    TtsRequest,
)
from conjure.server.views import Cursor, Limit, errors, metered_app, router

TAG = "Characters"
r = router(TAG)                         # secret-key CRUD (idempotent POSTs)
_player = APIRouter(tags=[TAG])         # session-token endpoints (a talk turn is never replayed)
IF_MATCH = {"parameters": [{"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                             "description": "the rev you last read; a mismatch is 409"}]}
MAX_PLAYER_BODY = 16 * 1024
CHARS_PER_SECOND = 12.0     # a generous speaking speed, to reserve tts_seconds before synthesis


def _summary(info: dict[str, Any]) -> dict[str, Any]:
    return {"id": info["id"], "name": info.get("name") or None, "createdAt": info["createdAt"],
            "updatedAt": info["updatedAt"]}


def _write(result: dict[str, Any], status: int = 200) -> Response:
    return json_response(result, status, {"ETag": etag(result["rev"])})


@r.post(
    "/v1/characters",
    status_code=201,
    summary="Create a character",
    description="`{character}`: a stance graph (states are stances, events stance changes whose `base` is the "
    "trigger) with a `brain` `{persona, lore, voice}`. It passes the kernel gate (the `character-…` lints); "
    "the server assigns its `id`. `kind` is set to \"character\".",
    responses={201: {"model": CharacterWriteResult}, **errors(403, 409, 422)},
)
def create_character(body: CreateCharacterRequest, request: Request, key: Secret) -> Response:
    st = state_of(request)
    doc = dict(body.character)
    doc["kind"] = "character"
    return _write(st.call(st.scoped(key).create_character, doc), 201)


@r.get(
    "/v1/characters",
    summary="List your characters",
    description="Oldest first, cursor paginated, in the key's mode.",
    responses={200: {"model": CharacterList}, **errors(403)},
)
def list_characters(request: Request, key: Secret, limit: Limit = 20, cursor: Cursor = None) -> Response:
    st = state_of(request)
    page = st.call(st.scoped(key).list_characters, limit, cursor)
    return json_response({"data": [_summary(x) for x in page["data"]], "nextCursor": page.get("nextCursor") or None})


@r.get(
    "/v1/characters/{id}",
    summary="Get a character",
    description="The character document; `ETag` is its rev.",
    responses={200: {"model": CharacterWriteResult}, **errors(403, 404)},
)
def get_character(id: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    got = st.call(st.scoped(key).get_character, str(id))
    return json_response(got["character"], 200, {"ETag": etag(got["rev"])})


@r.patch(
    "/v1/characters/{id}",
    summary="Update a character",
    description="A JSON merge patch of the document (`null` deletes a field; `id` and `kind` stay). The result "
    "passes the gate again. With `If-Match`, a rev mismatch is 409.",
    responses={200: {"model": CharacterWriteResult}, **errors(403, 404, 409, 422)},
    openapi_extra=IF_MATCH,
)
async def patch_character(id: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    try:
        patch = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadInputError("the request body is not valid JSON", code="malformed_json") from None
    if not isinstance(patch, dict) or not patch:
        raise BadInputError("the body is a JSON merge patch: an object with the fields to change", code="bad_input")
    rev = expected_rev(request)
    result = await run_in_threadpool(st.call, st.scoped(key).patch_character, str(id), patch, rev)
    return _write(result)


@r.delete(
    "/v1/characters/{id}",
    status_code=204,
    summary="Delete a character",
    description="409 `character_placed` naming the worlds while any world places it. With `If-Match`, a rev "
    "mismatch is 409.",
    responses={204: {"description": "Deleted"}, **errors(403, 404, 409)},
    openapi_extra=IF_MATCH,
)
def delete_character(id: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    st.call(st.scoped(key).delete_character, str(id), expected_rev(request))
    return Response(status_code=204)


# ---------------------------------------------------------------- the player's calls
async def _player_text(request: Request, model: type[SayRequest] | type[TtsRequest]) -> str:
    raw = await request.body()
    if len(raw) > MAX_PLAYER_BODY:
        raise BadInputError(f"the body is larger than {MAX_PLAYER_BODY} bytes; say at most 1,000 characters",
                            code="bad_input")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadInputError("the request body is not valid JSON (UTF-8)", code="malformed_json") from None
    if not isinstance(data, dict) or set(data) != {"text"} or not isinstance(data["text"], str):
        raise BadInputError('the body is {"text": "..."}', code="invalid_request")
    text = data["text"]
    if not text.strip():
        raise BadInputError("text: say something (1-1,000 characters)", code="invalid_request")
    if len(text) > _voice.MAX_CHARS:
        raise BadInputError(f"text: at most {_voice.MAX_CHARS} characters, not {len(text)}", code="invalid_request")
    return text


async def _player_claims(request: Request) -> dict[str, Any]:
    """The session token's claims: a key on these endpoints is a 403 (they are the player's calls)."""
    token = _bearer(request)
    if token is not None and token.startswith(("sk_", "pk_")):
        raise ForbiddenError("talking to a character is the player's call: use a session token (st_…)",
                             code="forbidden")
    return await session_claims(request)


def _placed_character(st: ServerState, claims: dict[str, Any], character_id: str) -> tuple[Any, dict[str, Any]]:
    """The token's scope and the character, when the token's world places it (404 otherwise)."""
    scoped = st.store.scoped(claims["app"], claims["mode"])
    world = st.call(scoped.get_graph, claims["world"])["world"]
    placed = world.get("characters") if isinstance(world, dict) else None
    if not isinstance(placed, list) or not any(isinstance(p, dict) and p.get("id") == character_id for p in placed):
        raise NotFoundError("character not found in this session's world", code="not_found")
    character = st.call(scoped.get_character, character_id)["character"]
    return scoped, character


def _say(st: ServerState, claims: dict[str, Any], character_id: str, text: str) -> dict[str, Any]:
    scoped, character = _placed_character(st, claims, character_id)
    talk = _brain.ProviderBrain(st.settings.agent()).talk if st.settings.agent_provider == "openai" else _brain.talk
    with metered_app(st, str(claims["app"]), "say"):
        memory = st.call(scoped.get_talk, str(claims["jti"]), character_id)
        turn = talk(character, memory, text)
        st.call(scoped.put_talk, str(claims["jti"]), character_id, turn.memory, int(claims["exp"]))
    out: dict[str, Any] = {"reply": turn.reply, "stance": turn.stance}
    if turn.fired:
        out["fired"] = turn.fired
    return out


@_player.post(
    "/v1/characters/{id}/say",
    summary="Talk to a character",
    description="Bearer `st_…` of a world that places the character. One talk turn: `{reply, stance, fired?}` "
    "(`fired`: the stance event that fired). The stance and the last turns are kept per session in the store. "
    "Charges one `say` unit (402 past the quota). A key is a 403; another world's or app's token a 404.",
    responses={200: {"model": SayResult}, **errors(402, 403, 404)},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": SayRequest.model_json_schema()}}}},
)
async def say(id: UUID, request: Request) -> Response:
    claims = await _player_claims(request)
    text = await _player_text(request, SayRequest)
    st = state_of(request)
    return json_response(await run_in_threadpool(_say, st, claims, str(id), text))


_POOL_LOCK = threading.Lock()


def voice_pool(request: Request) -> _voice.VoicePool:
    """The app's voice pool, started on first use (the worker processes load the model once)."""
    app = request.app
    with _POOL_LOCK:
        pool = getattr(app.state, "voice_pool", None)
        if pool is None:
            s = state_of(request).settings
            pool = app.state.voice_pool = _voice.VoicePool(
                workers=s.voice_workers, queue=s.voice_queue)
    return pool


@_player.post(
    "/v1/characters/{id}/tts",
    summary="Hear a character",
    description="Bearer `st_…` as for `say`. `{text}` (at most 1,000 characters) spoken in the character's "
    "voice: `audio/wav` (RIFF, 16-bit PCM, mono). Piper (neural) by default, espeak-ng when the character "
    "asks for it or Piper is not installed. Synthesis runs on a bounded worker pool: 503 `voice_busy` "
    "(with Retry-After) when it is full. Charges `tts_seconds` (reserved before, the real length after).",
    responses={200: {"description": "The speech", "content": {"audio/wav": {}}}, **errors(402, 403, 404)},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": TtsRequest.model_json_schema()}}}},
)
async def tts(id: UUID, request: Request) -> Response:
    claims = await _player_claims(request)
    text = await _player_text(request, TtsRequest)
    st = state_of(request)
    _, character = await run_in_threadpool(_placed_character, st, claims, str(id))
    spec = _voice.VoiceSpec.of(character)
    estimate = max(1, math.ceil(len(text) / CHARS_PER_SECOND / spec.rate * 1.5))
    pool = voice_pool(request)
    with metered_app(st, str(claims["app"]), "tts_seconds", estimate) as spend:
        try:
            future = pool.submit(text, spec)
        except _voice.VoiceBusy as exc:
            raise ApiError(503, "voice_busy", str(exc), headers={"Retry-After": "2"}) from None
        except _voice.VoiceUnavailable as exc:
            raise ApiError(503, "voice_unavailable", str(exc)) from None
        try:
            wav = await asyncio.wrap_future(future)
        except Exception as exc:  # noqa: BLE001 - an engine that failed on this text; nothing is charged
            raise ApiError(503, "voice_failed", f"the voice engine failed ({type(exc).__name__}); retry later") from None
        spend.used = min(estimate, max(1, math.ceil(_voice.wav_seconds(wav))))
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "no-store"})


r.include_router(_player)
