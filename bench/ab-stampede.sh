#!/usr/bin/env bash
# A/B of the single-flight stampede between two builds of the stampede
# bench, interleaved (A, B, A, B, ...) so that a machine whose load drifts
# weighs on both alike. Each round runs N stampedes per build; the medians
# of every stampede of all rounds are compared, wall time and CPU time.
# Build each side with `cargo build --release --bench stampede` (an older
# tree needs this tree's benches/stampede.rs for --single-flight).
#
# usage: bench/ab-stampede.sh OLD_BENCH_BINARY NEW_BENCH_BINARY [ROUNDS=6] [N=7]
set -euo pipefail
old=$1; new=$2; rounds=${3:-6}; n=${4:-7}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  for side in old new; do
    bin=$old; [ "$side" = new ] && bin=$new
    "$bin" --single-flight "$n" --samples | sed "s/^/$side /" >>"$out"
  done
done
python3 - "$out" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if " sample " in line]
for side in ("old", "new"):
    wall = [float(r[3]) for r in rows if r[0] == side]
    cpu = [float(r[4]) for r in rows if r[0] == side]
    print(f"{side}: {len(wall)} stampedes, wall median {statistics.median(wall):.3f} s "
          f"(quartiles {statistics.quantiles(wall)[0]:.3f}-{statistics.quantiles(wall)[2]:.3f}), "
          f"CPU median {statistics.median(cpu):.3f} s")
PY
