#!/usr/bin/env bash
# Explore benchmarks (BENCHMARKS.md, "Explore"): for each Rust strategy,
# `refresh-race explore` of case 3 under strict with 3 secret + 1 public
# requests (exact count, wall time, peak RSS), then how the count and the
# time grow from 2 to 4 lanes.
#
#   bench/explore.sh [BINARY] [REPEATS]
#
# BINARY defaults to ${CARGO_TARGET_DIR:-target}/release/refresh-race
# (build it with `cargo build --release`). Each row is the median wall time
# of REPEATS runs (default 3), the CPU time (user + sys) of the last one and
# the largest peak RSS among them, read from GNU time (`/usr/bin/time -f`).
set -euo pipefail

BIN=${1:-${CARGO_TARGET_DIR:-target}/release/refresh-race}
REPEATS=${2:-3}
# A setup still exploring after this many seconds is reported as such.
LIMIT=${LIMIT:-120}
TIME=/usr/bin/time
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --release" >&2; exit 2; }
[ -x "$TIME" ] || { echo "needs GNU time at $TIME (apt-get install time)" >&2; exit 2; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One setup: prints "orders failing states runs median_s max_rss_mb cpu_s",
# or "- - - - >LIMIT max_rss_mb -" when it did not finish within LIMIT seconds.
measure() {
  local times=() rss=0 cpu json="$tmp/out.json"
  for _ in $(seq "$REPEATS"); do
    if ! "$TIME" -f '%e %M %U %S' -o "$tmp/time" timeout "$LIMIT" "$BIN" explore "$@" --json --out "$json" >/dev/null 2>"$tmp/err"; then
      read -r _ kb _ < <(tail -1 "$tmp/time")
      echo "- - - - >$LIMIT $((kb / 1024)) -"
      return
    fi
    read -r wall kb user sys <"$tmp/time"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    times+=("$wall")
    (( kb > rss )) && rss=$kb
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  jq -r --arg t "$median" --arg m "$((rss / 1024))" --arg c "$cpu" \
    '"\(.orders) \(.failing) \(.states) \(.runs) \($t) \($m) \($c)"' "$json"
}

echo "## case 3, strict, 3 secret + 1 public"
echo "| client | orders (exact) | failing | states | runs | time (median of $REPEATS) | CPU | peak RSS | orders/s |"
echo "|---|---|---|---|---|---|---|---|---|"
for client in naive queue single-flight proactive mutex late-check; do
  read -r orders failing states runs t mb cpu < <(measure --client "$client" --secret 3 --public 1)
  rate=$(awk -v o="$orders" -v t="$t" 'BEGIN { if (o == "-") print "-"; else printf "%.3g", o / (t > 0 ? t : 0.001) }')
  echo "| $client | $orders | $failing | $states | $runs | ${t} s | ${cpu} s | ${mb} MB | $rate |"
done

echo
echo "## growth: lanes of secret requests (and 3 + 1 public), strict"
echo "| client | lanes | orders | states | runs | time | orders per run |"
echo "|---|---|---|---|---|---|---|"
for client in naive single-flight; do
  for setup in "2 0" "3 0" "2 1" "3 1" "4 0"; do
    read -r secret public <<<"$setup"
    read -r orders failing states runs t mb _ < <(measure --client "$client" --secret "$secret" --public "$public")
    per=$(awk -v o="$orders" -v r="$runs" 'BEGIN { if (o == "-") print "-"; else printf "%.3g", o / r }')
    echo "| $client | $secret secret + $public public | $orders | $states | $runs | ${t} s | $per |"
  done
done
