"""docs/deploy.md stays true: its systemd units pass `systemd-analyze verify`, its HAProxy config `haproxy -c`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy.md"
INSTALL_PREFIX = "/opt/conjure/venv"  # where deploy.md installs conjure; the test's own venv stands in for it


def blocks(lang: str) -> dict[str, str]:
    """The fenced blocks of ``lang`` whose first line is ``# /path/of/the/file``: ``{path: text}``."""
    out: dict[str, str] = {}
    for body in re.findall(rf"```{lang}\n(.*?)```", DEPLOY.read_text(), flags=re.S):
        first, _, rest = body.partition("\n")
        if first.startswith("# /"):
            out[first[2:].strip()] = rest
    return out


def test_deploy_md_names_the_units_and_the_balancer_config():
    units = blocks("ini")
    assert "/etc/systemd/system/conjure@.service" in units and "/etc/systemd/system/conjure.target" in units
    assert "/etc/haproxy/haproxy.cfg" in blocks("haproxy")


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze is missing (Debian package systemd)"
    venv = Path(sys.prefix)
    assert (venv / "bin" / "conjure").exists(), "the test venv has no conjure command (scripts/lib.sh writes it)"
    names = []
    for path, text in blocks("ini").items():
        name = Path(path).name
        (tmp_path / name).write_text(text.replace(INSTALL_PREFIX, str(venv)))
        names.append(name)
    # An instance of the template, as `systemctl enable conjure@8001` makes.
    targets = [str(tmp_path / n) for n in names if not n.endswith("@.service")]
    template = next(n for n in names if n.endswith("@.service"))
    instance = tmp_path / template.replace("@.service", "@8001.service")
    instance.write_text((tmp_path / template).read_text())
    proc = subprocess.run([exe, "verify", str(instance), *targets], capture_output=True, text=True, timeout=60,
                          check=False)
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if str(tmp_path) in line or "conjure" in line]
    assert proc.returncode == 0 and not ours, proc.stdout + proc.stderr


def test_a_broken_unit_is_reported_by_the_same_check(tmp_path):
    """The check above can fail: systemd-analyze names a bad setting in a unit."""
    exe = shutil.which("systemd-analyze")
    assert exe
    unit = tmp_path / "broken@8001.service"
    unit.write_text("[Service]\nType=bogus\nExecStart=/bin/true\n")
    proc = subprocess.run([exe, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False)
    assert "bogus" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_the_haproxy_config_is_valid(tmp_path):
    exe = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    assert exe, "haproxy is missing (Debian package haproxy; scripts/test installs it)"
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(blocks("haproxy")["/etc/haproxy/haproxy.cfg"])
    proc = subprocess.run([exe, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
