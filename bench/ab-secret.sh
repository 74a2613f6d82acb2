#!/usr/bin/env bash
# A/B of GET /api/secret between two builds of refresh-race, interleaved
# (A, B, A, B, ...) so that a machine whose load drifts — a shared one —
# weighs on both alike. Same wrk settings as bench/throughput.sh.
#
# usage: bench/ab-secret.sh OLD_BINARY NEW_BINARY [REPS=7] [DURATION=5s]
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1; new=$2; reps=${3:-7}; duration=${4:-5s}
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
"$old" serve --port 3960 --ttl 3600 --window 3600 >/dev/null & pids+=($!)
"$new" serve --port 3961 --ttl 3600 --window 3600 >/dev/null & pids+=($!)
for port in 3960 3961; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api/public" && break; sleep 0.1; done
done
token() { curl -s -X POST -H 'content-type: application/json' -d '{"login":"bench","password":"x"}' "http://127.0.0.1:$1/api/login" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])'; }
old_token=$(token 3960); new_token=$(token 3961)
rps() { wrk -t2 -c50 -d"$duration" -H "Authorization: Bearer $2" "http://127.0.0.1:$1/api/secret" | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
a=(); b=()
for _ in $(seq "$reps"); do
  a+=("$(rps 3960 "$old_token")"); b+=("$(rps 3961 "$new_token")")
done
python3 - "${a[*]}" "${b[*]}" <<'PY'
import statistics, sys
a, b = [list(map(int, s.split())) for s in sys.argv[1:3]]
ma, mb = statistics.median(a), statistics.median(b)
print(f"old: median {ma:.0f} req/s  runs {a}")
print(f"new: median {mb:.0f} req/s  runs {b}")
print(f"new/old: {mb / ma:.3f}; pairwise ratios: {[round(y / x, 3) for x, y in zip(a, b)]}")
PY
