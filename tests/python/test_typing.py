"""`mypy --strict` on the public API, the command and the examples (slow tier: one mypy run).
The rest of the package is not yet strict-clean (the store's records and the HTTP client
return untyped dicts); modules join STRICT as they become clean."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The public Python API and the command: what users and plugin authors type against.
STRICT = [
    "python/conjure/__init__.py", "python/conjure/__main__.py", "python/conjure/_version.py",
    "python/conjure/world.py", "python/conjure/gate.py", "python/conjure/diagnostic.py", "python/conjure/errors.py",
    "python/conjure/plugins/__init__.py", "python/conjure/play.py", "python/conjure/_graph.py",
    "python/conjure/cli.py", "python/conjure/store_cli.py", "python/conjure/serve_cli.py",
    "python/conjure/plugin_cli.py", "examples/quickstart.py",
]


def test_mypy_strict_is_clean_on_the_public_api_and_the_examples():
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--cache-dir",
                           str(ROOT / "build" / "mypy-cache"), *STRICT],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
