#!/usr/bin/env bash
# Builds libfastbuddy.so, the sample and the C tests, runs the tests (normally, under ThreadSanitizer for the
# threaded suites, then under valgrind memcheck)
# and ends with one line: "C: N passed, M failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$here/build"
jobs="${FB_JOBS:-2}"

fail_setup() {
    echo "$1" >&2
    echo "C: 0 passed, 1 failed"
    exit 1
}

"$here/build.sh" || fail_setup "build.sh failed"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || fail_setup "cmake configure failed"
cmake --build "$build" -j "$jobs" || fail_setup "cmake build failed"

passed=0
failed=0
skipped=0
run_label() {
    local label="$1" log="$build/ctest-$1.log"
    (cd "$build" && ctest -L "^$label\$" -j "$jobs" --output-on-failure) | tee "$log"
    # ctest's summary: "100% tests passed, 0 tests failed out of 123"
    local line total bad skip
    line="$(grep -E 'tests? failed out of [0-9]+' "$log" | tail -n 1)"
    if [[ -z "$line" ]]; then
        if grep -q 'No tests were found' "$log"; then
            echo "no $label tests registered" >&2
        fi
        failed=$((failed + 1))
        return
    fi
    total="$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")"
    bad="$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")"
    # ctest counts a skipped test (SKIP_RETURN_CODE) in "out of N" but lists it as "(Skipped)": not a pass.
    skip="$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$log" || true)"
    passed=$((passed + total - bad - skip))
    failed=$((failed + bad))
    skipped=$((skipped + skip))
}

run_label c
# ThreadSanitizer: registered by CMake when the compiler supports -fsanitize=thread.
if [[ -x "$build/tests/fbtests_tsan" ]]; then
    run_label tsan
else
    echo "gcc without -fsanitize=thread: the tsan run is skipped" >&2
fi
if command -v valgrind >/dev/null 2>&1; then
    run_label valgrind
else
    echo "valgrind not found: the memcheck run is skipped" >&2
fi

echo "C: $passed passed, $failed failed$([[ $skipped -eq 0 ]] || echo ", $skipped skipped")"
[[ $failed -eq 0 ]]
