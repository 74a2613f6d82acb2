#!/usr/bin/env bash
# The .deb as an attendee gets it: builds a debug .deb (scripts/package.sh
# --debug), unpacks it into a scratch root (dpkg-deb -x, no install), and runs
# tests/package/ and the desktop tests (tests/desktop/) against the packaged
# app and CLI: from a scratch folder, without REFRESH_RACE_UI_DIR, and with
# the checkout hidden under an empty tmpfs in a private mount namespace, so a
# binary that still reads files from the checkout fails here.
# scripts/test.sh runs it; it can also run alone (after install-deps.sh).
#
# usage: scripts/test-packaged.sh [--no-build | -- CARGO_ARGS...]
#   --no-build       reuse dist/debug/
#   -- CARGO_ARGS    what scripts/package.sh gives cargo (scripts/test.sh
#                    passes its own build's, so nothing compiles twice)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
export WEBKIT_DISABLE_DMABUF_RENDERER=1

[[ ${1:-} == --no-build ]] || bash scripts/package.sh --debug --bundles deb "$@"
debs=(dist/debug/refresh-race_*.deb)
[[ -f ${debs[0]} ]] || { echo "test-packaged.sh: no dist/debug/refresh-race_*.deb" >&2; exit 1; }
deb=$(realpath "${debs[0]}")
version=$(dpkg-deb --field "$deb" Version)

scratch=$(mktemp -d /tmp/refresh-race-deb.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
dpkg-deb -x "$deb" "$scratch/root"
cp "$deb" "$scratch/"   # the tests read its control file; dist/ is in the hidden checkout
mkdir "$scratch/tests"
cp -r tests/desktop tests/package "$scratch/tests/"

checkout=$PWD
hide=(unshare --mount --propagation private)
[[ $(id -u) -eq 0 ]] || hide=(unshare --map-root-user --mount --propagation private)
if ! "${hide[@]}" true 2>/dev/null; then
  echo "test-packaged.sh: no mount namespace here; the checkout stays visible to the packaged app" >&2
  hide=()
  checkout=
fi

echo "test-packaged.sh: $deb ($version) unpacked in $scratch/root; checkout: ${checkout:-visible}${checkout:+ hidden}"
cd "$scratch"
# Inside the namespace: hide the checkout, then run the tests from the scratch folder.
env -u REFRESH_RACE_UI_DIR \
  REFRESH_RACE_DEB="$scratch/$(basename "$deb")" \
  REFRESH_RACE_PACKAGE_ROOT="$scratch/root" \
  REFRESH_RACE_DESKTOP_BIN="$scratch/root/usr/bin/refresh-race-desktop" \
  REFRESH_RACE_EXPECT_VERSION="$version" \
  HIDE="$checkout" \
  "${hide[@]}" bash -c '
    set -euo pipefail
    [[ -z $HIDE ]] || mount -t tmpfs -o size=1m,mode=0555 refresh-race-hidden-checkout "$HIDE"
    exec xvfb-run -a --server-args="-screen 0 1600x1000x24" \
      node --test --test-concurrency=1 tests/package/*.test.mjs tests/desktop/*.test.mjs
  '
