#!/usr/bin/env bash
# The desktop app, release build: binary size, time from launch until the
# UI is interactive (the page's load event, after its module scripts ran),
# and idle memory (RSS of the app plus its WebKit processes, 5 s after load);
# then the memory after one case-3 run (bench/app-run.mjs: the app driven
# through tauri-driver, PSS idle and 5 s after the run).
# Median of REPS launches under a private Xvfb.
#
# usage: bench/app.sh [REPS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
export WEBKIT_DISABLE_DMABUF_RENDERER=1
app="$CARGO_TARGET_DIR/release/refresh-race-desktop"
cargo build --release -q -p refresh-race-desktop

display=:$((90 + RANDOM % 50))
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
work=$(mktemp -d)
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
export DISPLAY=$display
sleep 1

tree_rss_kib() { # pid → summed RSS of it and all descendants
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    if [ "$pid" != "$1" ]; then total=$((total + $(tree_rss_kib "$pid"))); continue; fi
    total=$((total + $(ps -o rss= -p "$pid" 2>/dev/null || echo 0)))
  done
  echo $total
}

tree_pss_kib() { # like tree_rss_kib, but shared pages split between the processes mapping them
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    if [ "$pid" != "$1" ]; then total=$((total + $(tree_pss_kib "$pid"))); continue; fi
    total=$((total + $(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo $total
}

launch_ms=()
rss=()
pss=()
for _ in $(seq "$reps"); do
  start=$(date +%s%N)
  "$app" 2> "$work/log" &
  pid=$!
  for _ in $(seq 300); do grep -q "page loaded" "$work/log" && break; sleep 0.01; done
  end=$(date +%s%N)
  grep -q "page loaded" "$work/log" || { echo "the page never loaded:"; cat "$work/log"; exit 1; }
  launch_ms+=($(((end - start) / 1000000)))
  sleep 5 # idle: nothing clicked
  rss+=($(tree_rss_kib $pid))
  pss+=($(tree_pss_kib $pid))
  kill $pid; wait $pid 2>/dev/null || true
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
size=$(stat -c %s "$app")
echo "binary size:         $((size / 1024 / 1024)) MB ($size bytes)"
echo "launch → interactive: median $(median "${launch_ms[@]}") ms   runs: ${launch_ms[*]}"
echo "idle RSS (app+webkit): median $(( $(median "${rss[@]}") / 1024 )) MB   runs (KiB): ${rss[*]}"
echo "idle PSS (app+webkit): median $(( $(median "${pss[@]}") / 1024 )) MB   runs (KiB): ${pss[*]}"
echo "  (RSS counts the shared WebKit libraries once per process; PSS splits them)"
node bench/app-run.mjs "$app" "$reps"
echo "machine: $(nproc) cores; $reps launches under Xvfb; $(date -u +%F)"
