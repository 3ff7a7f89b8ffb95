"""The conjure store: worlds, their revisions and their version tree on disk.

``conjure.Store(path)`` opens (or creates) a store on one SQLite file. Every call
runs in the native core with the GIL released and returns plain data (dicts and
lists shaped like the HTTP bodies of the API). Every write is one transaction;
every write that persists a world runs the kernel gate inside it, so a refused
world raises :class:`conjure.errors.GateError` and leaves nothing behind.

A store is shared by a notebook and a server alike: open it from many threads
or processes at once. World calls act within one scope, an ``(app_id, mode)``
pair; a world of another scope is :class:`~conjure.errors.NotFoundError`.
``Store(path)`` uses the scope ``("local", "test")`` unless told otherwise, and
``store.scoped(app_id, mode)`` gives a view of the same store in another scope.

Play sessions follow RUNTIME.md's two-token rule: a scoped view mints session
tokens (``st_…``) for a world; :meth:`Store.verify_session_token`,
:meth:`Store.admit_session`, :meth:`Store.consume_connect_token`,
:meth:`Store.bind_session` and :meth:`Store.settle_session` take them from there.
The signing keys never leave the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from conjure import _core

__all__ = ["Store"]

World = dict[str, Any]


def _s(value: str | None) -> str:
    return "" if value is None else value


def _plugin_list(plugins: Any) -> list[Any]:
    """``True``: the active plugin lints (:func:`conjure.plugins.active_plugins`), now;
    ``None``/``False``: none; else the given lints."""
    if plugins is True:
        from conjure.plugins import active_plugins

        return active_plugins()
    if plugins is None or plugins is False:
        return []
    return list(plugins)


class Store:
    """A conjure store on one SQLite file.

    Args:
        path: the database file (created with its schema when absent).
        app_id: the app whose worlds the world calls see (default ``"local"``).
        mode: ``"test"`` or ``"live"``.
        server_secret: the key of the keyed hashes of API keys; by default a
            random secret generated once and kept in the store.
        busy_timeout: seconds to wait for another writer before a StorageError.
        read_only: open without writing; every write raises StorageError.
        max_bytes: a cap on the file size (0: none); past it writes raise StorageError.
        default_meter_limit: the daily limit of a usage meter unless set per app.
        limits: a ``conjure._core.Limits`` for the gate (None: the defaults).
        plugins: the plugin lints every gated write runs inside its transaction:
            ``True`` (default) the active ones of :mod:`conjure.plugins`, looked up at
            each write; ``False``/``None`` none; or a list of lints.

    Raises:
        StorageError: the file is corrupt, not a conjure store, or from a newer version.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        app_id: str = "local",
        mode: str = "test",
        server_secret: str | None = None,
        busy_timeout: float = 10.0,
        read_only: bool = False,
        max_bytes: int = 0,
        default_meter_limit: int = 1000,
        limits: Any = None,
        plugins: Any = True,
    ) -> None:
        self._native = _core.Store(
            os.fspath(path),
            server_secret=_s(server_secret),
            busy_timeout_ms=int(busy_timeout * 1000),
            read_only=read_only,
            max_bytes=max_bytes,
            default_meter_limit=default_meter_limit,
        )
        self._path = os.fspath(path)
        self.app_id = app_id
        self.mode = mode
        self._limits = limits
        self._plugins = plugins

    # ------------------------------------------------------------ lifecycle
    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    def scoped(self, app_id: str, mode: str = "test") -> Store:
        """A view of this store acting as another app and mode (same file, same connections)."""
        view = object.__new__(Store)
        view._native = self._native
        view._path = self._path
        view._limits = self._limits
        view._plugins = self._plugins
        view.app_id = app_id
        view.mode = mode
        return view

    def close(self) -> None:
        """Closes the store; later calls raise StorageError."""
        self._native.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._path!r}, app_id={self.app_id!r}, mode={self.mode!r})"

    def _lints(self) -> list[Any]:
        return _plugin_list(self._plugins)

    def plugin_lints(self) -> list[Any]:
        """The plugin lints every gated write of this store runs (what a dry-run gate must run too)."""
        return self._lints()

    # ------------------------------------------------------------ characters
    def create_character(self, character: dict[str, Any] | str | bytes) -> dict[str, Any]:
        """Creates a character (a stance graph with a brain; ``kind`` is set to "character").

        Returns ``{character, diagnostics, rev}``. Raises GateError when the gate refuses it.
        """
        return self._native.create_character(self.app_id, self.mode, character, self._limits, self._lints())

    def get_character(self, character_id: str) -> dict[str, Any]:
        """``{character, rev}``."""
        return self._native.get_character(self.app_id, self.mode, character_id)

    def list_characters(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        """One page of characters, oldest first: ``{data: [{id, name, createdAt, updatedAt, rev}], nextCursor}``."""
        return self._native.list_characters(self.app_id, self.mode, limit, _s(cursor))

    def patch_character(self, character_id: str, patch: dict[str, Any], expected_rev: str | None = None) -> dict[str, Any]:
        """Applies a JSON merge patch (``id`` and ``kind`` stay); the result passes the gate again."""
        return self._native.patch_character(
            self.app_id, self.mode, character_id, patch, _s(expected_rev), self._limits, self._lints()
        )

    def delete_character(self, character_id: str, expected_rev: str | None = None) -> None:
        """Deletes the character and its talk memories; ConflictError naming the worlds that place it."""
        self._native.delete_character(self.app_id, self.mode, character_id, _s(expected_rev))

    def get_talk(self, session: str, character_id: str) -> dict[str, Any] | None:
        """The talk memory of a session (its token's jti) with a character, or None."""
        return self._native.get_talk(self.app_id, self.mode, session, character_id)

    def put_talk(self, session: str, character_id: str, memory: dict[str, Any], expires_unix: int) -> None:
        """Keeps a talk memory (at most 16 KiB of JSON) until ``expires_unix``."""
        self._native.put_talk(self.app_id, self.mode, session, character_id, memory, int(expires_unix))

    # ------------------------------------------------------------ worlds
    def create_world(self, world: World | str | bytes) -> dict[str, Any]:
        """Creates a world from a document (dict or JSON text); the store assigns its ``id``.

        Returns ``{world, diagnostics, rev}``. Raises GateError when the gate refuses it.
        """
        return self._native.create_world(self.app_id, self.mode, world, self._limits, self._lints())

    import_world = create_world

    def get_world(self, world_id: str) -> World:
        """The world's stored document."""
        return self._native.get_graph(self.app_id, self.mode, world_id)["world"]

    def get_graph(self, world_id: str) -> dict[str, Any]:
        """``{world, rev}``: the working graph and its revision token."""
        return self._native.get_graph(self.app_id, self.mode, world_id)

    def get_graph_json(self, world_id: str) -> tuple[str, str]:
        """``(text, rev)``: the working graph as the canonical JSON text the store keeps, unparsed.

        ``json.loads(text)`` equals ``get_graph(world_id)["world"]``; the read costs no
        parse and no Python objects (for serving the document as it is).
        """
        text, rev = self._native.get_graph_json(self.app_id, self.mode, world_id)
        return text, rev

    def world_info(self, world_id: str) -> dict[str, Any]:
        """The world's metadata: id, name, description, cover, visibility, timestamps, rev, head."""
        return self._native.get_world_info(self.app_id, self.mode, world_id)

    def list_worlds(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        """One page of worlds, oldest first: ``{data: [...], nextCursor}``."""
        return self._native.list_worlds(self.app_id, self.mode, limit, _s(cursor))

    def iter_worlds(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every world of the scope, page by page."""
        cursor: str | None = None
        while True:
            page = self.list_worlds(page_size, cursor)
            yield from page["data"]
            cursor = page["nextCursor"]
            if not cursor:
                return

    def patch_world(
        self, world_id: str, patch: dict[str, Any] | None = None, *, expected_rev: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Changes metadata (name, description, cover, visibility; None deletes a field)."""
        body = dict(patch or {})
        body.update(fields)
        return self._native.patch_world(
            self.app_id, self.mode, world_id, body, _s(expected_rev), self._limits, self._lints()
        )

    def delete_world(self, world_id: str, expected_rev: str | None = None) -> None:
        """Deletes the world: every later call on it raises NotFoundError.

        With ``expected_rev`` the delete is a compare-and-delete: ConflictError (and
        nothing deleted) when the world is no longer at that rev.
        """
        self._native.delete_world(self.app_id, self.mode, world_id, _s(expected_rev))

    def fork_world(self, world_id: str, name: str | None = None) -> dict[str, Any]:
        """Copies an own world (or another app's public one) into a new private world.

        The copy shares its content with the source by reference and starts with
        one version. Returns the new world's ``{world, diagnostics, rev, head}``.
        """
        return self._native.fork_world(self.app_id, self.mode, world_id, _s(name), self._limits, self._lints())

    def apply_ops(self, world_id: str, ops: list[dict[str, Any]], expected_rev: str | None = None) -> dict[str, Any]:
        """Applies a batch of graph ops, then the gate once; ``{world, diagnostics, rev, applyErrors}``.

        Raises ConflictError when ``expected_rev`` is given and is not the current rev.
        """
        return self._native.apply_ops(
            self.app_id, self.mode, world_id, ops, _s(expected_rev), self._limits, self._lints()
        )

    def put_world(self, world_id: str, world: World | str | bytes, expected_rev: str | None = None) -> dict[str, Any]:
        """Replaces the whole working graph (gated); the world keeps its id."""
        return self._native.put_world(
            self.app_id, self.mode, world_id, world, _s(expected_rev), self._limits, self._lints()
        )

    # ------------------------------------------------------------ versions
    def snapshot(self, world_id: str, parent_version_id: str | None = None, message: str = "") -> dict[str, Any]:
        """Snapshots the working graph; onto HEAD it advances HEAD, onto an older version it branches."""
        return self._native.snapshot(self.app_id, self.mode, world_id, _s(parent_version_id), message)

    def versions(self, world_id: str) -> dict[str, Any]:
        """The version tree, oldest first: ``{data: [{id, parentVersionId, message, createdAt, head}], head}``."""
        return self._native.list_versions(self.app_id, self.mode, world_id)

    def get_version(self, world_id: str, version_id: str) -> dict[str, Any]:
        """One version with its full ``world``."""
        return self._native.get_version(self.app_id, self.mode, world_id, version_id)

    def checkout(self, world_id: str, version_id: str, expected_rev: str | None = None) -> dict[str, Any]:
        """Sets the working graph to a version and moves HEAD there, atomically, with a new rev."""
        return self._native.checkout(
            self.app_id, self.mode, world_id, version_id, _s(expected_rev), self._limits, self._lints()
        )

    def diff(self, world_id: str, a: str, b: str) -> dict[str, Any]:
        """Structural diff of two versions: states, events, entrance and slots added, removed, changed."""
        return self._native.diff(self.app_id, self.mode, world_id, a, b)

    # ------------------------------------------------------------ users, apps, keys
    def create_user(self, email: str, password: str) -> dict[str, Any]:
        """Signs a user up (password kept only as a scrypt hash). ConflictError when the email is taken."""
        return self._native.create_user(email, password)

    def get_user(self, user_id: str) -> dict[str, Any]:
        return self._native.get_user(user_id)

    def authenticate_user(self, email: str, password: str) -> dict[str, Any]:
        """The user for a correct email and password; UnauthorizedError otherwise."""
        return self._native.authenticate_user(email, password)

    def create_app(self, name: str, owner_id: str | None = None) -> dict[str, Any]:
        return self._native.create_app(_s(owner_id), name)

    def get_app(self, app_id: str) -> dict[str, Any]:
        return self._native.get_app(app_id)

    def list_apps(self, owner_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self._native.list_apps(owner_id, limit, _s(cursor))

    def create_key(self, app_id: str, type: str, mode: str, name: str = "") -> dict[str, Any]:
        """Mints a key; the plaintext is in ``key`` here and nowhere else (the store keeps a keyed hash)."""
        return self._native.create_key(app_id, type, mode, name)

    def list_keys(self, app_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self._native.list_keys(app_id, limit, _s(cursor))

    def revoke_key(self, app_id: str, key_id: str) -> dict[str, Any]:
        return self._native.revoke_key(app_id, key_id)

    def find_user(self, email: str) -> dict[str, Any] | None:
        """The user with this email (case-insensitive), or None."""
        return self._native.find_user(email)

    def issue_user_token(self, user_id: str, ttl_seconds: int = 7 * 24 * 3600) -> dict[str, Any]:
        """``{token: "us_…", expiresAt}``: a user session token signed inside the core.

        NotFoundError for an unknown user; BadInputError for a ttl outside 60 s .. 366 days.
        """
        return self._native.issue_user_token(user_id, ttl_seconds)

    def verify_user_token(self, token: str) -> dict[str, Any]:
        """The user of a valid ``us_…`` token; UnauthorizedError for a bad, expired or forged one."""
        return self._native.verify_user_token(token)

    def verify_key(self, key: str) -> dict[str, Any]:
        """The metadata of a live key; UnauthorizedError for an unknown or revoked one."""
        return self._native.verify_key(key)

    # ------------------------------------------------------------ idempotency
    def idempotency_begin(self, key: str, request_hash: str) -> dict[str, Any]:
        """``{kind: new|replay|conflict|in_flight}`` (replay adds ``status`` and ``body``)."""
        return self._native.idem_begin(self.app_id, self.mode, key, request_hash)

    def idempotency_complete(self, key: str, status: int, body: str) -> None:
        """Stores the response for 24 h; a 5xx status releases the key instead."""
        self._native.idem_complete(self.app_id, self.mode, key, status, body)

    def idempotency_release(self, key: str) -> None:
        self._native.idem_release(self.app_id, self.mode, key)

    # ------------------------------------------------------------ usage meters
    def meter_reserve(self, app_id: str, meter: str, amount: int = 1, day: str | None = None) -> dict[str, Any]:
        """Reserves ``amount``; QuotaExceededError (nothing charged) past the daily limit."""
        return self._native.meter_reserve(app_id, meter, amount, _s(day))

    def meter_commit(self, reservation_id: str, used: int | None = None) -> dict[str, Any]:
        """Charges the reservation (or ``used`` of it, releasing the rest)."""
        return self._native.meter_commit(reservation_id, -1 if used is None else used)

    def meter_refund(self, reservation_id: str) -> dict[str, Any]:
        return self._native.meter_refund(reservation_id)

    def usage(self, app_id: str, day: str | None = None) -> dict[str, Any]:
        """``{day, meters: {generate|edit|session|session_minutes: {used, reserved, limit}}}``."""
        return self._native.meter_usage(app_id, _s(day))

    def set_meter_limit(self, app_id: str, meter: str, limit: int) -> None:
        self._native.set_meter_limit(app_id, meter, limit)

    # ------------------------------------------------------------ jobs
    def create_job(self, kind: str, payload: Any) -> dict[str, Any]:
        return self._native.create_job(self.app_id, self.mode, kind, payload)

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._native.get_job(self.app_id, self.mode, job_id)

    def claim_job(self, worker: str, lease_seconds: int = 300) -> dict[str, Any] | None:
        """Claims the oldest queued job (or one whose lease expired); None when there is none."""
        return self._native.claim_job(worker, lease_seconds)

    def complete_job(self, job_id: str, result: Any) -> dict[str, Any]:
        return self._native.complete_job(job_id, result)

    def fail_job(self, job_id: str, error: str) -> dict[str, Any]:
        return self._native.fail_job(job_id, error)

    def complete_generation_job(self, job_id: str, world: World | str | bytes, event_type: str) -> dict[str, Any]:
        """Completes a generation job in ONE transaction: creates ``world`` (gated) in the job's
        scope, queues the event ``event_type`` ``{jobId, worldId, rev}`` and marks the job
        succeeded with the result ``{worldId, rev}``.

        Returns ``{job, world: {world, diagnostics, rev}, event}``. ConflictError (nothing
        written) when the job already ended, so a rerun never leaves a second world;
        GateError (nothing written, the job still running) when the gate refuses the world.
        """
        return self._native.complete_generation_job(job_id, world, event_type, self._limits, self._lints())

    # ------------------------------------------------------------ webhooks and outbox
    def create_webhook(self, app_id: str, url: str, events: list[str], description: str = "") -> dict[str, Any]:
        """Registers an endpoint; its ``secret`` (``whsec_…``) is returned here only."""
        return self._native.create_webhook(app_id, url, events, description)

    def list_webhooks(self, app_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self._native.list_webhooks(app_id, limit, _s(cursor))

    def delete_webhook(self, app_id: str, webhook_id: str) -> None:
        self._native.delete_webhook(app_id, webhook_id)

    def get_webhook(self, webhook_id: str) -> dict[str, Any]:
        """A live endpoint by id, with its ``appId`` (any app: the caller checks ownership)."""
        return self._native.get_webhook(webhook_id)

    def enqueue_event(self, type: str, data: Any) -> dict[str, Any]:
        """Records an event and a pending delivery per subscribed endpoint, atomically."""
        return self._native.enqueue_event(self.app_id, self.mode, type, data)

    def claim_deliveries(self, limit: int = 10, lease_seconds: int = 60) -> list[dict[str, Any]]:
        return self._native.claim_deliveries(limit, lease_seconds)

    def record_delivery(
        self,
        delivery_id: str,
        response_status: int,
        success: bool,
        error: str = "",
        next_attempt_in: float | None = None,
    ) -> dict[str, Any]:
        """Records one attempt of a claimed delivery; a success ends it.

        A failure is retried after ``next_attempt_in`` seconds (rounded up; negative: the
        delivery fails now), kept in the store so the schedule survives restarts; None uses
        the built-in backoff (1 min, 5 min, 30 min, 2 h, 8 h; six attempts in all).
        ConflictError once the delivery has ended.
        """
        return self._native.record_delivery(delivery_id, response_status, success, error, next_attempt_in)

    def list_delivery_attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        """Every recorded attempt, oldest first: ``[{attempt, status, responseStatus, error, createdAt}]``.

        ``status`` is ``succeeded`` or ``failed`` for the attempt that ended the delivery and
        ``pending`` for a failed attempt after which it was (or will be) retried;
        ``responseStatus`` is None when no answer came.
        """
        return self._native.list_delivery_attempts(delivery_id)

    def list_deliveries(
        self, app_id: str, webhook_id: str, limit: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        return self._native.list_deliveries(app_id, webhook_id, limit, _s(cursor))

    # ------------------------------------------------------------ play sessions
    def rotate_session_key(self) -> str:
        """Adds a new current session-token signing key; tokens of older keys stay valid until they expire.

        Returns the new key's ``kid``.
        """
        return self._native.rotate_session_key()

    def mint_session_token(
        self, world_id: str, player_id: str, origin: str | None = None, ttl_seconds: int = 600
    ) -> dict[str, Any]:
        """``{token: "st_…", expiresAt, jti}`` for one player of a world of this scope.

        The token carries ``{app, mode, world, player, origin?, exp, jti, kid}``, signed
        with HMAC-SHA256. NotFoundError for a world outside the scope; BadInputError
        for ``ttl_seconds`` outside 1..3600. Charges no meter (the caller meters mints).
        """
        return self._native.mint_session_token(self.app_id, self.mode, world_id, player_id, _s(origin), ttl_seconds)

    def verify_session_token(self, token: str, origin: str | None = None, *, now: float | None = None) -> dict[str, Any]:
        """The claims of a valid session token (any scope).

        UnauthorizedError for a malformed, forged, unknown-key or expired token;
        ForbiddenError when it is bound to an origin other than ``origin``.
        ``now`` (unix seconds) checks expiry as of another moment.
        """
        return self._native.verify_session_token(token, _s(origin), now)

    def admit_session(self, claims: dict[str, Any], *, app_cap: int, global_cap: int, minutes: int = 10) -> dict[str, Any]:
        """Admits a player's session in one transaction.

        Returns ``{sessionId, connectToken: "ct_…", connectExpiresAt, expiresAt}``. Raises
        CapacityError when the app's or the server's live sessions are at their cap,
        ConflictError while this token already has a live session (it may be exchanged
        again once that one is settled), QuotaExceededError when ``minutes`` do not fit
        the app's ``session_minutes`` budget. Nothing is reserved on a refusal. The
        session expires at the token's expiry or when its minutes run out, whichever is first.
        """
        return self._native.admit_session(claims, app_cap, global_cap, minutes)

    def consume_connect_token(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """The session a connect token opens: ``{sessionId, app, mode, world, player, origin, status, expiresAt}``.

        A connect token works once, within 60 s; UnauthorizedError otherwise.
        """
        return self._native.consume_connect_token(token, now)

    def bind_session(self, session_id: str, claims: dict[str, Any]) -> dict[str, Any]:
        """``{sessionId, status: "bound"}`` (idempotent); NotFoundError unless the claims' app owns it."""
        return self._native.bind_session(session_id, claims)

    def settle_session(
        self, session_id: str, seconds_used: int | None = None, claims: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Frees the slot, charges ceil(seconds / 60) of the reserved minutes and refunds the rest.

        Returns ``{sessionId, status: "settled", secondsUsed}``; idempotent (a settled session
        answers as it was settled). ``seconds_used`` None: the time since admission.
        """
        return self._native.settle_session(session_id, -1 if seconds_used is None else seconds_used, claims)

    def reap_sessions(self, now: float | None = None) -> int:
        """Settles sessions past their expiry and admitted ones never connected in time; how many."""
        return self._native.reap_sessions(now)

    def settle_all_active(self, reason: str = "restart") -> int:
        """Settles every live session (call at server start: no slot outlives its server); how many."""
        return self._native.settle_all_active(reason)

    # ------------------------------------------------------------ maintenance
    def check(self) -> dict[str, Any]:
        """Integrity report: ``{ok, integrity, foreignKeys, missingBlobs, orphanBlobs, blobs, versions, worlds}``."""
        return self._native.check()

    def backup(self, path: str | os.PathLike[str]) -> None:
        """Copies the store to ``path`` with SQLite's online backup (writers may keep going)."""
        self._native.backup(os.fspath(path))
