#!/usr/bin/env bash
# The binaries carry their own UI: with the checkout's ui/ moved out of the
# way, `refresh-race serve` (run from another directory) still answers the
# page and its modules, byte for byte what ui/ held. ui/ is put back on any
# exit. Extra arguments: a command to run while ui/ is away (the desktop
# test against the unpacked .deb uses this).
#
# usage: scripts/self-contained.sh [COMMAND ...]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${REFRESH_RACE_BIN:-${CARGO_TARGET_DIR:-target}/debug/refresh-race}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
away=$(mktemp -d)
pid=
restore() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  if [ -d "$away/ui" ]; then mv "$away/ui" "$repo/ui"; fi
  rm -rf "$away"
}
trap restore EXIT
mv "$repo/ui" "$away/ui"

cd "$away"
out=$(mktemp)
env -u REFRESH_RACE_UI_DIR "$bin" serve --port 0 >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$out")
[ -n "$url" ] || { echo "self-contained: serve did not start:"; cat "$out"; exit 1; }
for file in index.html app.js lib/scale.js style.css; do
  path=/$file; [ "$file" = index.html ] && path=/
  if ! curl -fsS "$url$path" | cmp -s - "$away/ui/$file"; then
    echo "self-contained: $path differs from ui/$file (or is missing)" >&2
    exit 1
  fi
done
echo "self-contained: serve answered the UI with ui/ moved away ($url)"
cd "$repo"
if [ $# -gt 0 ]; then "$@"; fi
