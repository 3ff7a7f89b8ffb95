"""``conjure.Client``: the HTTP API v1 from Python (httpx).

>>> client = conjure.Client("http://127.0.0.1:8000", "sk_test_…")   # doctest: +SKIP
>>> world = client.create_world(conjure.World.from_file("examples/drowned-abbey.json"))  # doctest: +SKIP

Errors raise the typed exceptions of :mod:`conjure.errors` (chosen by the body's
``code``, else by the status), with ``status`` and ``body`` attributes added;
a gate failure raises :class:`~conjure.errors.GateError` with its diagnostics.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from conjure.errors import (
    CLASS_BY_CODE,
    BadInputError,
    ConflictError,
    ConjureError,
    ForbiddenError,
    GateError,
    InternalError,
    LimitError,
    NotFoundError,
    QuotaExceededError,
    StorageError,
    UnauthorizedError,
)

__all__ = ["Client", "RateLimitedError"]


class RateLimitedError(ConjureError):
    """429: the key's rate limit was passed; ``retry_after`` says how many seconds to wait."""

    default_code = "rate_limited"
    retry_after: float = 1.0


_BY_STATUS: dict[int, type[ConjureError]] = {
    400: BadInputError,
    401: UnauthorizedError,
    402: QuotaExceededError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: LimitError,
    422: GateError,
    429: RateLimitedError,
    503: StorageError,
}


def _error(response: httpx.Response) -> ConjureError:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    if not isinstance(body, dict):
        body = {"detail": str(body)}
    code = str(body.get("code") or "")
    detail = str(body.get("detail") or f"HTTP {response.status_code}")
    if "diagnostics" in body:
        from conjure.gate import Diagnostic

        diags = [Diagnostic.from_dict(d) for d in body["diagnostics"] if isinstance(d, dict)]
        exc: ConjureError = GateError(detail, code=code or "gate_failed", diagnostics=diags)
    else:
        cls = CLASS_BY_CODE.get(code) or _BY_STATUS.get(response.status_code) or InternalError
        if cls is GateError:
            cls = BadInputError
        exc = cls(detail, code=code or None)
        if isinstance(exc, RateLimitedError):
            try:
                exc.retry_after = float(response.headers.get("retry-after", "1"))
            except ValueError:
                exc.retry_after = 1.0
    exc.status = response.status_code  # type: ignore[attr-defined]
    exc.body = body  # type: ignore[attr-defined]
    exc.errors = body.get("errors")  # type: ignore[attr-defined]
    return exc


def _world(world: Any) -> Any:
    from conjure.world import World

    return world.to_dict() if isinstance(world, World) else world


