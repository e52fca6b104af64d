#!/usr/bin/env bash
# bench/ab.sh: two builds of the server side by side, and the null server, in one run: is a
# change's cost real or the machine's noise? (not part of CI; about 20 s per repetition)
#
#   bash bench/ab.sh OLD_BUILD NEW_BUILD [REPETITIONS]
#
# Each repetition runs wrk (bench/review.lua, the session pod on /mutate, 16 connections,
# SA_BENCH_SECONDS = 5 s) against a fresh null server (bench/null_server.c, from NEW_BUILD), a
# fresh `serve --dev` of OLD_BUILD and one of NEW_BUILD, in an order that alternates between
# repetitions, so a load that comes and goes on a shared machine falls on both builds alike.
# Prints one line per repetition and the medians: req/s, new/old, each build / null, each
# server's CPU time per request (µs, user + system), which other load on the machine moves less,
# and how unevenly each build's worker threads shared the work (see measure).
# Only 127.0.0.1 is used; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bash bench/ab.sh OLD_BUILD NEW_BUILD [REPETITIONS]" >&2; exit 2; }
OLD=$1 NEW=$2 REPS=${3:-5}
RUN_SECONDS=${SA_BENCH_SECONDS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/sa-ab.XXXXXX")
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap 'stop; rm -rf "$W"' EXIT

# start null|BUILD: a fresh server on a free port (PORT, SRV_PID), ready when it answers the
# review with 200 (bounded: 15 s). The first dev server's answer is what the null server sends.
start() {
  PORT=$(free_port)
  if [ "$1" = null ]; then
    "$NEW/bench/null_server" 127.0.0.1:"$PORT" "$W/certs/tls.crt" "$W/certs/tls.key" 2 \
      "$W/response.json" 2>/dev/null &
  else
    SA_SHUTDOWN_DELAY=0 "$1/session-admission" serve --dev --dev-ca-out "$W/ca-$PORT.pem" \
      --listen 127.0.0.1:"$PORT" --threads 2 --metrics-listen off >/dev/null 2>&1 &
  fi
  SRV_PID=$!
  for _ in $(seq 1 150); do
    [ "$(curl -sk -o "$W/answer.json" -w '%{http_code}' -H 'Content-Type: application/json' \
         --data-binary @"$W/data/session-pod.json" "https://127.0.0.1:$PORT/mutate" 2>/dev/null)" = 200 ] &&
      return 0
    sleep 0.1
  done
  echo "ab: $1 never answered" >&2
  return 1
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat"; }
# CPU ticks of each libmicrohttpd worker thread (a pool's MHD-worker, a one-thread daemon's
# MHD-single): "TID TICKS" lines
worker_ticks() {
  local t
  for t in /proc/"$SRV_PID"/task/*; do
    case "$(cat "$t/comm")" in MHD-worker | MHD-single) awk '{ print $1, $14 + $15 }' "$t/stat" ;; esac
  done
  return 0
}

# measure: wrk against PORT; prints "REQ/S CPU-µs-PER-REQUEST BUSIEST-WORKER-SHARE": the server's
# user + system CPU time over the run divided by its requests (less sensitive than req/s to other
# load on the machine), and the busiest worker thread's share of the workers' CPU time (0.5 with
# two workers sharing the connections evenly, 1.0 when one worker got them all: libmicrohttpd's
# pool does not spread the connections it accepts). Failed requests abort the run.
measure() {
  local out t0 t1
  t0=$(cpu_ticks)
  worker_ticks > "$W/workers.0"
  out=$(SA_BENCH_REVIEW=$W/data/session-pod.json SA_BENCH_PATH=/mutate wrk -t2 -c16 -d"${RUN_SECONDS}s" \
    -s bench/review.lua "https://127.0.0.1:$PORT" | sed -n 's/^RESULT //p')
  t1=$(cpu_ticks)
  worker_ticks > "$W/workers.1"
  case "$out" in *"socket_errors=0 non2xx=0"*) ;; *) echo "ab: failed requests: $out" >&2; exit 1 ;; esac
  local busiest
  busiest=$(awk 'NR == FNR { before[$1] = $2; next } { d = $2 - before[$1]; sum += d; if (d > max) max = d }
    END { printf "%.2f", sum ? max / sum : 0 }' "$W/workers.0" "$W/workers.1")
  printf '%s\n' "$out" | awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v b="$busiest" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    printf "%s %.1f %s\n", f["rps"], t * 1e6 / hz / f["requests"], b }'
}

/usr/bin/python3 bench/make_reviews.py "$W/data" >/dev/null
bash certs/gen-certs.sh --out "$W/certs" >/dev/null
start "$NEW" && cp "$W/answer.json" "$W/response.json" && stop

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
cols=(rep null old new new/old old/null new/null null-cpu old-cpu new-cpu new/old-cpu old-busiest new-busiest)
fmt='%-4s %8s %8s %8s %8s %8s %8s %8s %8s %8s %11s %11s %11s\n'
# shellcheck disable=SC2059 # the format is the table's
printf "$fmt" "${cols[@]}"
: > "$W/rows"
for rep in $(seq 1 "$REPS"); do
  order="null $OLD $NEW"
  [ $((rep % 2)) = 0 ] && order="$NEW $OLD null"
  for kind in $order; do
    start "$kind"
    read -r r c b < <(measure)
    stop
    case "$kind" in null) n=$r nc=$c ;; "$OLD") o=$r oc=$c ob=$b ;; *) m=$r mc=$c mb=$b ;; esac
  done
  awk -v r="$rep" -v n="$n" -v o="$o" -v m="$m" -v nc="$nc" -v oc="$oc" -v mc="$mc" -v ob="$ob" -v mb="$mb" 'BEGIN {
    printf "%-4s %8.0f %8.0f %8.0f %8.3f %8.3f %8.3f %8.1f %8.1f %8.1f %11.3f %11.2f %11.2f\n",
      r, n, o, m, m / o, o / n, m / n, nc, oc, mc, mc / oc, ob, mb }' | tee -a "$W/rows"
done
# the median of each column (of an even count, the lower middle)
awk '{ for (i = 2; i <= NF; i++) v[i, NR] = $i } END {
  split("%8.0f %8.0f %8.0f %8.3f %8.3f %8.3f %8.1f %8.1f %8.1f %11.3f %11.2f %11.2f", f, " ")
  printf "%-4s", "med"
  for (i = 2; i <= NF; i++) {
    for (r = 1; r <= NR; r++) a[r] = v[i, r]
    for (x = 1; x <= NR; x++) for (y = x + 1; y <= NR; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
    printf " " f[i - 1], a[int((NR + 1) / 2)]
  }
  printf "\n" }' "$W/rows"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
