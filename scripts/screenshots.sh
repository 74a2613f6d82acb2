#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png from the real desktop window:
#   case-1-guest.png … case-4-expired-not-refreshable.png (strategy naive) and compare.png.
# The app runs under Xvfb (xvfb-run), tauri-driver/WebKitWebDriver click the
# buttons, and ImageMagick's `import -window root` grabs the screen, cropped to
# the window (no window manager, so the window sits at 0,0). The window is
# 1400x900; for compare.png it is made taller so both timelines fit.
#
# usage: scripts/screenshots.sh [out-dir]        (default: docs/screenshots)
# env:   REFRESH_RACE_DESKTOP_BIN  use this binary and skip `cargo build`
#        CARGO_TARGET_DIR          where cargo builds (default: target)
# needs: scripts/install-deps.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out_dir=${1:-docs/screenshots}

if [[ -z ${REFRESH_RACE_DESKTOP_BIN:-} ]]; then
  cargo build -p refresh-race-desktop
fi

for cmd in xvfb-run import node tauri-driver; do
  command -v "$cmd" >/dev/null || { echo "screenshots.sh: $cmd not found; run scripts/install-deps.sh" >&2; exit 1; }
done

# Xvfb has no DMA-BUF; without this WebKitGTK may paint nothing.
export WEBKIT_DISABLE_DMABUF_RENDERER=1
unset WAYLAND_DISPLAY

export SCREEN_HEIGHT=1800 # room for the taller compare window; every shot is cropped to the window
xvfb-run --auto-servernum --server-args="-screen 0 1400x${SCREEN_HEIGHT}x24 -nolisten tcp" \
  node tests/desktop/screenshots.mjs "$out_dir"

echo "screenshots written to $out_dir/"
