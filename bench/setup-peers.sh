#!/usr/bin/env bash
# Installs the native allocators the benchmark suite compares FastBuddy with (Debian packages):
#   libmimalloc2.0 (libmimalloc.so.2), libjemalloc2 (libjemalloc.so.2), libtcmalloc-minimal4 (libtcmalloc_minimal.so.4).
# Needs root (apt-get). A failure is not fatal: the suite skips every peer it cannot load, with a message.
set -uo pipefail

pkgs=(libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4)

if [ "$(id -u)" != 0 ]; then
  echo "setup-peers: not root, cannot apt-get install ${pkgs[*]}; missing peers will be skipped" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-peers: no apt-get on this machine; missing peers will be skipped" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
  echo "setup-peers: apt-get update failed; trying the install with the package lists as they are" >&2
fi
if apt-get install -y -qq "${pkgs[@]}" >/dev/null; then
  echo "setup-peers: installed ${pkgs[*]}"
else
  echo "setup-peers: apt-get install ${pkgs[*]} failed; the peers that are missing will be skipped" >&2
fi

# Report what the suite will find (the cache read whole: a pipe into grep -q can die of SIGPIPE under pipefail).
cache=$(ldconfig -p 2>/dev/null)
for lib in libmimalloc.so.2 libjemalloc.so.2 libtcmalloc_minimal.so.4; do
  if grep -qF "$lib" <<<"$cache"; then
    echo "setup-peers: $lib present"
  else
    echo "setup-peers: $lib missing (its benchmarks will be skipped)"
  fi
done
exit 0
