#!/usr/bin/env bash
# Memory of many big runs at once: COUNT concurrent POST /lab/runs of 10,000
# naive secret requests against `refresh-race serve`; peak RSS, RSS right
# after and 5 s after, and the first run's last line.
# usage: bench/runs-memory.sh [BINARY=release build] [COUNT=20]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
if [ -z "${1:-}" ]; then cargo build --release -q -p refresh-race --bin refresh-race; fi
bin=${1:-$CARGO_TARGET_DIR/release/refresh-race}; count=${2:-20}; port=3940
work=$(mktemp -d)
"$bin" serve --port $port >/dev/null & server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api/public" && break; sleep 0.1; done
kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$server/status"; }
echo "rss before: $(kb VmRSS) KiB"
start=$(date +%s.%N)
runs=()
for i in $(seq "$count"); do
  curl -s -X POST -d '{"secret":10000,"public":0,"strategy":"naive"}' "http://127.0.0.1:$port/lab/runs" > "$work/run-$i.ndjson" & runs+=($!)
done
wait "${runs[@]}"
end=$(date +%s.%N)
echo "$count runs done in $(python3 -c "print(round($end - $start, 1))") s"
python3 - "$work" "$count" <<'PY'
import json, sys, collections
seen = collections.Counter()
for i in range(1, int(sys.argv[2]) + 1):
    last = json.loads(open(f"{sys.argv[1]}/run-{i}.ndjson").read().splitlines()[-1])
    v = last.get("verdict", {})
    seen[(last["type"], v.get("refresh_accepted_by_server"), json.dumps(v.get("rejected_reasons"), sort_keys=True))] += 1
for (kind, accepted, reasons), n in seen.items():
    print(f"  {n} runs ended {kind}: refreshes accepted {accepted}, rejected {reasons}")
PY
echo "peak (VmHWM): $(kb VmHWM) KiB; rss right after: $(kb VmRSS) KiB"
sleep 5
echo "rss 5 s after: $(kb VmRSS) KiB"
