"""The test-run policy of every test directory (tests/python, tests/e2e, plugins).

Under CI (the ``CI`` environment variable set to anything but ``0``/``false``/``no``) a
skipped test fails, whether it skipped itself or ``importorskip`` skipped its module: a
skip there means a missing install hides a test. The one exception is the explicit
allowlist below (tests that need hardware CI machines do not have).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

# Markers whose tests may skip under CI, and why.
CI_MAY_SKIP = {"gpu": "needs CUDA, which CI machines do not have"}


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _fail(report: Any, what: str) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{what} skipped under CI, which hides a missing install: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if under_ci() and report.skipped and not hasattr(report, "wasxfail"):
        if not any(item.get_closest_marker(marker) for marker in CI_MAY_SKIP):
            _fail(report, item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    outcome = yield
    report = outcome.get_result()
    if under_ci() and report.skipped:
        _fail(report, collector.nodeid)
