"""The benchmarks still run and still agree with their references (slow tier).

These runs check that each benchmark works end to end; they never judge speed.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gate_benchmark_quick_run_agrees_with_the_python_reference():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gate" / "run.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
