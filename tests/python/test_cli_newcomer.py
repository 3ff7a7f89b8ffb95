"""What a new user of the `conjure` command meets first: a missing server extra, `python -m
conjure`, NO_COLOR, bootstrap without a terminal, the store the server uses, a plugin to
start from."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys

import pytest

import conjure
from conjure.cli import main
from conjure.plugin_cli import render

ROOT = pathlib.Path(__file__).resolve().parents[2]

_BLOCK_SERVER = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"fastapi", "starlette", "uvicorn", "pydantic", "pydantic_settings"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
from conjure.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _two_rooms() -> dict[str, object]:
    return {"schemaVersion": "1.0", "name": "Two rooms", "entrance": {"state": "a"}, "scene": {"slots": {}, "states": {
        "a": {"base": "a long hall lit by lanterns, portraits on panelled walls"},
        "b": {"base": "a yard of wet cobbles under rain, a cart by the gate", "ending": {"kind": "win", "title": "Out"}}},
        "events": [{"kind": "transition", "name": "Go", "from": "a", "to": "b", "hotkey": "G"}]}}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONJURE_", "NO_COLOR", "FORCE_COLOR"))}
    env.update(extra)
    return env


@pytest.mark.parametrize("argv", [["serve"], ["users", "create", "a@example.com", "--password-stdin"],
                                  ["keys", "create", "app_1"]])
def test_server_commands_without_the_server_extra_say_what_to_install_and_exit_2(argv, tmp_path):
    proc = subprocess.run([sys.executable, "-c", _BLOCK_SERVER, *argv], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(), timeout=120, input="")
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'conjure-worlds[server]'" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_world_commands_need_no_server_extra(abbey_path, tmp_path):
    proc = subprocess.run([sys.executable, "-c", _BLOCK_SERVER, "validate", str(abbey_path)], capture_output=True,
                          text=True, cwd=tmp_path, env=_env(NO_COLOR="1"), timeout=120)
    assert proc.returncode == 0 and "clean" in proc.stdout, proc.stderr


def test_python_dash_m_conjure_is_the_command(lighthouse_path, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "conjure", "lint", "--json", str(lighthouse_path)],
                          capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["command"] == "lint"
    version = subprocess.run([sys.executable, "-m", "conjure", "version"], capture_output=True, text=True,
                             env=_env(), timeout=120)
    assert version.stdout.strip() == f"conjure {conjure.__version__}"


@pytest.mark.parametrize(("no_color", "styled"), [(None, True), ("1", False)])
def test_no_color_turns_off_every_escape_code_on_a_terminal(lighthouse_path, no_color, styled):
    env = _env(FORCE_COLOR="1", TERM="xterm-256color")  # rich treats the pipe as a terminal
    if no_color is not None:
        env["NO_COLOR"] = no_color
    proc = subprocess.run([sys.executable, "-m", "conjure", "lint", str(lighthouse_path)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert ("\x1b[" in proc.stdout) is styled
    assert "negation" in proc.stdout


def test_users_create_without_a_terminal_asks_for_password_stdin(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pydantic_settings")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["users", "create", "ops@example.com", "--data-dir", str(tmp_path / "data")])
    out, err = capsys.readouterr()
    assert code == 2
    assert "--password-stdin" in err and out == ""


def test_store_check_defaults_to_the_servers_store(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pydantic_settings")
    for var in ("CONJURE_STORE_PATH", "CONJURE_DATA_DIR", "CONJURE_DATABASE", "CONJURE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["store", "check"]) == 1
    assert "no store at .conjure-data/conjure.db" in capsys.readouterr().out
    (tmp_path / ".conjure-data").mkdir()
    with conjure.Store(str(tmp_path / ".conjure-data" / "conjure.db")):
        pass
    assert main(["store", "check"]) == 0
    out = capsys.readouterr().out
    assert ".conjure-data/conjure.db" in out and out.rstrip().endswith("OK")
    # the server's data dir setting moves it, as it moves the server
    monkeypatch.setenv("CONJURE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert main(["store", "check"]) == 1
    assert f"no store at {tmp_path / 'elsewhere' / 'conjure.db'}" in capsys.readouterr().out


def test_plugin_new_writes_a_distribution_whose_lint_runs(tmp_path, capsys):
    assert main(["plugin", "new", "house-names", "--dir", str(tmp_path)]) == 0
    target = tmp_path / "conjure-lint-house-names"
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "README.md", "conjure_lint_house_names/__init__.py", "pyproject.toml", "tests/test_lint.py"]
    namespace: dict[str, object] = {}
    exec(compile((target / "conjure_lint_house_names" / "__init__.py").read_text(), "plugin", "exec"), namespace)
    world = _two_rooms()
    found = [d for d in conjure.lint(world, plugins=namespace["lints"]) if d.lint.startswith("plugin.")]
    assert [(d.lint, d.path) for d in found] == [("plugin.house-names.short-event-names", "event[Go].name")]
    # a second run refuses to overwrite; a bad name is refused
    assert main(["plugin", "new", "house-names", "--dir", str(tmp_path)]) == 2
    assert main(["plugin", "new", "House Names!", "--dir", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err


def test_plugin_guide_shows_the_pyproject_the_template_writes():
    doc = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert "```toml\n" + render("house-names")["pyproject.toml"] + "```" in doc


@pytest.mark.slow
def test_plugin_from_the_template_installs_and_runs_in_conjure_lint(tmp_path):
    assert main(["plugin", "new", "house-names", "--dir", str(tmp_path)]) == 0
    target, site = tmp_path / "conjure-lint-house-names", tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--target", str(site), str(target)], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    world = tmp_path / "w.json"
    world.write_text(json.dumps(_two_rooms()))
    env = _env(PYTHONPATH=str(site))
    lint = subprocess.run([sys.executable, "-m", "conjure", "lint", "--json", str(world)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert lint.returncode == 0, lint.stderr
    lints = [d["lint"] for d in json.loads(lint.stdout)["files"][0]["diagnostics"]]
    assert "plugin.house-names.short-event-names" in lints
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
                           capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
