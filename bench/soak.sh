#!/usr/bin/env bash
# Recording stays bounded when nobody reads it: one minute of GET /api/secret
# load against `refresh-race serve` (recording on), RSS sampled every 10 s.
# usage: bench/soak.sh [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
cargo build --release -q -p refresh-race
"$CARGO_TARGET_DIR/release/refresh-race" serve --port 3920 --ttl 3600 --window 3600 >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:3920/api/public && break; sleep 0.1; done
token=$(curl -s -X POST -H 'content-type: application/json' -d '{"login":"soak","password":"x"}' http://127.0.0.1:3920/api/login | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
echo "rss before load: $(ps -o rss= -p $server) KiB"
wrk -t2 -c50 -d"${seconds}s" -H "Authorization: Bearer $token" http://127.0.0.1:3920/api/secret > /tmp/soak-wrk.txt &
load=$!
for t in $(seq 10 10 "$seconds"); do
  sleep 10
  echo "rss after ${t}s of load: $(ps -o rss= -p $server) KiB"
done
wait $load
grep -E "Requests/sec|requests in" /tmp/soak-wrk.txt
