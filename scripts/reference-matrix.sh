#!/usr/bin/env bash
# Regenerates docs/reference-matrix.md from real runs: which client survives
# which server rule (case 3, every client x every policy and preset, with one
# tab and three, article and OAuth mode), each run stepped in due order so
# every cell is exact. `cargo test --test it cli::` fails when the file is stale.
#
# usage: scripts/reference-matrix.sh
# env:   REFRESH_RACE_BIN   use this binary and skip `cargo build`
#        CARGO_TARGET_DIR   where cargo builds (default: target)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -z ${REFRESH_RACE_BIN:-} ]]; then
  cargo build -p refresh-race
  REFRESH_RACE_BIN=${CARGO_TARGET_DIR:-target}/debug/refresh-race
fi
tmp=$(mktemp docs/reference-matrix.md.XXXXXX)
trap 'rm -f "$tmp"' EXIT
"$REFRESH_RACE_BIN" matrix --reference > "$tmp"
mv "$tmp" docs/reference-matrix.md
trap - EXIT
echo "wrote docs/reference-matrix.md"
