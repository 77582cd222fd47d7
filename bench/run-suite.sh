#!/usr/bin/env bash
# The full benchmark run behind docs/benchmarks.md, in one command (from anywhere in the repository):
#   bench/run-suite.sh [--quick] [-- extra BenchmarkDotNet arguments]
# 1. installs the native peers (mimalloc, jemalloc, tcmalloc) when run as root (bench/setup-peers.sh);
# 2. records the machine (lscpu, OS, .NET, load) in BenchmarkDotNet.Artifacts/results/machine.md;
# 3. runs the BenchmarkDotNet suite (AllocatorSuite, SmallObjectSuite, and the older PageAllocBenchmarks) - about 30 minutes on an
#    idle 2-core machine; --quick uses BenchmarkDotNet's Short job instead (rougher numbers, a few minutes);
# 4. prints the facts (metadata, 1 GiB arena creation, fragmentation, small-object memory efficiency) into
#    results/facts.md;
# 5. rebuilds libfastbuddy.so, builds and runs the C benchmark (native-interop/bench) into results/c-bench.md;
# 6. draws docs/benchmarks.svg from the suite's CSV report (bench/chart/chart.py).
# Results: BenchmarkDotNet.Artifacts/results/ (not committed). Timings are noisy on a shared machine: compare
# ratios within one run, and prefer a quiet moment (see `uptime`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/BenchmarkDotNet.Artifacts/results"
job=()
bdn_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) job=(--job Short); shift ;;
    --) shift; bdn_extra=("$@"); break ;;
    *) echo "usage: bench/run-suite.sh [--quick] [-- extra BenchmarkDotNet arguments]" >&2; exit 2 ;;
  esac
done

# jemalloc (Debian) needs static TLS for dlopen; the programs would restart themselves with it, set it once here.
export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.rtld.optional_static_tls=16384"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

step() { echo; echo "==== $* ($(date -u +%H:%M:%S), load: $(cut -d' ' -f1-3 /proc/loadavg))"; }

step "1/6 peers"
if [ "$(id -u)" = 0 ]; then
  bash bench/setup-peers.sh || true
else
  echo "not root: skipping bench/setup-peers.sh (missing peers are skipped)"
fi

step "2/6 machine"
mkdir -p "$results"
{
  echo "# Machine"
  echo
  echo '```'
  lscpu | grep -E '^(Architecture|CPU\(s\)|Model name|Thread|Core|Socket|Vendor ID|CPU family|Model:|Hypervisor|L1d|L2|L3|CPU max MHz|BogoMIPS)' || true
  echo
  grep -E '^PRETTY_NAME=' /etc/os-release | cut -d= -f2 | tr -d '"' || true
  uname -srm
  echo
  dotnet --version | sed 's/^/.NET SDK /'
  dotnet --list-runtimes | grep -E '^Microsoft.NETCore.App' || true
  gcc --version | head -n 1
  echo
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown) ($(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo '?'))"
  echo "started: $(date -u '+%Y-%m-%d %H:%M UTC'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo '```'
} > "$results/machine.md"
cat "$results/machine.md"

step "3/6 BenchmarkDotNet suite"
dotnet build -c Release bench/FastBuddy.Benchmarks --nologo -v:q
dotnet run -c Release --no-build --project bench/FastBuddy.Benchmarks -- \
  --filter '*AllocatorSuite*' '*SmallObjectSuite*' '*PageAllocBenchmarks*' "${job[@]}" "${bdn_extra[@]}"
echo "load average at the end of the suite: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$results/machine.md"

step "4/6 facts"
dotnet run -c Release --no-build --project bench/FastBuddy.Benchmarks -- facts --out "$results/facts.md"

step "5/6 C benchmark"
bash native-interop/build.sh   # always: out/libfastbuddy.so must match the checked-out source
bash native-interop/bench/run.sh | tee "$results/c-bench.md"

step "6/6 chart"
if command -v python3 >/dev/null 2>&1; then
  python3 bench/chart/chart.py "$results/FastBuddy.Benchmarks.Suite.AllocatorSuite-report.csv" docs/benchmarks.svg
else
  echo "python3 missing: docs/benchmarks.svg not redrawn" >&2
fi

step "done"
echo "tables: $results/*-report-github.md, $results/facts.md, $results/c-bench.md, $results/machine.md; chart: docs/benchmarks.svg"