class Client:
    """A client of one conjure server with one credential (an API key or a user token).

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8000``.
        api_key: ``sk_…``, ``pk_…`` or a ``us_…`` user token (None for signup/login only).
        timeout: seconds per request.
        transport: an httpx transport (tests pass ``httpx.ASGITransport`` or a mock).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)
        self.last_response: httpx.Response | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Sends one request; returns the decoded JSON body (None for 204) or raises a typed error."""
        headers: dict[str, str] = {}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._http.request(method, path, json=json, params=clean or None, headers=headers)
        self.last_response = response
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # ------------------------------------------------------------------ users, apps, keys
    def signup(self, email: str, password: str) -> dict[str, Any]:
        return self.request("POST", "/v1/auth/signup", json={"email": email, "password": password})

    def login(self, email: str, password: str) -> dict[str, Any]:
        return self.request("POST", "/v1/auth/login", json={"email": email, "password": password})

    def create_app(self, name: str) -> dict[str, Any]:
        return self.request("POST", "/v1/apps", json={"name": name})

    def list_apps(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/v1/apps", params={"limit": limit, "cursor": cursor})

    def create_key(self, app_id: str, type: str = "secret", mode: str = "test", name: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": type, "mode": mode}
        if name is not None:
            body["name"] = name
        return self.request("POST", f"/v1/apps/{app_id}/keys", json=body)

    def list_keys(self, app_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self.request("GET", f"/v1/apps/{app_id}/keys", params={"limit": limit, "cursor": cursor})

    def revoke_key(self, app_id: str, key_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"/v1/apps/{app_id}/keys/{key_id}")

    # ------------------------------------------------------------------ worlds
    def create_world(self, world: Any, *, idempotency_key: str | None = None) -> dict[str, Any]:
        return self.request("POST", "/v1/worlds", json={"world": _world(world)}, idempotency_key=idempotency_key)

    def get_job(self, job_id: str) -> dict[str, Any]:
        """``{jobId, status: queued|running|succeeded|failed, worldId, error}``."""
        return self.request("GET", f"/v1/worlds/jobs/{job_id}")

    def generate(
        self,
        premise: str | None = None,
        *,
        seed: int | None = None,
        image_url: str | None = None,
        frame: bytes | None = None,
        frame_type: str = "image/png",
        name: str | None = None,
        wait: bool = True,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Generates a world from a premise and/or a seed frame (``frame`` bytes are uploaded).

        With ``wait`` (the default) the server answers when the world exists:
        ``{world, diagnostics, rev}``. With ``wait=False`` it answers at once with
        ``{jobId, status}``; follow the job with :meth:`wait_for_job`.
        """
        fields: dict[str, Any] = {}
        if premise is not None:
            fields["premise"] = premise
        if seed is not None:
            fields["seed"] = seed
        if name is not None:
            fields["name"] = name
        if not wait:
            fields["async"] = True
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
        if frame is not None:
            data = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in fields.items()}
            response = self._http.post("/v1/worlds", data=data, files={"frame": ("frame", frame, frame_type)},
                                       headers=headers)
        else:
            if image_url is not None:
                fields["image"] = {"url": image_url}
            response = self._http.post("/v1/worlds", json=fields, headers=headers)
        self.last_response = response
        if response.status_code >= 400:
            raise _error(response)
        return response.json()

    def wait_for_job(
        self,
        job_id: str,
        *,
        timeout: float = 600.0,
        interval: float = 0.5,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Polls a job until it succeeds or fails (``on_update`` sees every poll); TimeoutError past ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if on_update is not None:
                on_update(job)
            if job["status"] in ("succeeded", "failed"):
                return job
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} still {job['status']} after {timeout:g} s")
            time.sleep(interval)

    def edit(
        self,
        world_id: str,
        instruction: str,
        *,
        verified_objects: list[dict[str, Any]] | None = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """A natural-language edit: ``{world, diagnostics, reply, rev}`` (a question in ``reply`` changes nothing)."""
        body: dict[str, Any] = {"instruction": instruction}
        if verified_objects is not None:
            body["verifiedObjects"] = verified_objects
        return self.request("POST", f"/v1/worlds/{world_id}/edit", json=body, if_match=if_match,
                            idempotency_key=idempotency_key)

    def list_worlds(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/v1/worlds", params={"limit": limit, "cursor": cursor})

    def get_world(self, world_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}")

    def update_world(self, world_id: str, *, if_match: str | None = None, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"/v1/worlds/{world_id}", json=fields, if_match=if_match)

    def delete_world(self, world_id: str, *, if_match: str | None = None) -> None:
        self.request("DELETE", f"/v1/worlds/{world_id}", if_match=if_match)

    def fork_world(self, world_id: str, name: str | None = None) -> dict[str, Any]:
        return self.request("POST", f"/v1/worlds/{world_id}/fork", json={"name": name} if name else {})

    # ------------------------------------------------------------------ graph
    def get_graph(self, world_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/graph")

    def list_states(self, world_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/states")

    def get_state(self, world_id: str, state_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/states/{quote(state_id, safe='')}")

    def add_state(self, world_id: str, state: dict[str, Any], *, if_match: str | None = None) -> dict[str, Any]:
        return self.request("POST", f"/v1/worlds/{world_id}/states", json=state, if_match=if_match)

    def update_state(self, world_id: str, state_id: str, patch: dict[str, Any], *, if_match: str | None = None) -> dict[str, Any]:
        return self.request("PATCH", f"/v1/worlds/{world_id}/states/{quote(state_id, safe='')}", json={"patch": patch},
                            if_match=if_match)

    def delete_state(self, world_id: str, state_id: str, *, if_match: str | None = None) -> dict[str, Any]:
        return self.request("DELETE", f"/v1/worlds/{world_id}/states/{quote(state_id, safe='')}", if_match=if_match)

    def list_events(self, world_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/events")

    def get_event(self, world_id: str, name: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/events/{quote(name, safe='')}")

    def add_event(self, world_id: str, event: dict[str, Any], *, if_match: str | None = None) -> dict[str, Any]:
        return self.request("POST", f"/v1/worlds/{world_id}/events", json=event, if_match=if_match)

    def update_event(self, world_id: str, name: str, patch: dict[str, Any], *, if_match: str | None = None) -> dict[str, Any]:
        return self.request("PATCH", f"/v1/worlds/{world_id}/events/{quote(name, safe='')}", json={"patch": patch},
                            if_match=if_match)

    def delete_event(self, world_id: str, name: str, *, if_match: str | None = None) -> dict[str, Any]:
        return self.request("DELETE", f"/v1/worlds/{world_id}/events/{quote(name, safe='')}", if_match=if_match)

    def set_entrance(self, world_id: str, state: str, image: dict[str, Any] | None = None,
                     *, if_match: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"state": state}
        if image is not None:
            body["image"] = image
        return self.request("PUT", f"/v1/worlds/{world_id}/entrance", json=body, if_match=if_match)

    def apply_ops(self, world_id: str, ops: list[dict[str, Any]], expected_rev: str | None = None,
                  *, idempotency_key: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"ops": ops}
        if expected_rev is not None:
            body["expectedRev"] = expected_rev
        return self.request("POST", f"/v1/worlds/{world_id}/ops", json=body, idempotency_key=idempotency_key)

    def validate(self, world_id: str, world: Any = None) -> dict[str, Any]:
        """200 body when clean; raises GateError (with diagnostics) on a 422."""
        return self.request("POST", f"/v1/worlds/{world_id}/validate", json={"world": _world(world)} if world else {})

    def lint(self, world_id: str, world: Any = None) -> dict[str, Any]:
        return self.request("POST", f"/v1/worlds/{world_id}/lint", json={"world": _world(world)} if world else {})

    # ------------------------------------------------------------------ versions
    def snapshot(self, world_id: str, message: str | None = None, parent_version_id: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("message", message), ("parentVersionId", parent_version_id)) if v is not None}
        return self.request("POST", f"/v1/worlds/{world_id}/versions", json=body)

    def list_versions(self, world_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/versions")

    def get_version(self, world_id: str, version_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/versions/{version_id}")

    def checkout(self, world_id: str, version_id: str, *, if_match: str | None = None) -> dict[str, Any]:
        return self.request("POST", f"/v1/worlds/{world_id}/versions/{version_id}/checkout", if_match=if_match)

    def diff(self, world_id: str, a: str, b: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/worlds/{world_id}/versions/diff", params={"a": a, "b": b})

    # ------------------------------------------------------------------ usage, webhooks
    def usage(self, day: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/v1/usage", params={"day": day})

    def create_webhook(self, app_id: str, url: str, events: list[str] | None = None,
                       description: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"appId": app_id, "url": url}
        if events is not None:
            body["events"] = events
        if description is not None:
            body["description"] = description
        return self.request("POST", "/v1/webhooks", json=body)

    def list_webhooks(self, app_id: str | None = None, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/v1/webhooks", params={"appId": app_id, "limit": limit, "cursor": cursor})

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"/v1/webhooks/{webhook_id}")

    def list_deliveries(self, webhook_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        return self.request("GET", f"/v1/webhooks/{webhook_id}/deliveries", params={"limit": limit, "cursor": cursor})
