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

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
bash scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

step "cargo fmt"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (engine: real HTTP on 127.0.0.1)"
cargo test --workspace

step "build the CLI and the desktop app"
cargo build -p refresh-race -p refresh-race-desktop

step "UI pure logic (node --test)"
node --test tests/ui-unit/*.test.mjs

step "exports checked by their consumers (HAR 1.2 schema, Mermaid's parser in Chromium)"
node --test --test-concurrency=1 tests/export/*.test.mjs

step "UI end to end in headless Chromium"
node --test --test-concurrency=1 tests/e2e/*.test.mjs

step "desktop window under Xvfb (tauri-driver)"
xvfb-run -a --server-args="-screen 0 1600x1000x24" node --test --test-concurrency=1 tests/desktop/*.test.mjs

step "the packaged app: a debug .deb, unpacked, run with the checkout out of sight"
# The .deb as an attendee gets it, unpacked into a scratch root (dpkg-deb -x,
# no install). Its app and CLI then run from a scratch folder, without
# REFRESH_RACE_UI_DIR, and with the checkout hidden under an empty tmpfs in a
# private mount namespace: a binary that still reads the checkout fails here.
bash scripts/package.sh --debug --bundles deb
debs=(dist/debug/refresh-race_*.deb)
scratch=$(mktemp -d /tmp/refresh-race-deb.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
dpkg-deb -x "${debs[0]}" "$scratch/root"
cp "${debs[0]}" "$scratch/"
mkdir "$scratch/tests"
cp -r tests/desktop tests/package "$scratch/tests/"
cat >"$scratch/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs inside the namespace: $1 is the checkout to hide, the rest the command.
set -euo pipefail
checkout=$1
shift
[[ -z $checkout ]] || mount -t tmpfs -o size=1m,mode=0555 refresh-race-hidden-checkout "$checkout"
exec "$@"
RUN
hide=(unshare --mount --propagation private)
[[ $(id -u) -eq 0 ]] || hide=(unshare --map-root-user --mount --propagation private)
checkout=$PWD
if ! "${hide[@]}" true 2>/dev/null; then
  echo "test.sh: cannot make a mount namespace here; the checkout stays visible to the packaged app" >&2
  hide=()
  checkout=
fi
(
  cd "$scratch"
  env -u REFRESH_RACE_UI_DIR \
    REFRESH_RACE_DEB="$scratch/$(basename "${debs[0]}")" \
    REFRESH_RACE_PACKAGE_ROOT="$scratch/root" \
    REFRESH_RACE_DESKTOP_BIN="$scratch/root/usr/bin/refresh-race-desktop" \
    REFRESH_RACE_EXPECT_VERSION="$(dpkg-deb --field "${debs[0]}" Version)" \
    "${hide[@]}" bash "$scratch/run.sh" "$checkout" \
    xvfb-run -a --server-args="-screen 0 1600x1000x24" \
    node --test --test-concurrency=1 tests/package/*.test.mjs tests/desktop/*.test.mjs
)

step "all green"
