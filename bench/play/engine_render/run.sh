#!/usr/bin/env bash
# Builds libconjure (build dir: $1, default build-bench-play) and runs the play
# engine / preview renderer benchmark; writes bench/results/play_engine.json.
# Extra arguments go to the benchmark (--quick, --samples DIR).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
BUILD="${1:-$ROOT/build-bench-play}"
shift || true
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONJURE_BUILD_PYTHON=OFF -DCONJURE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target conjure -j "${JOBS:-2}"
g++ -std=c++20 -O2 -I"$ROOT/cpp/include" "$ROOT/bench/play/engine_render/bench_play.cpp" "$BUILD/libconjure.a" \
  $(pkg-config --libs libturbojpeg) -lsqlite3 -lcrypto -lpthread -o "$BUILD/bench_play"
mkdir -p "$ROOT/bench/results"
"$BUILD/bench_play" "$ROOT/bench/results/play_engine.json" "$@"
