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
        view.app_id = app_id
        view.mode = mode
        return view

    def close(self) -> None:
        """Closes the store; later calls raise BadInputError."""
        self._native.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._path!r}, app_id={self.app_id!r}, mode={self.mode!r})"

    # ------------------------------------------------------------ worlds
    def create_world(self, world: World | str | bytes) -> dict[str, Any]:
        """Creates a world from a document (dict or JSON text); the store assigns its ``id``.

        Returns ``{world, diagnostics, rev}``. Raises GateError when the gate refuses it.
        """
        return self._native.create_world(self.app_id, self.mode, world, self._limits)

    import_world = create_world

    def get_world(self, world_id: str) -> World:
        """The world's stored document."""
        return self._native.get_graph(self.app_id, self.mode, world_id)["world"]

    def get_graph(self, world_id: str) -> dict[str, Any]:
        """``{world, rev}``: the working graph and its revision token."""
        return self._native.get_graph(self.app_id, self.mode, world_id)

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
        return self._native.patch_world(self.app_id, self.mode, world_id, body, _s(expected_rev), self._limits)

    def delete_world(self, world_id: str) -> None:
        """Deletes the world: every later call on it raises NotFoundError."""
        self._native.delete_world(self.app_id, self.mode, world_id)

    def fork_world(self, world_id: str, name: str | None = None) -> dict[str, Any]:
        """Copies an own world (or another app's public one) into a new private world.

        The copy shares its content with the source by reference and starts with
        one version. Returns the new world's ``{world, diagnostics, rev, head}``.
        """
        return self._native.fork_world(self.app_id, self.mode, world_id, _s(name), self._limits)

    def apply_ops(self, world_id: str, ops: list[dict[str, Any]], expected_rev: str | None = None) -> dict[str, Any]:
        """Applies a batch of graph ops, then the gate once; ``{world, diagnostics, rev, applyErrors}``.

        Raises ConflictError when ``expected_rev`` is given and is not the current rev.
        """
        return self._native.apply_ops(self.app_id, self.mode, world_id, ops, _s(expected_rev), self._limits)

    def put_world(self, world_id: str, world: World | str | bytes, expected_rev: str | None = None) -> dict[str, Any]:
        """Replaces the whole working graph (gated); the world keeps its id."""
        return self._native.put_world(self.app_id, self.mode, world_id, world, _s(expected_rev), self._limits)

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
        return self._native.checkout(self.app_id, self.mode, world_id, version_id, _s(expected_rev), self._limits)

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

    # ------------------------------------------------------------ webhooks and outbox
    def create_webhook(self, app_id: str, url: str, events: list[str], description: str = "") -> dict[str, Any]:
        """Registers an endpoint; its ``secret`` (``whsec_…``) is returned here only."""
        return self._native.create_webhook(app_id, url, events, description)

    def list_webhooks(self, app_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self._native.list_webhooks(app_id, limit, _s(cursor))

    def delete_webhook(self, app_id: str, webhook_id: str) -> None:
        self._native.delete_webhook(app_id, webhook_id)

    def enqueue_event(self, type: str, data: Any) -> dict[str, Any]:
        """Records an event and a pending delivery per subscribed endpoint, atomically."""
        return self._native.enqueue_event(self.app_id, self.mode, type, data)

    def claim_deliveries(self, limit: int = 10, lease_seconds: int = 60) -> list[dict[str, Any]]:
        return self._native.claim_deliveries(limit, lease_seconds)

    def record_delivery(self, delivery_id: str, response_status: int, success: bool, error: str = "") -> dict[str, Any]:
        return self._native.record_delivery(delivery_id, response_status, success, error)

    def list_deliveries(
        self, app_id: str, webhook_id: str, limit: int = 20, cursor: str | None = None
    ) -> dict[str, Any]:
        return self._native.list_deliveries(app_id, webhook_id, limit, _s(cursor))

    # ------------------------------------------------------------ maintenance
    def check(self) -> dict[str, Any]:
        """Integrity report: ``{ok, integrity, foreignKeys, missingBlobs, orphanBlobs, blobs, versions, worlds}``."""
        return self._native.check()

    def backup(self, path: str | os.PathLike[str]) -> None:
        """Copies the store to ``path`` with SQLite's online backup (writers may keep going)."""
        self._native.backup(os.fspath(path))
