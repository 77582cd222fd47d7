#!/usr/bin/env bash
# Checks the C install as a host sees it: installs into a temporary prefix (install.sh), moves the tree (every
# installed path must be relative), then builds the README's C host (samples/readme_host.c) against it with
# pkg-config and with CMake's find_package(FastBuddy), and runs both. --no-build uses the existing out/.
# Prints one line per check and ends with "install: N passed, M failed". Exit status 0 when all passed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_flag=""
[ "${1:-}" = "--no-build" ] && build_flag="--no-build"

# shellcheck source=/dev/null
source "$here/../tests/checks.sh"

installed="$work/installed"
moved="$work/elsewhere/prefix"
host="$here/samples/readme_host.c"

install_tree() {
    "$here/install.sh" --prefix "$installed" $build_flag
}
installed_files() {
    local f
    for f in lib/libfastbuddy.so include/fastbuddy.h lib/pkgconfig/fastbuddy.pc \
        lib/cmake/FastBuddy/FastBuddyConfig.cmake lib/cmake/FastBuddy/FastBuddyConfigVersion.cmake; do
        [ -f "$installed/$f" ] || { echo "missing $f"; return 1; }
    done
}
relative_paths() {
    # No installed text file may name the build tree or the prefix it was installed to.
    ! grep -rnF -e "$here" -e "$installed" "$installed/lib/pkgconfig" "$installed/lib/cmake"
}
move_tree() {
    mkdir -p "$(dirname "$moved")" && mv "$installed" "$moved"
}
pkg_config_host() {
    export PKG_CONFIG_PATH="$moved/lib/pkgconfig"
    [ "$(pkg-config --modversion fastbuddy)" = "$(sed -n 's/^#define FB_VERSION_STRING "\(.*\)"$/\1/p' "$moved/include/fastbuddy.h")" ] || return 1
    # shellcheck disable=SC2046
    gcc -std=c11 -Wall -Wextra -Werror "$host" $(pkg-config --cflags --libs fastbuddy) -o "$work/host-pkgconfig" \
        && "$work/host-pkgconfig"
}
find_package_host() {
    cmake -S "$here/samples/installed" -B "$work/cmake-host" -DCMAKE_PREFIX_PATH="$moved" \
        && cmake --build "$work/cmake-host" \
        && "$work/cmake-host/readme_host"
}
find_package_refuses_a_newer_version() {
    mkdir -p "$work/too-new"
    cat > "$work/too-new/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(TooNew LANGUAGES C)
find_package(FastBuddy 1.0 CONFIG)
if(FastBuddy_FOUND)
  message(FATAL_ERROR "an installed 0.x was accepted for FastBuddy 1.0")
endif()
CMAKE
    cmake -S "$work/too-new" -B "$work/too-new/build" -DCMAKE_PREFIX_PATH="$moved"
}

echo "== C install (install.sh --prefix, pkg-config, find_package)"
check "install.sh --prefix into a temporary prefix" install_tree
check "lib/libfastbuddy.so, include/fastbuddy.h, lib/pkgconfig/fastbuddy.pc, lib/cmake/FastBuddy/*" installed_files
check "installed .pc and CMake files name no absolute path" relative_paths
check "the installed tree can be moved" move_tree
check "README C host built with pkg-config against the moved prefix, and run" pkg_config_host
check "README C host built with find_package(FastBuddy) against the moved prefix, and run" find_package_host
check "find_package(FastBuddy 1.0) refuses the installed 0.x" find_package_refuses_a_newer_version

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
