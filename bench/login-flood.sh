#!/usr/bin/env bash
# A login flood against `refresh-race serve` (release build), then silence
# while its tokens lapse (5 s lifetime + 10 s refresh window) and the
# revocation store forgets them. Reports:
#   - logins/s, and how many answers were not 200 (503: the store is full);
#   - peak RSS (VmHWM) and RSS 20 s after the last token lapsed;
#   - the worst GET /api/public latency (one request every 10 ms on its own
#     connection), during the flood and after it, while the store forgets.
# Targets: peak <= 300 MB, after <= 100 MB, worst <= 50 ms.
#
# usage: bench/login-flood.sh [POLICY=strict] [FLOOD_SECONDS=20]
#   RR_BIN=path/to/refresh-race measures another build (e.g. an older one).
#   strict/none/non-atomic: a login costs the store nothing;
#   family/grace: the store remembers every login until it lapses.
# Everything runs on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
policy=${1:-strict}
flood=${2:-20}
lapse=15   # --ttl 5 + --window 10
after=20   # seconds after the last lapse to read RSS again
port=3930
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
release="$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p refresh-race --bin refresh-race --example latency_probe

"${RR_BIN:-$release/refresh-race}" serve --port $port --policy "$policy" --ttl 5 --window 10 >/dev/null & server=$!
pids+=($server)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/api/public" && break; sleep 0.1; done
kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$server/status"; }
echo "policy $policy; rss before: $(kb VmRSS) KiB"

total=$((flood + lapse + after))
"$release/examples/latency_probe" "http://127.0.0.1:$port" /api/public "$total" 10 > "$work/probe.txt" & probe=$!
pids+=($probe)
( for t in $(seq 1 "$total"); do sleep 1; echo "$t $(kb VmRSS)"; done ) > "$work/rss.txt" 2>/dev/null & sampler=$!
pids+=($sampler)

wrk -t2 -c50 -d"${flood}s" -s bench/login.lua "http://127.0.0.1:$port/api/login" > "$work/wrk.txt"
peak=$(kb VmHWM)
wait "$probe" "$sampler" || true
echo "rss after flood+${lapse}s+${after}s: $(kb VmRSS) KiB; peak (VmHWM): $peak KiB"
python3 - "$work/wrk.txt" "$work/probe.txt" "$work/rss.txt" "$flood" "$lapse" <<'PY'
import re, sys
wrk, probe, rss, flood, lapse = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
total = int(re.search(r"(\d+) requests in", wrk).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", wrk)
print(f"logins: {total} in {flood} s = {rps:.0f}/s; not 200: {non2xx.group(1) if non2xx else 0}")
rows = [tuple(map(int, l.split())) for l in open(probe) if l.strip()]
def worst(lo, hi):
    picked = [(lat, t) for t, lat, _ in rows if lo * 1000 <= t < hi * 1000]
    if not picked: return "no samples"
    lat, t = max(picked)
    bad = sum(1 for t2, _, s in rows if lo * 1000 <= t2 < hi * 1000 and s != 200)
    return f"{lat/1000:.1f} ms (at {t/1000:.1f} s; {len(picked)} probes, {bad} not 200)"
print(f"worst GET /api/public, flood before any lapse (0-{lapse} s):  {worst(0, lapse)}")
print(f"worst GET /api/public, flood while tokens lapse ({lapse}-{flood} s): {worst(lapse, flood)}")
print(f"worst GET /api/public, after the flood while the rest lapse ({flood}-{flood+lapse+2} s): {worst(flood, flood + lapse + 2)}")
print("rss (KiB) every 5 s:", " ".join(l.split()[1] for i, l in enumerate(open(rss)) if (i + 1) % 5 == 0))
PY
