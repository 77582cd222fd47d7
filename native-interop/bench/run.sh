#!/usr/bin/env bash
# Builds and runs the C benchmarks: alloc_bench.c (FastBuddy's page pair through libfastbuddy.so against glibc,
# tcmalloc, jemalloc and mimalloc in one process), then sqlite.sh (SQLite's program on FastBuddy against glibc,
# 200 000 rows, its default settings). Builds libfastbuddy.so first (../build.sh) when it is missing.
# Arguments go to alloc_bench: [--batches N] [--batch-ms MS] [--arena-mib N]; run sqlite.sh alone for its own.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="$root/build/bench"

if [ ! -f "$root/out/libfastbuddy.so" ]; then
  "$root/build.sh"
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target fastbuddy_alloc_bench >/dev/null
"$build/fastbuddy_alloc_bench" "$@"
echo
bash "$here/sqlite.sh"
