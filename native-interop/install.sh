#!/usr/bin/env bash
# Installs the C library for hosts: native-interop/install.sh --prefix DIR [--no-build]
#   DIR/lib/libfastbuddy.so
#   DIR/include/fastbuddy.h
#   DIR/lib/pkgconfig/fastbuddy.pc                      (pkg-config fastbuddy; paths relative to the .pc file)
#   DIR/lib/cmake/FastBuddy/FastBuddyConfig.cmake       (find_package(FastBuddy): imported target FastBuddy::fastbuddy)
#   DIR/lib/cmake/FastBuddy/FastBuddyConfigVersion.cmake
# Every path written into the installed files is relative to where they are, so the tree can be moved or
# packaged (DESTDIR style) after installation. Builds the library first (build.sh) unless --no-build is given.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix=""
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }; prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$prefix" ] || { echo "install.sh: --prefix DIR is required" >&2; exit 2; }

[ "$build" -eq 0 ] || "$here/build.sh"
[ -f "$here/out/libfastbuddy.so" ] || { echo "install.sh: $here/out/libfastbuddy.so is missing: run build.sh" >&2; exit 1; }

version="$(sed -n 's/^#define FB_VERSION_STRING "\(.*\)"$/\1/p' "$here/include/fastbuddy.h")"
major="${version%%.*}"
minor="${version#*.}"; minor="${minor%%.*}"

mkdir -p "$prefix/lib/pkgconfig" "$prefix/lib/cmake/FastBuddy" "$prefix/include"
install -m 0755 "$here/out/libfastbuddy.so" "$prefix/lib/libfastbuddy.so"
install -m 0644 "$here/include/fastbuddy.h" "$prefix/include/fastbuddy.h"

# pkg-config: ${pcfiledir} is the directory of this .pc file, so the prefix is two levels up (lib/pkgconfig).
cat > "$prefix/lib/pkgconfig/fastbuddy.pc" <<PC
prefix=\${pcfiledir}/../..
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: fastbuddy
Description: FastBuddy zoned buddy page allocator (C interface, NativeAOT)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lfastbuddy
PC

cat > "$prefix/lib/cmake/FastBuddy/FastBuddyConfig.cmake" <<'CMAKE'
# find_package(FastBuddy) config file: defines the imported target FastBuddy::fastbuddy (libfastbuddy.so and
# fastbuddy.h), located relative to this file (PREFIX/lib/cmake/FastBuddy).
get_filename_component(_FASTBUDDY_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET FastBuddy::fastbuddy)
  add_library(FastBuddy::fastbuddy SHARED IMPORTED)
  set_target_properties(FastBuddy::fastbuddy PROPERTIES
    IMPORTED_LOCATION "${_FASTBUDDY_PREFIX}/lib/libfastbuddy.so"
    IMPORTED_SONAME "libfastbuddy.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_FASTBUDDY_PREFIX}/include")
endif()
set(FastBuddy_INCLUDE_DIRS "${_FASTBUDDY_PREFIX}/include")
set(FastBuddy_LIBRARIES FastBuddy::fastbuddy)
unset(_FASTBUDDY_PREFIX)
CMAKE

# Compatible when the major version matches (and, before 1.0, the minor one too) and the installed one is not older.
cat > "$prefix/lib/cmake/FastBuddy/FastBuddyConfigVersion.cmake" <<CMAKE
set(PACKAGE_VERSION "$version")
if(NOT PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
elseif(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif("$major" STREQUAL "0" AND NOT PACKAGE_FIND_VERSION_MINOR STREQUAL "$minor")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
# The library is built for linux-x64 only.
if(NOT CMAKE_SIZEOF_VOID_P STREQUAL "8")
  set(PACKAGE_VERSION "\${PACKAGE_VERSION} (64-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
CMAKE

echo "installed FastBuddy $version into $prefix (lib/, include/, lib/pkgconfig/fastbuddy.pc, lib/cmake/FastBuddy/)"
