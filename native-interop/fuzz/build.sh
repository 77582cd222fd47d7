#!/usr/bin/env bash
# Builds the C ABI fuzz harness against native-interop/out/libfastbuddy.so (run native-interop/build.sh first):
#   out/fuzz_abi        libFuzzer + AddressSanitizer (clang-14 with libclang-rt-14-dev), when clang is there
#   out/fuzz_replay     the same harness with a plain main() (gcc): replays files or directories, no fuzzing
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/out"
mkdir -p "$out"
lib=(-I"$root/include" -L"$root/out" -Wl,-rpath,"$root/out" -lfastbuddy)

gcc -std=c11 -O1 -g -Wall -Wextra -Werror "$here/fuzz_abi.c" "$here/fuzz_main.c" "${lib[@]}" -o "$out/fuzz_replay"
echo "built $out/fuzz_replay"

clang="$(command -v clang-14 || command -v clang || true)"
if [[ -n "$clang" ]]; then
    "$clang" -std=c11 -O1 -g -Wall -Wextra -Werror -fsanitize=fuzzer,address "$here/fuzz_abi.c" "${lib[@]}" -o "$out/fuzz_abi"
    echo "built $out/fuzz_abi ($clang, libFuzzer + ASan)"
else
    echo "clang not found: only the replay driver was built" >&2
fi
