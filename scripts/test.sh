#!/usr/bin/env bash
# The whole test suite: formatting, lints, the engine's cargo tests, the UI's
# pure-logic tests, the browser end-to-end tests (headless Chromium) and the
# real desktop window under Xvfb (tauri-driver + WebKitWebDriver), then the
# same desktop tests against the app of a freshly built .deb.
# Installs what is missing first (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# A target dir outside the clone survives between CI runs; a fresh machine
# just builds from scratch.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
export WEBKIT_DISABLE_DMABUF_RENDERER=1
export CARGO_TERM_COLOR=never

# Each step says how far into the run it starts (seconds), so a slow step shows in the log.
start=$SECONDS
step() { printf '\n==> %s  [%ds]\n' "$*" $((SECONDS - start)); }

step "dependencies"
export PATH="$HOME/.cargo/bin:$PATH"
# The engine's tests need no system package: they compile while apt-get and
# npm fetch and unpack (mostly waiting on the network and the disk), which
# on a fresh machine hides minutes of the compile. Its log follows below.
early_log=$(mktemp)
cargo test --no-run -p refresh-race >"$early_log" 2>&1 &
early=$!
bash scripts/install-deps.sh
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
step "the engine's tests, compiled beside the dependencies"
if wait "$early"; then
  tail -n 3 "$early_log"
else
  # A machine without a C compiler yet, say: the steps below build it again.
  tail -n 20 "$early_log"
  echo "(the early compile failed; cargo test below builds it with the packages in place)"
fi
rm -f "$early_log"

step "cargo fmt"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (engine: real HTTP on 127.0.0.1)"
cargo test --workspace

step "recorded artefacts are current (scripts/bless.sh regenerates them)"
bash scripts/bless.sh --check --cargo-tests-ran

step "build the CLI and the desktop app"
cargo build -p refresh-race -p refresh-race-desktop

step "the binary carries its own UI (checkout's ui/ moved away)"
bash scripts/self-contained.sh

step "UI pure logic (node --test)"
node --test tests/ui-unit/*.test.mjs

step "exports checked by their consumers (HAR 1.2 schema, Mermaid's parser in Chromium)"
node --test --test-concurrency=1 tests/export/*.test.mjs

step "UI end to end in headless Chromium"
node --test --test-concurrency=1 tests/e2e/*.test.mjs

step "desktop window under Xvfb (tauri-driver)"
xvfb-run -a --server-args="-screen 0 1600x1000x24" node --test --test-concurrency=1 tests/desktop/*.test.mjs

step "the packaged app: a debug .deb, unpacked, run with the checkout out of sight"
bash scripts/test-packaged.sh

step "all green"
