#!/usr/bin/env bash
# Server throughput, side by side in one run with one load generator (wrk):
#   lab          refresh-race serve (event recording on, as in a real run)
#   lab-norec    refresh-race serve --no-record (the cost of recording)
#   bare         an axum route that does no work (this machine's ceiling)
#   node-ref     a Node server in the source article's shape
#                (bench/node-reference/server.mjs; needs only `node`)
# Routes: GET /api/secret with a valid token, POST /api/login, POST
# /api/refresh with a fresh token per request. Prints the median of REPS
# runs of DURATION each: requests/s, p50 and p99 latency, non-2xx count.
#
# usage: bench/throughput.sh [REPS=5] [DURATION=5s]
#   RR_RELEASE_DIR=DIR uses the binaries in DIR (refresh-race, and
#   examples/bare_axum, examples/mint_tokens) instead of building: to
#   measure an older build in the same sitting.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
duration=${2:-5s}
threads=2
connections=50
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
release="${RR_RELEASE_DIR:-$CARGO_TARGET_DIR/release}"
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -n "${RR_RELEASE_DIR:-}" ] || cargo build --release -q -p refresh-race --bin refresh-race --example bare_axum --example mint_tokens

have_node_baseline=false
if command -v node >/dev/null; then
  have_node_baseline=true
else
  echo "note: node is missing; skipping the Node baseline" >&2
fi

wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/api/public" && return 0; sleep 0.1; done; echo "port $1 never answered" >&2; exit 1; }

# Long token lifetimes so minted tokens stay valid and refreshable for the whole run.
"$release/refresh-race" serve --port 3910 --ttl 3600 --window 3600 >/dev/null & pids+=($!)
"$release/refresh-race" serve --port 3911 --ttl 3600 --window 3600 --no-record >/dev/null & pids+=($!)
"$release/examples/bare_axum" 3912 >/dev/null & pids+=($!)
if $have_node_baseline; then
  JWT_TOKEN_EXPIRES=100000 JWT_TOKEN_REFRESH=100000 PORT=3913 node bench/node-reference/server.mjs >/dev/null & pids+=($!)
fi
for port in 3910 3911; do wait_port $port; done
sleep 0.5 # bare_axum and node have no /api/public; give them a moment

lab_token=$(curl -s -X POST -H 'content-type: application/json' -d '{"login":"bench","password":"x"}' http://127.0.0.1:3910/api/login | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
norec_token=$(curl -s -X POST -H 'content-type: application/json' -d '{"login":"bench","password":"x"}' http://127.0.0.1:3911/api/login | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
if $have_node_baseline; then
  node_token=$(curl -s 'http://127.0.0.1:3913/api/login?login=bench' | python3 -c 'import json,sys;print(json.load(sys.stdin)["content"]["token"])')
fi

# One wrk run → "rps p50 p99 non2xx"
measure() {
  local out
  out=$(wrk -t$threads -c$connections -d"$duration" --latency "$@" 2>&1)
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def lat(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % p, out, re.M)
    if not m: return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
print(f"{rps:.0f} {lat(50):.3f} {lat(99):.3f} {non2xx.group(1) if non2xx else 0}")
PY
}

median_row() { # label, then REPS lines of "rps p50 p99 non2xx" on stdin
  python3 -c '
import sys, statistics
label = sys.argv[1]
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
cols = list(zip(*rows))
med = [statistics.median(c) for c in cols]
runs = " ".join(str(int(r[0])) for r in rows)
print(f"{label:<28} {med[0]:>10.0f} {med[1]:>9.3f} {med[2]:>9.3f} {int(max(cols[3])):>8}   runs: {runs}")
' "$1"
}

printf '%-28s %10s %9s %9s %8s\n' "target" "req/s" "p50 ms" "p99 ms" "non-2xx"
bench_secret() { # label port token
  for _ in $(seq "$reps"); do measure -H "Authorization: Bearer $3" "http://127.0.0.1:$2/api/secret"; done | median_row "$1"
}
bench_secret "secret  lab (recording)" 3910 "$lab_token"
bench_secret "secret  lab (no recording)" 3911 "$norec_token"
for _ in $(seq "$reps"); do measure "http://127.0.0.1:3912/api/secret"; done | median_row "secret  bare axum"
$have_node_baseline && bench_secret "secret  node-ref" 3913 "$node_token"

for _ in $(seq "$reps"); do measure -s bench/login.lua "http://127.0.0.1:3910/api/login"; done | median_row "login   lab (recording)"
$have_node_baseline && for _ in $(seq "$reps"); do measure "http://127.0.0.1:3913/api/login?login=bench"; done | median_row "login   node-ref"

# Enough fresh tokens for one run at a generous rate; minted anew per run.
fresh=${FRESH_TOKENS:-400000}
bench_refresh() { # label port style
  for _ in $(seq "$reps"); do
    "$release/examples/mint_tokens" "http://127.0.0.1:$2" "$3" "$fresh" > "$work/tokens.txt"
    measure -s bench/refresh.lua "http://127.0.0.1:$2/api/refresh" -- "$work/tokens.txt" "$threads"
  done | median_row "$1"
}
bench_refresh "refresh lab (recording)" 3910 lab
$have_node_baseline && bench_refresh "refresh node-ref" 3913 seed-node

echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; wrk -t$threads -c$connections -d$duration; median of $reps runs; $(date -u +%F)"
echo "rss after load: lab $(ps -o rss= -p "${pids[0]}") KiB (its revocation store holds every token rotated with a 1-hour lifetime), lab-norec $(ps -o rss= -p "${pids[1]}") KiB (secret only)"
