"""Under CI a skip fails (it hides a missing install), except for the explicit GPU allowlist."""

from __future__ import annotations

import pathlib

import pytest

pytest_plugins = ["pytester"]
ROOT = pathlib.Path(__file__).resolve().parents[2]

TESTS = """
import pytest

def test_skips_itself():
    pytest.skip("no chromium")

@pytest.mark.gpu
def test_needs_a_gpu():
    pytest.skip("no CUDA")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    gpu: needs CUDA\n")
    pytester.makepyfile(test_skips=TESTS, test_missing="import pytest\npytest.importorskip('no_such_module_xyz')\n")
    return pytester


def test_a_skip_fails_under_ci_except_a_gpu_test(suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest("-p", "no:cacheprovider", "--continue-on-collection-errors")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and outcomes.get("skipped") == 1 and outcomes.get("errors") == 1, outcomes


def test_skips_stay_skips_outside_ci(suite, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest("-p", "no:cacheprovider")
    assert result.parseoutcomes() == {"skipped": 3}
