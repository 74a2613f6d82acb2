#!/usr/bin/env bash
# The room as one under load (examples/room_as_one.rs): 60 seats join at
# once and hear each push; the instructor pushes case 3 with the naive
# client, then with single-flight; every seat but the last runs each push
# ROUNDS times and reads its own /api/secret between runs, while the last
# seat floods /api/secret from 32 connections. The instructor's results are
# read every 100 ms. Loopback only.
# usage: bench/room-as-one.sh [SEATS=60] [ROUNDS=5] [debug|release] [quiet]  (quiet: no flooder)
set -euo pipefail
cd "$(dirname "$0")/.."
seats=${1:-60}
rounds=${2:-5}
profile=${3:-debug}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
if [ "$profile" = release ]; then
  cargo build --release -q -p refresh-race --bin refresh-race --example room_as_one
else
  cargo build -q -p refresh-race --bin refresh-race --example room_as_one
fi
out=$(mktemp)
"$CARGO_TARGET_DIR/$profile/refresh-race" serve --port 0 --classroom --room-host 127.0.0.1 >"$out" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "classroom open" "$out" && break; sleep 0.1; done
instructor=$(sed -n 's/^listening on //p' "$out")
join=$(sed -n 's/^classroom open: attendees join at //p' "$out")
room=${join%%/join*}
code=${join##*code=}
echo "$profile build; load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$CARGO_TARGET_DIR/$profile/examples/room_as_one" "$instructor" "$room" "$code" "$seats" "$rounds" ${4:-}
echo "rss after: $(ps -o rss= -p $server) KiB"
