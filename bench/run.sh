#!/usr/bin/env bash
# bench/run.sh: the whole benchmark in one command; writes bench/results.md (not part of CI).
#
#   bash bench/run.sh
#
# 1. Throughput: wrk (bench/review.lua) posts four realistic reviews over kept-alive TLS with 1,
#    16 and 64 connections, to `serve` and, in the same run, to bench/null_server.c (same
#    libmicrohttpd flags, thread pool and TLS module, no admission work). Each row gets fresh
#    servers, so VmHWM is that row's peak RSS. Ratios are ours / null's, measured side by side.
# 2. Scaling: instructions per review (callgrind on bench/bench_core.c, only its loop
#    instrumented, so the counts are repeatable) for a session pod of 1, 10, 100 and 500
#    containers, and for policy tables of 10 and 100,000 rows.
# 3. Soak: full-speed wrk for SA_BENCH_SOAK_SECONDS (60) against one server: failed requests
#    and VmRSS sampled every 5 s, which must stay flat after the warm-up.
# Environment: SA_BENCH_SECONDS (5, per wrk run), SA_BENCH_SOAK_SECONDS (60, 0 skips),
# SA_BENCH_BUILD (build-bench), SA_BENCH_OUT (bench/results.md), SA_BENCH_THREADS (2).
# Only 127.0.0.1 is used; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_SECONDS=${SA_BENCH_SECONDS:-5}
SOAK_SECONDS=${SA_BENCH_SOAK_SECONDS:-60}
BUILD=${SA_BENCH_BUILD:-build-bench}
OUT=${SA_BENCH_OUT:-bench/results.md}
THREADS=${SA_BENCH_THREADS:-2}
KEY=$PWD/examples/example-public.pem
W=$(mktemp -d "${TMPDIR:-/tmp}/sa-bench.XXXXXX")
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap 'stop; rm -rf "$W"' EXIT
kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"; }
fact() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# start ours|null REVIEW PATH: a fresh server on a free port (PORT, SRV_PID), ready when it
# answers the review with 200 (bounded: 15 s).
start() {
  local kind=$1 review=$2 path=$3
  PORT=$(free_port)
  if [ "$kind" = ours ]; then
    "$BUILD/session-admission" serve --listen 127.0.0.1:$PORT --tls-cert "$W/certs/tls.crt" \
      --tls-key "$W/certs/tls.key" --policy "$W/data/policy-10.yaml" --public-key "$KEY" \
      --threads "$THREADS" --metrics-listen "127.0.0.1:$(free_port)" 2>/dev/null &
  else
    "$BUILD/session-admission" review --policy "$W/data/policy-10.yaml" --public-key "$KEY" \
      --path "$path" "$review" 2>/dev/null > "$W/null-response.json"
    "$BUILD/bench/null_server" 127.0.0.1:$PORT "$W/certs/tls.crt" "$W/certs/tls.key" "$THREADS" \
      "$W/null-response.json" 2>/dev/null &
  fi
  SRV_PID=$!
  for _ in $(seq 1 150); do
    [ "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
         --data-binary @"$review" "https://127.0.0.1:$PORT$path" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  echo "bench: the $kind server never answered" >&2
  return 1
}

# load REVIEW PATH CONNS SECONDS: one wrk run; prints its RESULT line.
load() {
  local threads=2
  [ "$3" -lt 2 ] && threads=1
  SA_BENCH_REVIEW=$1 SA_BENCH_PATH=$2 wrk -t$threads -c"$3" -d"${4}s" --latency -s bench/review.lua \
    "https://127.0.0.1:$PORT" | sed -n 's/^RESULT //p'
}

echo "bench: building in $BUILD"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSA_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
/usr/bin/python3 bench/make_reviews.py "$W/data"
bash certs/gen-certs.sh --out "$W/certs" >/dev/null

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
{
  echo "# session-admission benchmark"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include || echo ' (with local changes)'),"
  echo "$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), wrk on the same machine,"
  echo "server and null baseline with $THREADS threads, ${RUN_SECONDS} s per wrk run, fresh servers per row."
  echo "Command: \`bash bench/run.sh\`. Throughput ratio = ours / null, measured side by side in this run."
  echo
  echo "## Throughput, latency and peak RSS"
  echo
  echo "| review (bytes) | path | conns | null req/s | ours req/s | ours/null | p50 ms | p99 ms | null p99 ms | peak RSS MB | null peak RSS MB | failed |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$W/results.md"

TARGET_LINE=""
max_hwm=0
for spec in session-pod:/mutate plain-pod:/mutate rolebinding:/validate clusterrole:/validate; do
  name=${spec%%:*} path=${spec#*:}
  review=$W/data/$name.json
  for conns in 1 16 64; do
    start null "$review" "$path"; null=$(load "$review" "$path" "$conns" "$RUN_SECONDS"); null_hwm=$(kb "$SRV_PID" VmHWM); stop
    start ours "$review" "$path"; ours=$(load "$review" "$path" "$conns" "$RUN_SECONDS"); hwm=$(kb "$SRV_PID" VmHWM); stop
    [ "$hwm" -gt "$max_hwm" ] && max_hwm=$hwm
    ratio=$(awk -v a="$(fact "$ours" rps)" -v b="$(fact "$null" rps)" 'BEGIN { printf "%.2f", a / b }')
    failed=$(( $(fact "$ours" socket_errors) + $(fact "$ours" non2xx) + $(fact "$null" socket_errors) + $(fact "$null" non2xx) ))
    row="| $name ($(stat -c %s "$review")) | $path | $conns | $(fact "$null" rps) | $(fact "$ours" rps) | $ratio | $(ms "$(fact "$ours" p50_us)") | $(ms "$(fact "$ours" p99_us)") | $(ms "$(fact "$null" p99_us)") | $(mb "$hwm") | $(mb "$null_hwm") | $failed |"
    echo "$row" | tee -a "$W/results.md"
    if [ "$name" = session-pod ] && [ "$conns" = 16 ]; then
      TARGET_LINE="session pod /mutate at 16 connections: $ratio of the null baseline (target >= 0.50), p99 $(ms "$(fact "$ours" p99_us)") ms (target < 2 ms)"
    fi
  done
done
{
  echo
  echo "Targets: $TARGET_LINE; peak RSS of any row $(mb "$max_hwm") MB (target < 32 MB)."
} >> "$W/results.md"

# instr REVIEW PATH POLICY ITERATIONS: "TOTAL ALLOC" instructions per review under callgrind
# (loop only; the difference between N and 2N iterations, so warm-up cancels out). ALLOC is the
# share spent inside glibc's malloc and free, which depends on the heap's history as much as on
# the request: it is reported apart so the policy comparison measures the lookups.
instr() {
  local n=$4 k out
  for k in 1 2; do
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$W/cg.$k" \
      "$BUILD/bench/bench_core" "$3" "$KEY" "$1" "${2#/}" "$((k * n))" >/dev/null 2>&1
    out[k]=$(callgrind_annotate --auto=no --threshold=100 "$W/cg.$k" 2>/dev/null | awk '
      /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
      /^ *[0-9,]+ .*malloc\/(malloc|arena)\.c:/ { gsub(",", "", $1); alloc += $1 }
      END { print total, alloc + 0 }')
  done
  set -- ${out[1]} ${out[2]}
  echo $((($3 - $1) / n)) $((($4 - $2) / n))
}
{
  echo
  echo "## Scaling (callgrind instructions per review, sa_admit alone)"
  echo
  echo "Session pod with N containers (20 env vars each) on /mutate: the cost per container must"
  echo "stay constant as N grows (linear). Marginal = (cost(N) - cost(1)) / (N - 1)."
  echo
  echo "| containers | request bytes | instructions/review | marginal per container | wall µs/review (native) |"
  echo "|---:|---:|---:|---:|---:|"
} >> "$W/results.md"
base=0
for n in 1 10 100 500; do
  iters=$((n >= 100 ? 2 : 20))
  read -r i _ < <(instr "$W/data/pod-$n.json" /mutate "$W/data/policy-10.yaml" $iters)
  [ "$n" = 1 ] && base=$i
  marginal="-"
  [ "$n" -gt 1 ] && marginal=$(((i - base) / (n - 1)))
  wall=$("$BUILD/bench/bench_core" "$W/data/policy-10.yaml" "$KEY" "$W/data/pod-$n.json" mutate $((2000 / n + 3)) | sed -n 's/.*ns_per_review=\([0-9]*\).*/\1/p')
  echo "| $n | $(stat -c %s "$W/data/pod-$n.json") | $i | $marginal | $((wall / 1000)) |" | tee -a "$W/results.md"
done
{
  echo
  echo "Policy tables (every table: exemptNamespaces, forbiddenEnv, tokenAudiences, allowedRoles,"
  echo "impersonation.names, audiences) of 10 and of 100,000 rows; the rows a review hits are the last."
  echo
  echo "Instructions per review outside malloc/free (the lookups and everything else), and in"
  echo "malloc/free, whose cost follows the heap's history (a big freed policy leaves roomier bins)."
  echo
  echo "| review | path | 10 rows | 100,000 rows | change | malloc/free, 10 rows | malloc/free, 100,000 rows |"
  echo "|---|---|---:|---:|---:|---:|---:|"
} >> "$W/results.md"
for spec in session-pod:/mutate plain-pod:/mutate rolebinding:/validate clusterrole:/validate \
  clusterrole-update:/validate allowedrole-update:/validate; do
  name=${spec%%:*} path=${spec#*:}
  read -r small small_alloc < <(instr "$W/data/$name.json" "$path" "$W/data/policy-10.yaml" 20)
  read -r large large_alloc < <(instr "$W/data/$name.json" "$path" "$W/data/policy-100000.yaml" 20)
  change=$(awk -v a="$((small - small_alloc))" -v b="$((large - large_alloc))" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }')
  echo "| $name | $path | $((small - small_alloc)) | $((large - large_alloc)) | $change | $small_alloc | $large_alloc |" | tee -a "$W/results.md"
done

if [ "$SOAK_SECONDS" -gt 0 ]; then
  start ours "$W/data/session-pod.json" /mutate
  rss=()
  SA_BENCH_REVIEW=$W/data/session-pod.json SA_BENCH_PATH=/mutate wrk -t2 -c16 -d"${SOAK_SECONDS}s" \
    -s bench/review.lua "https://127.0.0.1:$PORT" > "$W/soak.out" &
  wrk_pid=$!
  for _ in $(seq 1 $((SOAK_SECONDS / 5))); do sleep 5; rss+=("$(kb "$SRV_PID" VmRSS)"); done
  wait "$wrk_pid"
  soak=$(sed -n 's/^RESULT //p' "$W/soak.out")
  stop
  warm=${rss[1]} last=${rss[${#rss[@]} - 1]}
  {
    echo
    echo "## Soak: ${SOAK_SECONDS} s of wrk at full speed, session pod on /mutate, 16 connections"
    echo
    echo "$(fact "$soak" requests) requests, $(fact "$soak" rps) req/s, failed: $(( $(fact "$soak" socket_errors) + $(fact "$soak" non2xx) ))."
    echo "VmRSS every 5 s (kB): ${rss[*]}; from 10 s to the end: $((last - warm)) kB."
  } | tee -a "$W/results.md"
fi
# the connection tracking's section is measured apart (bench/ab.sh) and kept
if [ -f "$OUT" ]; then sed -n '/^## Connection tracking/,$p' "$OUT" | sed '1s/^/\n/' >> "$W/results.md"; fi
cp "$W/results.md" "$OUT"
echo "bench: wrote $OUT"
