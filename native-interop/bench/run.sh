#!/usr/bin/env bash
# Builds and runs the C benchmark (alloc_bench.c): FastBuddy's page pair through libfastbuddy.so against glibc,
# tcmalloc, jemalloc and mimalloc in one process. Builds libfastbuddy.so first (../build.sh) when it is missing.
# Arguments go to the program: [--batches N] [--batch-ms MS] [--arena-mib N].
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
