#!/usr/bin/env bash
# Builds libconjure (build dir: $1, default build-bench-store) and runs the store
# benchmark; writes bench/results/store.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build-bench-store}"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONJURE_BUILD_PYTHON=OFF -DCONJURE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target conjure -j "${JOBS:-2}"
g++ -std=c++20 -O2 -I"$ROOT/cpp/include" "$ROOT/bench/store/bench_store.cpp" "$BUILD/libconjure.a" \
  -lsqlite3 -lcrypto -lpthread -o "$BUILD/bench_store"
mkdir -p "$ROOT/bench/results"
"$BUILD/bench_store" "$ROOT/bench/results/store.json"
