#!/usr/bin/env bash
# CI's smoke run of the benchmarks: builds them, runs every BenchmarkDotNet benchmark once (--job Dry: proves they
# build and run; the numbers mean nothing; AllocatorSuite, SmallObjectSuite and the rest), runs the facts verb on
# small sizes (the small-object efficiency facts included) and draws the chart from the dry CSV into a temporary file. Native peers that are not installed are skipped (with a message), not failed.
# Exits non-zero on any failure. About a minute.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.rtld.optional_static_tls=16384"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== build"
dotnet build -c Release bench/FastBuddy.Benchmarks --nologo -v:q

echo "== BenchmarkDotNet, every benchmark, --job Dry"
if ! dotnet run -c Release --no-build --project bench/FastBuddy.Benchmarks -- --filter '*' --job Dry \
    --artifacts "$tmp/artifacts" > "$tmp/bdn.log" 2>&1; then
  tail -n 80 "$tmp/bdn.log" >&2
  echo "run-dry: a benchmark failed (log above)" >&2
  exit 1
fi
grep -E '^// peer .* missing' "$tmp/bdn.log" || true
ran="$(grep -cE '^// Benchmark: ' "$tmp/bdn.log" || true)"
echo "ran $ran benchmark cases"
grep -qE '^// Benchmark: SmallObjectSuite\.FastBuddy_Handoff' "$tmp/bdn.log" \
  || { echo "run-dry: the small-object suite did not run" >&2; exit 1; }

echo "== facts (small sizes)"
dotnet run -c Release --no-build --project bench/FastBuddy.Benchmarks -- \
  facts --arena-mib 64 --creates 3 --frag-mib 32 --ops 5000 --mixed-objects 20000 --tiny-objects 50000 > "$tmp/facts.md"
for section in '^## Fragmentation' '^## Small objects' '^### Mixed sizes'; do
  grep -q "$section" "$tmp/facts.md" || { cat "$tmp/facts.md" >&2; echo "run-dry: facts incomplete ($section)" >&2; exit 1; }
done
echo "facts: ok"

echo "== chart (from the dry CSV, to a temporary file)"
if command -v python3 >/dev/null 2>&1; then
  python3 bench/chart/chart.py "$tmp/artifacts/results/FastBuddy.Benchmarks.Suite.AllocatorSuite-report.csv" "$tmp/benchmarks.svg"
else
  echo "python3 missing: chart not checked"
fi
echo "run-dry: ok"
