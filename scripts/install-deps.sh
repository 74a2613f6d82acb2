#!/usr/bin/env bash
# Installs what building and testing Refresh Race needs on Debian 12, and
# nothing when it is all there already (safe to run on every CI run).
#   - Debian packages for Tauri/WebKitGTK, the desktop e2e test (Xvfb,
#     WebKitWebDriver, xprop), screenshots (ImageMagick) and the browser e2e
#     tests (Chromium); Node.js/npm only if `node`/`npm` are missing.
#   - tauri-driver from crates.io if it is not on PATH: it is published
#     nowhere else, so it is compiled, in a throwaway target dir.
# The Tauri CLI (the bundler behind scripts/package.sh) is not installed
# here: it is the npm package @tauri-apps/cli, pinned in package.json, with
# a prebuilt binary; `npm ci` brings it (`npx tauri --version`).
# Runs as root, or as a user with sudo. Needs a Rust toolchain (cargo) for
# tauri-driver.
#
# usage: scripts/install-deps.sh
set -euo pipefail

packages=(
  build-essential
  pkg-config
  libwebkit2gtk-4.1-dev # the webview (pulls libsoup-3.0-dev, javascriptcoregtk-4.1-dev)
  libgtk-3-dev
  librsvg2-dev # Tauri's documented Linux prerequisite (SVG icons via gdk-pixbuf)
  # libxdo-dev is not needed: nothing enables muda's libxdo feature (see Cargo.lock).
  webkit2gtk-driver # WebKitWebDriver, which tauri-driver drives
  xvfb
  xauth # xvfb-run needs it
  x11-utils # xwininfo/xprop: the desktop test reads the native window title
  imagemagick # `import` for screenshots
  chromium # browser e2e tests
  fonts-dejavu-core # the PNG export draws its text with DejaVu Sans / Sans Mono
  curl # scripts/self-contained.sh fetches the UI from a running serve
)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  as_root=(__no_sudo__)
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if [[ ${as_root[0]:-} == __no_sudo__ ]]; then
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
  echo "install-deps: Debian packages already installed"
fi

# cargo puts installed binaries here; make them visible for the rest of this script.
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
[[ -d $cargo_bin && :$PATH: != *:$cargo_bin:* ]] && PATH=$cargo_bin:$PATH

if command -v tauri-driver >/dev/null; then
  echo "install-deps: tauri-driver already installed ($(command -v tauri-driver))"
else
  command -v cargo >/dev/null || { echo "install-deps: cargo not found; install Rust first" >&2; exit 1; }
  echo "install-deps: cargo install tauri-driver --locked --debug"
  # Built in a throwaway target dir (not the project's CARGO_TARGET_DIR):
  # nothing of it is reused there. A debug build: it only relays WebDriver
  # calls, and compiles in half the time of a release build.
  env -u CARGO_TARGET_DIR cargo install tauri-driver --locked --debug
fi
