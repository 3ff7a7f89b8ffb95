"""Install anywhere: `pip wheel .` builds the native module into a wheel, `auditwheel repair`
makes it a manylinux wheel (its shared libraries inside), and that wheel installs with
`--only-binary=:all:` into a fresh virtual environment, where no compiler is on the PATH,
and there the facade and graph tests pass, `conjure serve` asks for the server extra, and
the quickstart notebook runs top to bottom. The sdist builds too.

Slow tier. Its cost is the wheel's C++ build (ccache makes it mostly cache hits after the
dev build) and the downloads of the dependencies into the fresh environment (PyPI)."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIN_GLIBC = (2, 34)  # this Debian's glibc: its wheels are manylinux_2_34 or later


def _run(cmd: list[str], *, timeout: int = 1800, **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _no_compiler_env(venv: pathlib.Path) -> dict[str, str]:
    """The fresh venv's bin and the system's basics, with every compiler hidden behind /bin/false."""
    fake = venv / "no-compilers"
    fake.mkdir(exist_ok=True)
    for name in ("cc", "gcc", "g++", "c++", "clang", "clang++", "cmake", "ninja", "x86_64-linux-gnu-gcc"):
        target = fake / name
        if not target.exists():
            target.symlink_to("/bin/false")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONJURE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}:{fake}:/usr/bin:/bin", CC="/bin/false", CXX="/bin/false",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    for tool in ("auditwheel", "patchelf"):
        if shutil.which(tool, path=f"{pathlib.Path(sys.executable).parent}:{os.environ.get('PATH', '')}") is None:
            pytest.skip(f"{tool} is not installed (requirements-dev.txt)")
    out = tmp_path_factory.mktemp("wheels")
    env = {**os.environ, "CCACHE_DIR": os.environ.get("CCACHE_DIR", str(pathlib.Path.home() / ".cache" / "ccache")),
           "CCACHE_BASEDIR": str(ROOT), "CCACHE_NOHASHDIR": "1"}
    # build-wheel/ sits beside build/ and uses the same compiler, so with CCACHE_BASEDIR the
    # compile lines match the dev build's and ccache answers them (the link still runs).
    settings = ["-Cbuild-dir=build-wheel", "-Ccmake.define.CMAKE_CXX_COMPILER=c++"]
    if shutil.which("ccache"):
        settings.append("-Ccmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache")
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(out / "raw"),
          *settings], cwd=ROOT, env=env)
    (raw,) = (out / "raw").glob("conjure_worlds-*.whl")
    bin_dir = pathlib.Path(sys.executable).parent
    _run([str(bin_dir / "auditwheel"), "repair", str(raw), "-w", str(out / "repaired")],
         env={**env, "PATH": f"{bin_dir}:{env.get('PATH', '')}"})
    return out / "repaired"


def test_wheel_is_manylinux_and_carries_its_libraries_not_libtorch(wheelhouse):
    (wheel,) = wheelhouse.glob("*.whl")
    tags = re.findall(r"manylinux_(\d+)_(\d+)_x86_64", wheel.name)
    assert tags and max((int(a), int(b)) for a, b in tags) >= MIN_GLIBC, wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert any(re.match(r"conjure/_core\..*\.so$", n) for n in names)
    assert any(n.startswith("conjure_worlds.libs/") for n in names)  # vendored shared libraries
    assert not any("torch" in n for n in names)
    assert not any("/node_modules/" in n or "/embed/dist/" in n for n in names)


def test_wheel_installs_without_a_compiler_and_passes_the_facade_tests(wheelhouse, tmp_path):
    (wheel,) = wheelhouse.glob("*.whl")
    venv = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", str(venv)])
    env = _no_compiler_env(venv)
    py = str(venv / "bin" / "python")
    _run([py, "-m", "pip", "install", "-q", "--only-binary=:all:", str(wheel), "pytest", "nbclient", "ipykernel"],
         env=env, timeout=900)
    where = _run([py, "-c", "import conjure, sys; print(conjure.__file__)"], env=env, cwd=tmp_path).stdout
    assert where.strip().startswith(str(venv)), where  # the installed package, not the checkout

    tests = [str(ROOT / "tests" / "python" / name) for name in ("test_facade.py", "test_graph.py", "test_play_headless.py")]
    run = subprocess.run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
                          "--rootdir", str(ROOT), *tests], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\d+ passed", run.stdout)

    serve = subprocess.run([str(venv / "bin" / "conjure"), "serve"], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=120)
    assert serve.returncode == 2 and "pip install 'conjure-worlds[server]'" in serve.stderr

    notebook = ROOT / "examples" / "notebooks" / "quickstart.ipynb"
    _run([py, "-c", "import nbformat, nbclient, sys; nb = nbformat.read(sys.argv[1], as_version=4); "
                    "nbclient.NotebookClient(nb, timeout=120, kernel_name='python3', "
                    "resources={'metadata': {'path': sys.argv[2]}}).execute()",
          str(notebook), str(notebook.parent)], env=env, cwd=tmp_path, timeout=600)


def test_sdist_builds_with_the_sources_and_without_build_outputs(tmp_path):
    pytest.importorskip("build")
    _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(tmp_path), str(ROOT)], timeout=600)
    (sdist,) = tmp_path.glob("conjure_worlds-*.tar.gz")
    names = tarfile.open(sdist).getnames()
    top = names[0].split("/")[0]
    for needed in ("pyproject.toml", "CMakeLists.txt", "python/conjure/__init__.py", "bindings", "cpp/src"):
        assert any(n == f"{top}/{needed}" or n.startswith(f"{top}/{needed}/") for n in names), needed
    assert not any(f"{top}/build/" in n or "/node_modules/" in n or f"{top}/.venv/" in n for n in names)
