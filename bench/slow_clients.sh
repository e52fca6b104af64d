#!/usr/bin/env bash
# bench/slow_clients.sh: review latency with and without slow clients holding connections.
#
#   bash bench/slow_clients.sh        (about 40 s; appends to bench/slow_clients.md)
#
# One server with the production defaults (--request-timeout 10, --idle-timeout 120, 2 threads).
# wrk (bench/review.lua) posts the session pod to /mutate over 16 kept-alive TLS connections for
# SA_BENCH_SECONDS (6), first alone, then while SA_BENCH_SLOW (200) connections dribble their
# request a byte every 0.2 s (half the headers, half a body after whole headers:
# tests/integration/hostile_client.py slowreq), all held open for the whole wrk run (the request
# deadline cuts them about 10 s after their first byte, after wrk is done). Loopback only;
# every wait is bounded. Environment: SA_BENCH_BUILD (build), SA_BENCH_OUT (bench/slow_clients.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SA_BENCH_BUILD:-build}
OUT=${SA_BENCH_OUT:-bench/slow_clients.md}
SECONDS_RUN=${SA_BENCH_SECONDS:-6}
SLOW=${SA_BENCH_SLOW:-200}
W=$(mktemp -d "${TMPDIR:-/tmp}/sa-bench-slow.XXXXXX")
SRV_PID="" ATTACK_PID=""
cleanup() {
  [ -n "$ATTACK_PID" ] && kill "$ATTACK_PID" 2>/dev/null
  [ -n "$SRV_PID" ] && kill -TERM "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
fact() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

/usr/bin/python3 bench/make_reviews.py "$W/data" >/dev/null
bash certs/gen-certs.sh --out "$W/certs" >/dev/null
PORT=$(free_port)
MPORT=$(free_port)
"$BUILD/session-admission" serve --listen 127.0.0.1:$PORT --metrics-listen 127.0.0.1:$MPORT \
  --tls-cert "$W/certs/tls.crt" --tls-key "$W/certs/tls.key" --policy examples/policy.yaml \
  --public-key examples/example-public.pem --shutdown-delay 0 --log-level error 2>"$W/server.log" &
SRV_PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$MPORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

load() {
  SA_BENCH_REVIEW=$W/data/session-pod.json SA_BENCH_PATH=/mutate wrk -t2 -c16 -d"${SECONDS_RUN}s" \
    --latency -s bench/review.lua "https://127.0.0.1:$PORT" | sed -n 's/^RESULT //p'
}
open_connections() {
  curl -fs "http://127.0.0.1:$MPORT/metrics" | sed -n 's/^session_admission_open_connections //p'
}

load >/dev/null # warm-up
quiet=$(load)
/usr/bin/python3 tests/integration/hostile_client.py slowreq --port "$PORT" --ca "$W/certs/ca.crt" \
  --body "$W/data/session-pod.json" --conns "$SLOW" --phase mixed --interval 0.2 --seconds 30 \
  --normal-pause -1 > "$W/attack.facts" &
ATTACK_PID=$!
for _ in $(seq 1 100); do [ "$(open_connections)" -ge "$SLOW" ] 2>/dev/null && break; sleep 0.1; done
held=$(open_connections)
attacked=$(load)
wait "$ATTACK_PID"; ATTACK_PID=""
cuts=$(curl -fs "http://127.0.0.1:$MPORT/metrics" | sed -n 's/^session_admission_request_timeouts_total //p')

{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD), $(nproc) CPUs, wrk and the slow clients on the same machine"
  echo
  echo "Session pod on /mutate, 16 kept-alive connections, ${SECONDS_RUN} s of wrk each; the second run started"
  echo "once $held connections were open on the server: the $SLOW slow clients, dribbling a byte every 0.2 s."
  echo
  echo "| condition | req/s | p50 ms | p99 ms | failed |"
  echo "|---|---:|---:|---:|---:|"
  for row in "no slow clients:$quiet" "$SLOW slow clients:$attacked"; do
    r=${row#*:}
    echo "| ${row%%:*} | $(fact "$r" rps) | $(ms "$(fact "$r" p50_us)") | $(ms "$(fact "$r" p99_us)") | $(( $(fact "$r" socket_errors) + $(fact "$r" non2xx) )) |"
  done
  echo
  echo "Slow clients: $(cat "$W/attack.facts"); request_timeouts_total afterwards: $cuts."
} | tee -a "$OUT"
