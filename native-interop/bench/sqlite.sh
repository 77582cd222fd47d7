#!/usr/bin/env bash
# Builds and runs the SQLite benchmark (sqlite_bench.c): SQLite's program on FastBuddy against glibc malloc, each
# in its own process; prints wall time and peak resident memory as a markdown table. Builds libfastbuddy.so first
# (../build.sh) when it is missing. Skipped with a message when sqlite3.h / libsqlite3 is missing.
# Arguments go to the program: [--rows N (200000)] [--arena-mib N (1024)] [--repeat N (1)].
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="$root/build/bench"

if [ ! -f "$root/out/libfastbuddy.so" ]; then
  "$root/build.sh"
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
if ! cmake --build "$build" --target fastbuddy_sqlite_bench >/dev/null 2>&1; then
  if [ ! -f /usr/include/sqlite3.h ]; then
    echo "sqlite3.h not found (Debian: apt-get install libsqlite3-dev): the SQLite benchmark is skipped"
    exit 0
  fi
  cmake --build "$build" --target fastbuddy_sqlite_bench   # again, to show the error
  exit 1
fi
"$build/fastbuddy_sqlite_bench" "$@"
