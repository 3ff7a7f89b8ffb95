"""Fixtures for the HTTP API tests: the app in-process, users, apps and keys."""

from __future__ import annotations

import itertools
import pathlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest

import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("conjure_tests_shared", pathlib.Path(__file__).resolve().parents[1] / "conftest.py")
assert _spec is not None and _spec.loader is not None
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)
small_world = _shared.small_world
GATE_DATA = _shared.GATE_DATA

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from conjure.server import Settings, create_app  # noqa: E402

PASSWORD = "correct horse battery"
_emails = itertools.count()


@dataclass
class Tenant:
    """A user with one app and a key of every kind."""

    email: str
    user_token: str
    app_id: str
    keys: dict[str, str] = field(default_factory=dict)  # sk_test, sk_live, pk_test, pk_live
    key_ids: dict[str, str] = field(default_factory=dict)

    def auth(self, kind: str) -> dict[str, str]:
        token = self.user_token if kind == "user" else self.keys[kind]
        return {"Authorization": f"Bearer {token}"}


def make_settings(tmp_path: pathlib.Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"data_dir": tmp_path / "data", "rate_limit_per_second": 1000.0, "rate_limit_burst": 1000,
                            "auth_failure_burst": 1000}
    base.update(overrides)
    return Settings(**base)


@pytest.fixture
def settings(tmp_path: pathlib.Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings):
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def signup(client: Any, email: str | None = None) -> tuple[str, str]:
    email = email or f"user{next(_emails)}@example.com"
    r = client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return email, r.json()["token"]


def make_tenant(client: Any) -> Tenant:
    email, token = signup(client)
    h = {"Authorization": f"Bearer {token}"}
    r = client.post("/v1/apps", json={"name": "game"}, headers=h)
    assert r.status_code == 201, r.text
    tenant = Tenant(email=email, user_token=token, app_id=r.json()["id"])
    for type_, prefix in (("secret", "sk"), ("publishable", "pk")):
        for mode in ("test", "live"):
            r = client.post(f"/v1/apps/{tenant.app_id}/keys", json={"type": type_, "mode": mode}, headers=h)
            assert r.status_code == 201, r.text
            tenant.keys[f"{prefix}_{mode}"] = r.json()["key"]
            tenant.key_ids[f"{prefix}_{mode}"] = r.json()["id"]
    return tenant


@pytest.fixture
def tenant(client: Any) -> Tenant:
    return make_tenant(client)


def import_world(client: Any, tenant: Tenant, kind: str = "sk_test", world: dict[str, Any] | None = None) -> dict[str, Any]:
    r = client.post("/v1/worlds", json={"world": world or small_world()}, headers=tenant.auth(kind))
    assert r.status_code == 201, r.text
    return r.json()


__all__ = ["Tenant", "make_tenant", "import_world", "signup", "small_world", "make_settings", "TestClient", "PASSWORD"]
