#!/usr/bin/env bash
# test_rollout.sh: a rolling update as the API server sees it, with zero failed admission calls.
# Two servers sit behind rollout.py's proxy, which plays kube-proxy (round robin; new connections
# still reach a backend for LAG seconds after it turned not ready, as an endpoint removal takes
# time to reach every node), while rollout.py's client plays the API server (HTTP/1.1 over TLS,
# a pool of kept-alive connections, session-pod reviews back to back, no retries). The rollout
# is the chart's (maxSurge 1, maxUnavailable 0): a new server starts, an old one gets SIGTERM,
# twice. Every request must succeed. Then the same rollout with --shutdown-delay 0 shows that
# the test can fail: the old server stops accepting while the proxy still sends to it.
# Bounded: each client run stops on a file or after 60 s; the servers use a shutdown delay of
# DELAY s (the default 5 s would only make the test slower) with the proxy's LAG below it.
source "$(dirname "$0")/lib.sh"
BODY=$SA_SRC/tests/validate/cases/pod-session-missing-key.json
ROLLOUT=("/usr/bin/python3" "$(dirname "$0")/rollout.py")
DELAY=2
LAG=1

make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
fact() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# serve NAME DELAY: a server on free ports, listed as a backend (not ready yet: the proxy sends it
# nothing until its /readyz says 200); sets PID_<NAME> and PORT_<NAME>.
serve() {
  local name=$1 delay=$2 port mport
  port=$(free_port); mport=$(free_port)
  start_server "$name" --listen 127.0.0.1:$port --metrics-listen 127.0.0.1:$mport \
    --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
    --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
    --shutdown-delay "$delay" --drain-timeout 5
  printf -v "PID_$name" '%s' "$SERVER_PID"
  printf -v "PORT_$name" '%s' "$port"
  echo "$port $mport" >> "$BACKENDS"
  wait_ready "https://localhost:$port" "$CA"
}

# client RUN WORKERS: starts rollout.py in the background (CLIENT_PID), returns once it sends
# requests.
client() {
  "${ROLLOUT[@]}" --backends "$BACKENDS" --ca "$CA" --body "$BODY" --lag $LAG --workers "$2" \
    --seconds 60 --stop-file "$TMP/$1.stop" --port-file "$TMP/$1.port" > "$TMP/$1.facts" &
  CLIENT_PID=$!
  for _ in $(seq 1 100); do [ -s "$TMP/$1.port" ] && return 0; sleep 0.1; done
  fail "$1: the client never started"
}

# finish_client RUN: stops the client and sets LINE to its facts.
finish_client() {
  touch "$TMP/$1.stop"
  wait "$CLIENT_PID" || fail "$1: the client exited non-zero"
  LINE=$(cat "$TMP/$1.facts")
}

# --- the rollout: A and B, then C in, A out, D in, B out.
BACKENDS=$TMP/backends
: > "$BACKENDS"
serve A $DELAY
serve B $DELAY
client rollout 4
sleep 1.5
serve C $DELAY
sleep 0.5 # the proxy's next look sees C ready
stop_server "old server A (shutdown delay ${DELAY} s)" "$PID_A"
serve D $DELAY
sleep 0.5
stop_server "old server B (shutdown delay ${DELAY} s)" "$PID_B"
sleep 1
finish_client rollout
line=$LINE
echo "# rollout: $line"
total=$(fact "$line" total)
check "rollout: requests were made throughout ($total)" [ "${total:-0}" -ge 100 ]
expect_eq "rollout: zero failed requests (first failure: $(fact "$line" first_failure))" "$(fact "$line" failed)" "0"
expect_eq "rollout: every request answered 200" "$(fact "$line" ok)" "${total:-none}"
by_backend=$(fact "$line" by_backend)
for n in C D; do
  port_var=PORT_$n
  check "rollout: the new server $n got connections ($by_backend)" \
    grep -q "${!port_var}:" <<< "$by_backend"
done
check "rollout: clients moved to new connections after Connection: close ($(fact "$line" connections) connections)" \
  [ "$(fact "$line" connections)" -gt 4 ] 2>/dev/null
for n in A B; do
  check "rollout: $n logged the delay, then the drain" \
    grep -q '"msg":"shutting down","signal":"SIGTERM","shutdown_delay":"2"' "$TMP/$n.log"
  check "rollout: $n stopped accepting only after the delay" \
    grep -q '"msg":"no longer accepting connections; draining"' "$TMP/$n.log"
done
stop_server "new server C" "$PID_C"
stop_server "new server D" "$PID_D"

# --- an idle kept-alive connection is kept through the shutdown delay (the API server may still
# send on it) and closed, between requests, as soon as the delay ends, not at the drain timeout.
HOSTILE=("/usr/bin/python3" "$(dirname "$0")/hostile_client.py")
BACKENDS=$TMP/backends-idle
serve G $DELAY
"${HOSTILE[@]}" keepalive --port "$PORT_G" --ca "$CA" --body "$BODY" --wait-close --timeout 10 > "$TMP/idle.facts" &
IDLE_PID=$!
for _ in $(seq 1 100); do grep -q '"msg":"review"' "$TMP/G.log" && break; sleep 0.05; done # answered
kill -TERM "$PID_G"
wait "$IDLE_PID" || fail "idle connection: the client exited non-zero"
line=$(cat "$TMP/idle.facts")
echo "# idle connection across SIGTERM: $line"
expect_eq "idle connection: answered before SIGTERM" "$(fact "$line" answers)" "200"
expect_eq "idle connection: closed by the server" "$(fact "$line" end)" "closed"
check "idle connection: kept open through the ${DELAY} s delay, closed right after it ($(fact "$line" after_s) s after its answer)" \
  awk -v t="$(fact "$line" after_s)" -v d=$DELAY 'BEGIN { exit !(t >= d && t < d + 2) }'
stop_server "server G" "$PID_G"

# --- control: the same with --shutdown-delay 0 fails requests (the test can fail).
BACKENDS=$TMP/backends-control
: > "$BACKENDS"
serve E 0
serve F 0
client control 8 # more connections on the stopped server: more chances to fail
sleep 1
stop_server "old server E (no shutdown delay)" "$PID_E"
sleep $((LAG + 1))
finish_client control
line=$LINE
echo "# control without the delay: $line"
check "control: without the delay, requests fail ($(fact "$line" failed) of $(fact "$line" total))" \
  [ "$(fact "$line" failed)" -gt 0 ] 2>/dev/null
stop_server "server F" "$PID_F"

finish
