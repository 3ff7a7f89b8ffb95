#!/usr/bin/env bash
# Builds the store benchmark (build dir: $1, default build-bench-store) and runs
# it; writes bench/results/store.json. Takes a few minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build-bench-store}"
cmake -S "$ROOT/bench/store" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target bench_store -j "${JOBS:-2}"
mkdir -p "$ROOT/bench/results"
"$BUILD/bench_store" "$ROOT/bench/results/store.json"
