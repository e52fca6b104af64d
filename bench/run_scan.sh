#!/usr/bin/env bash
# bench/run_scan.sh: how long `scan` takes on a large `kubectl get -A -o json` List (not CI).
#
#   bash bench/run_scan.sh
#
# Makes Lists of 10,000 and 100,000 objects shaped like tests/scan/kubectl-get-all.json (RBAC and
# pods as the API server returns them; bench/make_list.py), scans each SA_BENCH_RUNS (5) times
# with the release build and reports the best wall and CPU (user+sys) time, then instructions per
# object from callgrind on 2,000 objects (repeatable on a noisy machine). Writes
# bench/scan-results.md (SA_BENCH_SCAN_OUT). Needs python3 and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SA_BENCH_BUILD:-build}
OUT=${SA_BENCH_SCAN_OUT:-bench/scan-results.md}
RUNS=${SA_BENCH_RUNS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/sa-scan-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target session-admission >/dev/null
BIN=$BUILD/session-admission
KEY=examples/example-public.pem

# best N FILE: "wall cpu" in seconds, the best of N runs (scan exits 1: the Lists hold denials).
best() {
  local n=$1 f=$2 i t wall cpu bw=999 bc=999
  for i in $(seq 1 "$n"); do
    t=$( { TIMEFORMAT='%R %U %S'; time "$BIN" scan --public-key "$KEY" "$f" >"$W/rows" 2>/dev/null || true; } 2>&1 )
    wall=$(echo "$t" | awk '{print $1}')
    cpu=$(echo "$t" | awk '{printf "%.2f", $2 + $3}')
    bw=$(awk -v a="$bw" -v b="$wall" 'BEGIN{print (b < a) ? b : a}')
    bc=$(awk -v a="$bc" -v b="$cpu" 'BEGIN{print (b < a) ? b : a}')
  done
  echo "$bw $bc"
}

{
  echo "# scan benchmark"
  echo
  echo "\`bash bench/run_scan.sh\`, commit $(git rev-parse --short HEAD), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start."
  echo
  echo "| objects | JSON size | best wall (of $RUNS) | best CPU, user+sys | summary |"
  echo "|---:|---:|---:|---:|---|"
} > "$OUT"
for n in 10000 100000; do
  /usr/bin/python3 bench/make_list.py "$n" "$W/list.json"
  read -r wall cpu < <(best "$RUNS" "$W/list.json")
  echo "| $n | $(( $(stat -c %s "$W/list.json") / 1048576 )) MiB | ${wall} s | ${cpu} s | $(tail -n 1 "$W/rows") |" >> "$OUT"
done
/usr/bin/python3 bench/make_list.py 2000 "$W/list.json"
valgrind --tool=callgrind --callgrind-out-file="$W/cg" "$BIN" scan --public-key "$KEY" "$W/list.json" >/dev/null 2>&1 || true
ir=$(callgrind_annotate "$W/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ && !n++ {gsub(",", "", $1); print $1}')
{
  echo
  echo "Instructions (callgrind, whole process, policy and key loading included) for 2,000 objects: $ir, about $(( ir / 2000 )) per object."
} >> "$OUT"
cat "$OUT"
