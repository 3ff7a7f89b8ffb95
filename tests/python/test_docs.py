"""The docs stay true: every Python snippet of README.md and docs/*.md runs, every
``conjure`` command line in them parses, docs/cli.md names every command and option, and
docs/operations.md's settings table names every setting."""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


def blocks(path: pathlib.Path, lang: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced block of ``lang`` in a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(2)) for m in _FENCE.finditer(text) if m.group(1) == lang]


# One page's snippets run in order in one namespace, as a reader follows the page.
PY_PAGES = [pytest.param(path, id=str(path.relative_to(ROOT))) for path in DOCS if blocks(path, "python")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real ``conjure serve`` on a loopback port, and a test secret key for it."""
    pytest.importorskip("fastapi")
    data = tmp_path_factory.mktemp("docs-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONJURE_")}
    env.update(CONJURE_LOG_LEVEL="warning", CONJURE_ACCESS_LOG="false", CONJURE_RATE_LIMIT_PER_SECOND="1000",
               CONJURE_RATE_LIMIT_BURST="1000")
    proc = subprocess.Popen([sys.executable, "-m", "conjure", "serve", "--port", str(port), "--data-dir", str(data)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        token = httpx.post(f"{base}/v1/auth/signup", json={"email": "docs@example.com", "password": "a long password"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        app = httpx.post(f"{base}/v1/apps", json={"name": "docs"}, headers=auth).json()["id"]
        key = httpx.post(f"{base}/v1/apps/{app}/keys", json={"type": "secret", "mode": "test"}, headers=auth).json()["key"]
        yield {"CONJURE_SERVER": base, "CONJURE_API_KEY": key}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("path", PY_PAGES)
def test_python_snippets_of_the_page_run(path: pathlib.Path, tmp_path: pathlib.Path,
                                         monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    # Run as a reader would: in a fresh directory where examples/ is the repository's.
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for line, code in blocks(path, "python"):
        if "CONJURE_API_KEY" in code:
            for name, value in request.getfixturevalue("live_server").items():
                monkeypatch.setenv(name, value)
        exec(compile(code, f"{path.name}:{line}", "exec"), namespace)  # plugins: conftest cleans up


def test_the_guides_with_examples_are_collected() -> None:
    # a guard on the extractor itself
    found = {param.values[0].name for param in PY_PAGES}
    assert {"README.md", "python.md", "plugins.md", "storage.md", "api.md", "agent.md"} <= found


# ---------------------------------------------------------------------------
# command lines
# ---------------------------------------------------------------------------


def _command_lines() -> list[tuple[str, int, list[str]]]:
    out = []
    for path in DOCS:
        for line, code in blocks(path, "sh"):
            joined = re.sub(r"\\\n\s*", " ", code)
            for offset, raw in enumerate(joined.splitlines()):
                text = raw.strip()
                m = re.match(r"^(?:\.venv/bin/|python -m )?conjure (.*)$", text)
                if not m:
                    continue
                words = shlex.split(m.group(1).split(" | ")[0], comments=True)
                out.append((f"{path.relative_to(ROOT)}:{line + offset}", line + offset, words))
    return out


@pytest.mark.parametrize(("where", "line", "argv"), _command_lines(), ids=[c[0] for c in _command_lines()])
def test_documented_command_line_parses(where: str, line: int, argv: list[str]) -> None:
    from conjure.cli import build_parser

    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's usage error
        pytest.fail(f"{where}: `conjure {' '.join(argv)}` does not parse (exit {exc.code})")


def _walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], list[str]]]:
    options = [s for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"]
    yield prefix, options
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*prefix, name))


def test_cli_doc_names_every_command_and_option() -> None:
    from conjure.cli import build_parser

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = []
    for path, options in _walk(build_parser(), ()):
        if path and f"conjure {' '.join(path)}" not in doc:
            missing.append("conjure " + " ".join(path))
        missing += [f"{' '.join(path)} {o}" for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", doc)]
    assert not missing, f"docs/cli.md does not document: {missing}"


def test_operations_doc_lists_every_setting() -> None:
    pytest.importorskip("pydantic_settings")
    from conjure.server.settings import Settings

    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = doc.split("## Settings", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in Settings.model_fields if f"`{name}`" not in section]
    assert not missing, f"docs/operations.md's settings table lacks {missing}"


def test_every_environment_variable_read_is_documented() -> None:
    names = set()
    for py in (ROOT / "python" / "conjure").rglob("*.py"):
        names |= set(re.findall(r"\"(CONJURE_[A-Z_]+)\"", py.read_text(encoding="utf-8")))
    corpus = "".join(p.read_text(encoding="utf-8") for p in DOCS)
    missing = sorted(n for n in names if n not in corpus)
    assert not missing, f"environment variables read but documented nowhere: {missing}"
