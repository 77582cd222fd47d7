#!/usr/bin/env bash
# Builds and runs the C benchmarks. Builds libfastbuddy.so first (../build.sh) when it is missing.
#   run.sh [ARGS]            alloc_bench.c (FastBuddy's page pair through libfastbuddy.so against glibc, tcmalloc,
#                            jemalloc and mimalloc in one process) with ARGS ([--batches N] [--batch-ms MS]
#                            [--arena-mib N]), then sqlite_bench.c at its defaults
#   run.sh --sqlite [ARGS]   only sqlite_bench.c (SQLite's program on FastBuddy against glibc, each in its own
#                            process) with ARGS ([--rows N] [--arena-mib N] [--repeat N])
# Without sqlite3.h / libsqlite3 (Debian: libsqlite3-dev) the SQLite benchmark is skipped with a message.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="$root/build/bench"

if [ ! -f "$root/out/libfastbuddy.so" ]; then
  "$root/build.sh"
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null

run_sqlite() {
  # CMake's FindSQLite3 leaves *-NOTFOUND in the cache when the header or the library is missing.
  if grep -qE '^SQLite3_(INCLUDE_DIR|LIBRARY):[A-Z]+=.*NOTFOUND' "$build/CMakeCache.txt"; then
    echo "sqlite3.h or libsqlite3 not found (Debian: libsqlite3-dev): the SQLite benchmark is skipped"
    return 0
  fi
  cmake --build "$build" --target fastbuddy_sqlite_bench >/dev/null
  "$build/fastbuddy_sqlite_bench" "$@"
}

if [ "${1:-}" = "--sqlite" ]; then
  shift
  run_sqlite "$@"
  exit
fi
cmake --build "$build" --target fastbuddy_alloc_bench >/dev/null
"$build/fastbuddy_alloc_bench" "$@"
echo
run_sqlite
