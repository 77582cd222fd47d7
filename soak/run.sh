#!/usr/bin/env bash
# The soak (not part of the test command): a mixed multi-threaded workload with thread churn, a page cache under
# pressure and both reclaim modes, for a set time, ending with a summary block and every page accounted for.
#   bash soak/run.sh --minutes 10          (also: --seconds N, --threads PER_ARENA)
# Runs at nice 19: the machine may be shared. Exit status 0 when the summary says PASS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dotnet build "$here/FastBuddy.Soak/FastBuddy.Soak.csproj" -c Release --nologo -v:q >/dev/null
exec nice -n 19 dotnet "$here/FastBuddy.Soak/bin/Release/net10.0/FastBuddy.Soak.dll" "$@"
