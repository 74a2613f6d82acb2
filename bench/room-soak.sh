#!/usr/bin/env bash
# A room under load while one seat misbehaves (examples/room_soak.rs): 60
# seats run case 3 for a minute while one seat floods page reports, joins,
# PNG exports and code guesses; the server's RSS is sampled every second.
# Loopback only; every loop is bounded by the duration.
# The room holds 60 seats: 59 attendees and the flooder by default; `quiet`
# runs the same without the flooder (the baseline).
# usage: bench/room-soak.sh [SECONDS=60] [ATTENDEES=59] [quiet]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
seats=${2:-59}
quiet=${3:-}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
cargo build --release -q -p refresh-race --bin refresh-race --example room_soak
out=$(mktemp)
"$CARGO_TARGET_DIR/release/refresh-race" serve --port 0 --classroom --room-host 127.0.0.1 >"$out" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "classroom open" "$out" && break; sleep 0.1; done
instructor=$(sed -n 's/^listening on //p' "$out")
join=$(sed -n 's/^classroom open: attendees join at //p' "$out")
room=${join%%/join*}
code=${join##*code=}
echo "rss before: $(ps -o rss= -p $server) KiB"
"$CARGO_TARGET_DIR/release/examples/room_soak" "$instructor" "$room" "$code" "$seconds" "$seats" $quiet &
load=$!
peak=0
for _ in $(seq $((seconds + 30))); do
  kill -0 $load 2>/dev/null || break
  rss=$(ps -o rss= -p $server)
  (( rss > peak )) && peak=$rss
  sleep 1
done
wait $load
echo "rss peak: $peak KiB; after: $(ps -o rss= -p $server) KiB"
