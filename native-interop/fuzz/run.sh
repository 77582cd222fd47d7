#!/usr/bin/env bash
# Fuzzes the C ABI for a while: builds the harness (fuzz/build.sh, which needs native-interop/out/libfastbuddy.so),
# replays the committed corpus, then runs libFuzzer for --seconds N (default 60) on a scratch copy of it.
# A disagreement with the model aborts the input; the crash file is left in fuzz/out/ and the script fails.
#   bash native-interop/fuzz/run.sh --seconds 60          (CI)
#   bash native-interop/fuzz/run.sh --seconds 3600 --keep  (a long run; --keep merges new inputs into corpus/)
# The last line is "fuzz: 1 passed, 0 failed" or "fuzz: 0 passed, 1 failed (why)".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds=60
keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "usage: run.sh [--seconds N] [--keep]" >&2; exit 2 ;;
    esac
done

bash "$here/build.sh" || { echo "fuzz: 0 passed, 1 failed (build)"; exit 1; }
"$here/out/fuzz_replay" "$here/corpus" || { echo "fuzz: 0 passed, 1 failed (corpus replay)"; exit 1; }
if [[ ! -x "$here/out/fuzz_abi" ]]; then
    echo "fuzz: 0 passed, 1 failed (no libFuzzer build: install clang-14 and libclang-rt-14-dev)"
    exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# detect_leaks=0: the .NET runtime inside libfastbuddy.so keeps its own allocations until exit.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
(cd "$here/out" && nice -n 10 ./fuzz_abi -max_total_time="$seconds" -max_len=1024 -timeout=20 \
    -print_final_stats=1 "$scratch" "$here/corpus")
status=$?
if [[ $status -ne 0 ]]; then
    echo "fuzz: 0 passed, 1 failed (exit $status; the input is the crash-* file in $here/out)"
    exit 1
fi
if [[ $keep -eq 1 ]]; then
    (cd "$here/out" && ./fuzz_abi -merge=1 "$here/corpus" "$scratch" >/dev/null 2>&1)
    echo "corpus: $(ls "$here/corpus" | wc -l) inputs"
fi
echo "fuzz: 1 passed, 0 failed"
