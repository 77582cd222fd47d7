#!/usr/bin/env bash
# Runs every FastBuddy test: the C# suites (xunit) and the C suites (ctest, plus valgrind memcheck when
# valgrind is installed), then prints one line summing them all: "N passed, M failed".
# Needs only the .NET SDK, gcc and cmake. Exit status: 0 when everything passed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

passed=0
failed=0
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== C# tests (dotnet test, Release)"
dotnet test FastBuddy.sln -c Release --nologo 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# VSTest prints one summary line per test assembly: "Passed!  - Failed: 0, Passed: 61, Skipped: 0, ..."
while read -r f p; do
  failed=$((failed + f))
  passed=$((passed + p))
done < <(sed -nE 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+),.*/\1 \2/p' "$log")
if ! grep -qE 'Failed:[[:space:]]*[0-9]+, Passed:' "$log"; then
  echo "C# tests did not report a summary" >&2
  failed=$((failed + 1))
  status=1
fi

echo "== C# policy tests again, in the library's default configuration (per-thread magazines on)"
# The policy suite runs with the magazines off above (exact zone states); tests that do not pin the configuration
# run here a second time with them on.
FASTBUDDY_POLICY_MAGAZINES=256 dotnet test tests/FastBuddy.Tests -c Release --nologo --no-build \
    --filter "FullyQualifiedName~FastBuddy.Tests.Policy" 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
line=$(grep -E 'Failed:[[:space:]]*[0-9]+, Passed:' "$log" | tail -n 1)
if [ -n "$line" ]; then
  failed=$((failed + $(sed -nE 's/.*Failed:[[:space:]]*([0-9]+), Passed:.*/\1/p' <<<"$line")))
  passed=$((passed + $(sed -nE 's/.*Passed:[[:space:]]*([0-9]+),.*/\1/p' <<<"$line")))
else
  echo "the policy suite with magazines did not report a summary" >&2
  failed=$((failed + 1))
  status=1
fi

echo "== C tests (libfastbuddy.so, ctest)"
if [ -x native-interop/run-tests.sh ] || [ -f native-interop/run-tests.sh ]; then
  bash native-interop/run-tests.sh 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  line=$(grep -E '^C: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/^C: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
    f=$(sed -E 's/^C: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    passed=$((passed + p))
    failed=$((failed + f))
  else
    echo "C tests did not report a summary" >&2
    failed=$((failed + 1))
    status=1
  fi
fi

[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit "$status"
