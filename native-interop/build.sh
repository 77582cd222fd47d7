#!/usr/bin/env bash
# Builds libfastbuddy.so (NativeAOT, Release, linux-x64) into native-interop/out/, with fastbuddy.pc beside it.
# The separate debug file (.dbg) stays in the publish folder: valgrind's debug-info reader cannot read it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stage="$here/FastBuddy.Native/bin/publish"
out="$here/out"

dotnet publish "$here/FastBuddy.Native/FastBuddy.Native.csproj" \
    -c Release -r linux-x64 -p:StripSymbols=true -o "$stage" --nologo -v:q

mkdir -p "$out"
rm -f "$out"/*.dbg
install -m 0755 "$stage/libfastbuddy.so" "$out/libfastbuddy.so"

version="$(sed -n 's/^#define FB_VERSION_STRING "\(.*\)"$/\1/p' "$here/include/fastbuddy.h")"
# Paths relative to the .pc file (out/), so the build tree can move; install.sh writes the installed one.
cat > "$out/fastbuddy.pc" <<PC
prefix=\${pcfiledir}/..
includedir=\${prefix}/include
libdir=\${prefix}/out

Name: fastbuddy
Description: FastBuddy zoned buddy page allocator (C interface, NativeAOT)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lfastbuddy
PC

echo "built $out/libfastbuddy.so ($version) and $out/fastbuddy.pc"
