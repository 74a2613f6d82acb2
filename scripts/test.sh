#!/usr/bin/env bash
# The whole test suite: formatting, lints, the engine's cargo tests, the UI's
# pure-logic tests, the browser end-to-end tests (headless Chromium) and the
# real desktop window under Xvfb (tauri-driver + WebKitWebDriver), run on
# the app of a freshly built debug .deb.
# Installs what is missing first (scripts/install-deps.sh).
#
# How it stays short on two cores (docs/testing.md says more):
#  - One build. Every cargo command here selects the same packages, targets
#    and features, so the dependencies resolve to one feature set and
#    compile once (a command with fewer packages, or without the tests'
#    dev-dependencies, resolves other features and rebuilds most of the
#    tree). Clippy lints our crates inside that build, as `cargo clippy`
#    itself does it (clippy-driver as RUSTC_WORKSPACE_WRAPPER), instead of
#    a second, check-only compile of every dependency.
#  - The build starts before the Debian packages are in: everything that
#    needs no system library compiles while apt-get and npm download.
#  - The browser e2e (the longest suite) starts as soon as the lab's CLI is
#    built and runs beside the rest of the build, which runs niced so the
#    e2e gets the CPU first. The engine's tests follow the e2e.
set -euo pipefail
cd "$(dirname "$0")/.."

# A target dir outside the clone survives between CI runs; a fresh machine
# just builds from scratch.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
export WEBKIT_DISABLE_DMABUF_RENDERER=1
export CARGO_TERM_COLOR=never
export PATH="$HOME/.cargo/bin:$PATH"
# The binaries every suite runs (the harnesses and scripts read these).
export REFRESH_RACE_BIN="$CARGO_TARGET_DIR/debug/refresh-race"
export REFRESH_RACE_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/refresh-race-desktop"

# Each step says how far into the run it starts (seconds), so a slow step shows in the log.
start=$SECONDS
step() { printf '\n==> %s  [%ds]\n' "$*" $((SECONDS - start)); }

# The one build: both packages, every target (tests, benches, examples: what
# `cargo clippy --all-targets` lints), and tauri/custom-protocol, the feature
# the Tauri CLI adds when it packages the app, so scripts/package.sh finds
# everything built. clippy's `-D warnings` travels in CLIPPY_ARGS.
build=(--workspace --all-targets --features tauri/custom-protocol)
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

jobs_to_stop=()
logs=()
cleanup() {
  for pid in "${jobs_to_stop[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  rm -f "${logs[@]}"
}
trap cleanup EXIT

step "dependencies, with every part of the build that needs no system library compiling beside"
early_log=$(mktemp)
logs+=("$early_log")
# --keep-going: the GTK/WebKit bindings fail here until apt-get has put
# their libraries in; everything else compiles. JSON, to see when the CLI
# (all the e2e needs) is built. Niced: the e2e will run beside it.
# Everything at once: building the CLI first started the e2e ~90 s sooner
# but did not shorten the run (BENCHMARKS.md, the fifth round), so the one
# simpler command stays.
nice -n 10 cargo build "${build[@]}" --keep-going --message-format=json-diagnostic-short >"$early_log" 2>&1 &
early=$!
jobs_to_stop+=("$early")
bash scripts/install-deps.sh
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

step "cargo fmt"
cargo fmt --all -- --check

step "the lab's CLI, built early"
cli_built() { grep -q '"executable":"[^"]*/debug/refresh-race"' "$early_log"; }
# Polls the build's log: the CLI is done long before the rest of the tree.
while ! cli_built && kill -0 "$early" 2>/dev/null; do sleep 1; done
if ! cli_built; then
  echo "the early build did not build the CLI; building it with everything else"
  wait "$early" || true
  cargo build "${build[@]}"
fi

step "UI end to end in headless Chromium: started, three files at a time (its log follows at the end)"
# Three, not two: alone on a quiet machine two files at a time left the
# cores idle whenever one file ran on its own (411 s; three: 378 s, ~1 %
# idle), and the build beside it is niced.
e2e_log=$(mktemp)
logs+=("$e2e_log")
set -m # its own process group, so an early exit stops the browsers too
node --test --test-concurrency=3 tests/e2e/*.test.mjs >"$e2e_log" 2>&1 &
e2e=$!
set +m
jobs_to_stop+=("$e2e")

step "build everything; clippy lints our crates in it"
# The early build's own verdict does not count: what it could not build
# without the system libraries, and any lint, comes again here, readable.
wait "$early" || true
nice -n 10 cargo build "${build[@]}"

step "UI pure logic (node --test)"
node --test tests/ui-unit/*.test.mjs

step "exports checked by their consumers (HAR 1.2 schema, Mermaid's parser in Chromium)"
node --test --test-concurrency=1 tests/export/*.test.mjs

step "UI end to end in headless Chromium: its log"
e2e_ok=true
wait "$e2e" || e2e_ok=false
jobs_to_stop=()
cat "$e2e_log"
$e2e_ok || { echo "the browser e2e failed (above)"; exit 1; }

step "cargo test (engine: real HTTP on 127.0.0.1)"
# Not --all-targets: that would run the benches too. The same features as
# the build: tests bring the dev-dependencies in either way. After the
# e2e, not beside it: on a warm machine the build is done in a minute and
# the engine's tests then ran beside three e2e files, and that load broke
# e2e tests' races (two in two warm runs); cold, the e2e ends about when
# the build does, so this costs nothing there (BENCHMARKS.md, the sixth
# round). Beside the build and the e2e at once it broke a timer count too
# (the fifth round). Six test threads, not one per core: the explorer's
# brute-force tests wait on their runs' HTTP more than they compute, so
# two threads left the cores half idle (tests/it: 74 s wall for 77 s of
# CPU; with six, 38 s).
cargo test --workspace --features tauri/custom-protocol -- --test-threads=6

step "recorded artefacts are current (scripts/bless.sh regenerates them)"
bash scripts/bless.sh --check --cargo-tests-ran

# The desktop tests come after the e2e, on a quiet machine: some of them
# count a real window's timer runs, which a loaded machine can reorder (one
# did, once, beside the e2e). They run once, against the app as an attendee
# installs it: test-packaged.sh runs tests/package and tests/desktop on the
# unpacked debug .deb (the binary this build made, bundled).
step "the packaged app and the desktop window under Xvfb (tauri-driver): a debug .deb, unpacked, run with the checkout out of sight"
bash scripts/test-packaged.sh -- "${build[@]}"

step "the binary carries its own UI (checkout's ui/ moved away)"
# Last: it moves ui/ out of the checkout for a moment, which nothing that
# runs beside it may see.
bash scripts/self-contained.sh

step "all green"
