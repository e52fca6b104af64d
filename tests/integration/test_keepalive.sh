#!/usr/bin/env bash
# test_keepalive.sh: kept-alive connections outlive the API server's. Its webhook transport keeps
# an idle connection for up to 90 s (client-go builds it with k8s.io/apimachinery's
# utilnet.SetTransportDefaults, which takes IdleConnTimeout from Go's http.DefaultTransport:
# 90 s), so the server must not be the side that closes it: a close crossing the API server's
# reuse of the connection fails that admission call (a POST is not retried).
# - With the defaults, a client idles 31 s (past the old 30 s idle timeout) twice between
#   reviews on one connection, and every review is answered on it. Two waits keep the test near
#   a minute; they run in the background while the rest is checked.
# - A short --idle-timeout closes an idle connection after it, and a shorter --request-timeout
#   never applies between requests: it is the deadline of a request that has begun.
source "$(dirname "$0")/lib.sh"
FIX=$SA_SRC/tests/fixtures
HOSTILE=("/usr/bin/python3" "$(dirname "$0")/hostile_client.py")
fact() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
serve() { # NAME PORT ARGS...
  local name=$1 port=$2; shift 2
  start_server "$name" --listen 127.0.0.1:$port --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
    --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" "$@"
  wait_ready "https://localhost:$port" "$CA"
}
keepalive() { "${HOSTILE[@]}" keepalive --port "$1" --ca "$CA" --body "$FIX/rolebinding-v1.json" --waits "$2"; }

# --- the defaults: idle for 31 s twice on one connection, in the background.
DPORT=$(free_port)
serve defaults "$DPORT"
DEFAULTS_PID=$SERVER_PID
keepalive "$DPORT" 31,31 > "$TMP/long.facts" &
LONG_PID=$!
check "default idle timeout is 120 s, above the API server's 90 s" grep -q '"idle_timeout":"120"' "$TMP/defaults.log"
check "default request timeout is 10 s" grep -q '"request_timeout":"10"' "$TMP/defaults.log"

# --- short timeouts: idle 3 s, request 1 s. Idle 2 s between requests is past the request
# timeout and is not cut; idle 5 s is past the idle timeout and is closed.
SPORT=$(free_port)
serve short "$SPORT" --idle-timeout 3 --request-timeout 1
SHORT_PID=$SERVER_PID
line=$(keepalive "$SPORT" 2,5)
echo "# short timeouts: $line"
expect_eq "idle past --request-timeout: reused; past --idle-timeout: closed by the server" \
  "$(fact "$line" answers)" "200,200,closed-while-idle"
stop_server "server with short timeouts" "$SHORT_PID"

wait "$LONG_PID" || fail "the long keep-alive client exited non-zero"
line=$(cat "$TMP/long.facts")
echo "# defaults, 31 s idle twice: $line"
expect_eq "defaults: a connection idle 31 s twice is reused each time, not closed" \
  "$(fact "$line" answers)" "200,200,200"
stop_server "server with the defaults" "$DEFAULTS_PID"

finish
