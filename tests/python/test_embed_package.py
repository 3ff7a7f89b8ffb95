"""@conjure/embed: the committed /embed.js is exactly what its source builds to, and the
npm package packs, installs into a scratch project, imports, and type-checks a consumer.

The pinned build tools (esbuild, typescript) are installed into build/node by
scripts/embed, which these tests run; without node or npm they skip with the reason."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PKG = ROOT / "python" / "conjure" / "web" / "embed"
SERVED = ROOT / "python" / "conjure" / "web" / "static" / "embed.js"


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def tools() -> pathlib.Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to build the embed (apt-get install nodejs npm)")
    _run([str(ROOT / "scripts" / "embed"), "--out", str(ROOT / "build" / "embed-check")])
    return ROOT / "build" / "node"


def test_committed_embed_js_is_the_build_of_its_source(tools):
    rebuilt = (ROOT / "build" / "embed-check" / "embed.js").read_text(encoding="utf-8")
    assert rebuilt == SERVED.read_text(encoding="utf-8"), (
        "python/conjure/web/static/embed.js differs from a build of src/: run scripts/embed and commit it")


def test_the_package_declares_its_types_and_build():
    meta = json.loads((PKG / "package.json").read_text(encoding="utf-8"))
    assert meta["name"] == "@conjure/embed"
    assert meta["exports"]["."] == {"types": "./dist/index.d.ts", "import": "./dist/embed.js"}
    assert set(meta["files"]) >= {"dist", "src"}
    assert all(not v.startswith(("^", "~")) for v in meta["devDependencies"].values())  # pinned: reproducible


@pytest.mark.slow
def test_npm_pack_tarball_installs_imports_and_typechecks_in_a_scratch_project(tools, tmp_path):
    env = {**os.environ, "NODE_TOOLS": str(tools), "npm_config_loglevel": "error"}
    _run([str(ROOT / "scripts" / "embed"), "--package"])  # what prepack runs; built here so stdout is npm's JSON
    packed = _run(["npm", "pack", "--json", "--ignore-scripts", "--pack-destination", str(tmp_path)], cwd=PKG, env=env)
    info = json.loads(packed.stdout)[0]
    files = {f["path"] for f in info["files"]}
    assert {"dist/embed.js", "dist/index.d.ts", "src/index.js", "package.json", "README.md"} <= files
    tarball = tmp_path / info["filename"]

    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "scratch", "version": "1.0.0", "type": "module"}))
    _run(["npm", "install", "--no-audit", "--no-fund", "--offline", str(tarball)], cwd=app, env=env)

    # It imports as an ES module and is the real thing: mount() checks its arguments.
    (app / "use.mjs").write_text(
        'import { mount, Player } from "@conjure/embed";\n'
        'import embed from "@conjure/embed";\n'
        'let refused = "";\n'
        'try { mount(null, {token: "st_x"}); } catch (e) { refused = e.message; }\n'
        'console.log(JSON.stringify({mount: typeof mount, player: typeof Player, default: typeof embed.mount, refused}));\n')
    out = json.loads(_run(["node", "use.mjs"], cwd=app).stdout)
    assert out == {"mount": "function", "player": "function", "default": "function",
                   "refused": "mount: an element is required"}

    # A TypeScript consumer compiles against the shipped declarations, and misuse does not.
    tsc = str(tools / "node_modules" / "typescript" / "bin" / "tsc")
    flags = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2020",
             "--lib", "es2020,dom", "--skipLibCheck"]
    (app / "good.mts").write_text(
        'import { mount, type StateMessage, type MountOptions } from "@conjure/embed";\n'
        'const options: MountOptions = { baseUrl: "https://example.test", getToken: async () => ({ token: "st_x" }) };\n'
        'const player = mount(document.body, options);\n'
        'const off = player.on("state", (s: StateMessage) => console.log(s.state, s.events.map((e) => e.hotkey)));\n'
        'player.on("ending", (e) => console.log(e.kind === "win" ? e.title : e.subtitle));\n'
        'player.fire("Take the lantern"); player.key("E"); player.move("WA"); off();\n'
        'void player.destroy();\n')
    _run(["node", tsc, *flags, "good.mts"], cwd=app)
    (app / "bad.mts").write_text(
        'import { mount } from "@conjure/embed";\n'
        'const player = mount(document.body, { token: 5 });\n'
        'player.on("state", (s) => s.nosuchfield.length);\n')
    bad = subprocess.run(["node", tsc, *flags, "bad.mts"], cwd=app, capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0
    assert "bad.mts(2," in bad.stdout and "'nosuchfield' does not exist on type 'StateMessage'" in bad.stdout
