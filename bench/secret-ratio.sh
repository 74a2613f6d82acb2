#!/usr/bin/env bash
# GET /api/secret against the bare axum route, interleaved round by round
# (bare, lab A, [lab B], bare, lab A, ...), so that a shared machine's
# drifting load weighs on every target alike. Per target: median req/s,
# the server's CPU per request (utime+stime from /proc), and the ratio to
# bare measured in the same rounds. Same wrk settings as throughput.sh.
#
# usage: bench/secret-ratio.sh BARE_BINARY LAB_BINARY [LAB_B_BINARY] [-- ROUNDS=7 DURATION=5s]
#   e.g. bench/secret-ratio.sh target/release/examples/bare_axum old/refresh-race target/release/refresh-race -- 9 5s
set -euo pipefail
cd "$(dirname "$0")/.."
bins=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do bins+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
rounds=${1:-7}; duration=${2:-5s}
[ ${#bins[@]} -ge 2 ] || { echo "usage: $0 BARE LAB [LAB_B] [-- ROUNDS DURATION]" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
pids=(); work=$(mktemp -d)
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"${bins[0]}" 3990 >/dev/null & pids+=($!)
tokens=(-)
for i in $(seq 1 $((${#bins[@]} - 1))); do
  port=$((3990 + i))
  "${bins[$i]}" serve --port $port --ttl 36000 --window 3600 >/dev/null & pids+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api/public" && break; sleep 0.1; done
  tokens+=("$(curl -s -X POST -H 'content-type: application/json' -d '{"login":"bench","password":"x"}' \
    "http://127.0.0.1:$port/api/login" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')")
done
sleep 0.3

# One wrk run → "rps server_cpu_us_per_request non2xx"
measure() { # port token pid
  local tick c0 c1 out hdr=()
  tick=$(getconf CLK_TCK)
  [ "$2" != "-" ] && hdr=(-H "Authorization: Bearer $2")
  c0=$(awk '{print $14+$15}' "/proc/$3/stat")
  out=$(wrk -t2 -c50 -d"$duration" "${hdr[@]}" "http://127.0.0.1:$1/api/secret" 2>&1)
  c1=$(awk '{print $14+$15}' "/proc/$3/stat")
  python3 - "$out" "$c0" "$c1" "$tick" <<'PY'
import re, sys
out = sys.argv[1]; c0, c1, tick = map(int, sys.argv[2:5])
n = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
print(f"{rps:.0f} {(c1 - c0) / tick / n * 1e6:.2f} {non.group(1) if non else 0}")
PY
}

for r in $(seq "$rounds"); do
  line="round $r (load $(cut -d' ' -f1 /proc/loadavg)):"
  for i in "${!bins[@]}"; do
    m=$(measure $((3990 + i)) "${tokens[$i]}" "${pids[$i]}")
    echo "$m" >> "$work/t$i"
    line+="  ${m%% *}"
  done
  echo "$line"
done
python3 - "$work" ${#bins[@]} "${bins[@]}" <<'PY'
import statistics, sys, os
work, n = sys.argv[1], int(sys.argv[2]); names = sys.argv[3:]
rows = [[list(map(float, l.split())) for l in open(os.path.join(work, f"t{i}"))] for i in range(n)]
bare = [r[0] for r in rows[0]]
print(f"{'target':<44} {'req/s':>8} {'cpu µs/req':>10} {'ratio':>6}  per-round ratios to bare")
for i in range(n):
    rps = [r[0] for r in rows[i]]; cpu = [r[1] for r in rows[i]]
    bad = int(max(r[2] for r in rows[i]))
    ratios = [a / b for a, b in zip(rps, bare)]
    label = ("bare " if i == 0 else f"lab {chr(64 + i)} ") + names[i][-34:]
    print(f"{label:<44} {statistics.median(rps):>8.0f} {statistics.median(cpu):>10.2f} "
          f"{statistics.median(ratios):>6.3f}  {' '.join(f'{x:.2f}' for x in ratios)}"
          + (f"  non-2xx {bad}" if bad else ""))
PY
echo "machine: $(nproc) cores; wrk -t2 -c50 -d$duration; $rounds rounds; load now $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%F %H:%M') UTC"
