"""Shared fixtures for the Python tests."""

from __future__ import annotations

import copy
import pathlib
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GATE_DATA = ROOT / "tests" / "data" / "gate"


def small_world() -> dict[str, Any]:
    """A tiny clean world: hall -> garden (win)."""
    return copy.deepcopy(
        {
            "schemaVersion": "1.0",
            "name": "Small",
            "entrance": {"state": "hall"},
            "scene": {
                "slots": {"house": "an old stone house on a hill"},
                "states": {
                    "hall": {"base": "the long hall of {house}, portraits along panelled walls"},
                    "garden": {
                        "base": "a walled garden behind {house}, roses climbing a sundial",
                        "ending": {"kind": "win", "title": "Outside"},
                    },
                },
                "events": [
                    {"name": "Open the garden door", "kind": "transition", "from": "hall", "to": "garden", "hotkey": "E"}
                ],
            },
        }
    )


@pytest.fixture
def world_dict() -> dict[str, Any]:
    return small_world()


@pytest.fixture
def abbey_path() -> pathlib.Path:
    return EXAMPLES / "drowned-abbey.json"


@pytest.fixture
def lighthouse_path() -> pathlib.Path:
    return EXAMPLES / "flawed-lighthouse.json"


@pytest.fixture(autouse=True)
def plugin_policy(monkeypatch: pytest.MonkeyPatch):
    """Every test starts with no plugin policy and no plugin environment, and leaves none behind."""
    import conjure.plugins as plugins

    for var in ("CONJURE_PLUGINS_DISABLED", "CONJURE_PLUGINS_ERROR", "CONJURE_PLUGINS_ENABLED"):
        monkeypatch.delenv(var, raising=False)
    plugins.reset_configuration()
    before = {p.name for p in plugins.registered()}
    yield
    plugins.reset_configuration()
    for p in plugins.registered():
        if p.name not in before:
            plugins.unregister_lint(p.name)


# ------------------------------------------------------------------ scale-out services (tests/python/services.py)
def _services() -> Any:
    import importlib.util
    import sys

    name = "conjure_tests_services"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, pathlib.Path(__file__).with_name("services.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def redis_service():
    """``(url, prefix)``: the machine's Redis (started when down; a failure, never a skip) and a fresh key prefix."""
    services = _services()
    url = services.ensure_redis()
    prefix = services.unique_prefix()
    yield url, prefix
    services.drop_prefix(url, prefix)


@pytest.fixture
def postgres_url():
    """A fresh, empty database on the machine's PostgreSQL (started when down; a failure, never a skip)."""
    services = _services()
    name, url = services.create_database()
    yield url
    services.drop_database(name)
