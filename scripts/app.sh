#!/usr/bin/env bash
# Launches the Refresh Race desktop app (installs missing system packages first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
exec cargo run -p refresh-race-desktop "$@"
