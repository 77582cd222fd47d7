#!/usr/bin/env bash
# The package as a consumer sees it: packs src/FastBuddy (and the CLI as a .NET tool) into a temporary folder
# feed, checks the .nupkg's files and metadata and the .snupkg, publishes tests/aot-smoke with NativeAOT against
# the package (trimming/AOT warnings are errors), runs it, and installs and runs the tool.
# Prints one line per check and ends with "package: N passed, M failed". Exit status 0 when all passed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

work=$(mktemp -d)
# A version of its own, so that no earlier FastBuddy in the NuGet cache is taken for this one.
version="0.1.0-smoke.$(date +%Y%m%d%H%M%S).$$"
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cleanup() {
    rm -rf "$work" "$cache/fastbuddy/$version" "$cache/fastbuddy.cli/$version"
}
trap cleanup EXIT

# shellcheck source=/dev/null
source "$root/tests/checks.sh"

pack_library() {
    dotnet pack src/FastBuddy -c Release -o "$work/feed" -p:PackageVersion="$version" --nologo -v:q
}
nupkg="$work/feed/FastBuddy.$version.nupkg"
package_files() {
    local list
    list=$(unzip -l "$nupkg") || return 1
    echo "$list"
    for f in README.md LICENSE lib/net10.0/FastBuddy.dll lib/net10.0/FastBuddy.xml FastBuddy.nuspec; do
        grep -qE "[[:space:]]$f\$" <<<"$list" || { echo "missing $f"; return 1; }
    done
}
package_metadata() {
    local spec
    spec=$(unzip -p "$nupkg" FastBuddy.nuspec) || return 1
    echo "$spec"
    for want in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<repository type="git"' \
        '<projectUrl>' '<tags>' '<authors>FastBuddy authors</authors>' '<description>'; do
        grep -qF "$want" <<<"$spec" || { echo "nuspec lacks $want"; return 1; }
    done
}
symbols_package() {
    # The listing is read whole first: "unzip -l | grep -q" under pipefail fails whenever grep exits before
    # unzip's last write (SIGPIPE), which happened in about one run in five.
    local list
    list=$(unzip -l "$work/feed/FastBuddy.$version.snupkg") || return 1
    grep -qE '[[:space:]]lib/net10.0/FastBuddy.pdb$' <<<"$list"
}
publish_aot() {
    dotnet publish tests/aot-smoke -c Release -r linux-x64 -o "$work/aot" --nologo \
        -p:FastBuddyVersion="$version" -p:RestoreAdditionalProjectSources="$work/feed" 2>&1 | tee "$work/publish.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    ! grep -E 'warning (IL|CS)[0-9]+' "$work/publish.log"
}
run_aot() {
    "$work/aot/FastBuddy.AotSmoke"
}
pack_tool() {
    dotnet pack src/FastBuddy.Cli -c Release -o "$work/feed" -p:PackageVersion="$version" --nologo -v:q
}
install_tool() {
    dotnet tool install FastBuddy.Cli --tool-path "$work/tools" --version "$version" --add-source "$work/feed" \
        && "$work/tools/fastbuddy" --help
}

echo "== package (dotnet pack, NativeAOT consumer, .NET tool)"
check "dotnet pack src/FastBuddy" pack_library
check "package holds README.md, LICENSE, the dll and its XML docs" package_files
check "nuspec: MIT expression, readme, repository, project url, tags, authors" package_metadata
check "symbols package (.snupkg) holds the pdb" symbols_package
check "NativeAOT publish of tests/aot-smoke against the package, without warnings" publish_aot
check "the AOT app runs and exits 0" run_aot
check "dotnet pack src/FastBuddy.Cli (PackAsTool)" pack_tool
check "dotnet tool install FastBuddy.Cli; fastbuddy --help" install_tool

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
