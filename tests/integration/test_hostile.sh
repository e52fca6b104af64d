#!/usr/bin/env bash
# test_hostile.sh: badly behaved clients on loopback. The webhook sits on the admission path of
# every pod, so no client may crash it, hang it or starve the others: slowloris, a connection
# flood past --max-connections, requests dribbled past --request-timeout (headers, bodies, a
# hundred at once), a 100 MiB chunked body, truncated bodies, lying Content-Length,
# chunked and pipelined requests, HTTP/1.0, plain HTTP and garbage on the TLS port. Each gets an
# answer or a clean close within a bound, and /healthz answers after each. The raw clients are
# hostile_client.py (curl cannot misbehave on purpose). Under SA_WRAP (valgrind) the 100 MiB body
# shrinks to 8 MiB (decrypting 100 MiB under memcheck alone takes minutes), and under valgrind or
# ASan the RSS and latency bounds are skipped: their allocators keep freed memory in quarantine
# and slow every request, so those numbers say nothing about the server.
source "$(dirname "$0")/lib.sh"
FIX=$SA_SRC/tests/fixtures
HOSTILE=("/usr/bin/python3" "$(dirname "$0")/hostile_client.py")

make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
# A memory tool the server runs under, if any: valgrind through SA_WRAP, or an ASan build.
TOOL=${SA_WRAP:+valgrind}
case "$(ldd "$SA_BIN")" in *libasan*) TOOL=ASan;; esac # not `| grep -q`: under pipefail, its early exit can fail the pipe
# Under a memory tool the server is ten times slower: fifty handshakes at once can keep a dribbling
# connection's bytes unread for seconds (CI once saw one cut after 2 s), so the idle bound grows.
IDLE=2
[ -z "$TOOL" ] || IDLE=5
PORT=$(free_port)
URL=https://localhost:$PORT
start_server main --listen 127.0.0.1:$PORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --max-body 1M --idle-timeout $IDLE --request-timeout 60 --max-connections 200
MAIN_PID=$SERVER_PID
wait_ready "$URL" "$CA"

hostile() { "${HOSTILE[@]}" "$1" --port "$PORT" --ca "$CA" --body "$FIX/rolebinding-v1.json" "${@:2}"; }
# fact LINE KEY: the value of KEY=... in a hostile_client.py line.
fact() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# fast DESCRIPTION WORST_MS: normal requests took under a second, unless a memory tool slows them.
fast() {
  if [ -z "$TOOL" ]; then check "$1 (worst $2 ms)" [ "$2" -lt 1000 ]; else skip "$1: the server runs under $TOOL"; fi
}
healthy() { expect_eq "$1: /healthz still answers" "$(curl -sS --max-time 5 --cacert "$CA" "$URL/healthz" 2>&1)" "ok"; }
# raw DESCRIPTION WANT_FIRST_STATUS WANT_END ARGS...: one raw exchange; WANT_END is how the
# connection ended (closed = by the server within the bound). An empty status means none.
raw() {
  local desc=$1 want_status=$2 want_end=$3 line; shift 3
  line=$(hostile raw "$@")
  expect_eq "$desc: answer" "$(fact "$line" statuses | cut -d, -f1)" "$want_status"
  expect_eq "$desc: connection end" "$(fact "$line" end)" "$want_end"
  healthy "$desc"
}
POST='POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n'

# --- slowloris: 50 connections dribble headers a byte at a time; normal requests keep succeeding,
# and once the dribblers stall each is cut within the idle timeout (plus scheduling slack). The
# request deadline (tested below) is set long here: under valgrind 50 handshakes alone take
# longer than the default 10 s.
line=$(hostile slowloris --conns 50 --seconds 4 --interval 0.2 --cut-within $((IDLE + 4)))
echo "# slowloris: $line"
total=$(fact "$line" normal_total)
check "slowloris: normal requests were made while 50 connections dribbled ($total)" [ "$total" -ge 5 ]
expect_eq "slowloris: every normal request succeeded" "$(fact "$line" normal_ok)" "$total"
expect_eq "slowloris: dribbling connections are not cut while they send" "$(fact "$line" cut_while_dribbling)" "0"
expect_eq "slowloris: every stalled connection is cut after the idle timeout" "$(fact "$line" stalled_cut)" "50"
fast "slowloris: normal requests stay fast" "$(fact "$line" normal_max_ms)"
healthy "slowloris"

# --- idle connections: a TCP connection that never says hello, and a TLS one that never sends
# a request, are closed after the idle timeout.
raw "silent TCP connection" "" closed --plain --send '' --timeout $((IDLE + 4))
raw "TLS connection that sends nothing" "" closed --send '' --timeout $((IDLE + 4))

# --- bodies over the limit: a 100 MiB chunked body is refused without being buffered: the
# server's RSS stays small all along and the answer is 413.
MIB=100
[ "$TOOL" = valgrind ] && { MIB=8; skip "100 MiB body: 8 MiB under valgrind"; }
rss0=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$MAIN_PID/status")
line=$(hostile bigbody --pid "$MAIN_PID" --mib $MIB --timeout 30)
echo "# big chunked body: $line (RSS before: $rss0 kB)"
expect_eq "${MIB} MiB chunked body: 413" "$(fact "$line" statuses | cut -d, -f1)" "413"
expect_eq "${MIB} MiB chunked body: all of it was read" "$(fact "$line" sent_mib)" "$MIB"
if [ -z "$TOOL" ]; then
  check "${MIB} MiB chunked body: RSS grew by under 8 MiB while it streamed" \
    [ "$(($(fact "$line" peak_rss_kb) - rss0))" -lt 8192 ]
else
  skip "RSS bound of the big body: the server runs under $TOOL"
fi
healthy "big chunked body"
raw "declared Content-Length over the limit" 413 closed --send "${POST}Content-Length: 104857600\r\n\r\n{body}"
raw "absurd Content-Length" 413 closed --send "${POST}Content-Length: 99999999999999999999999\r\n\r\n{body}"
raw "negative Content-Length" 400 closed --send "${POST}Content-Length: -1\r\n\r\n{body}"

# --- truncated bodies and lying Content-Length
raw "body cut short, client gone" "" client-closed --send "${POST}Content-Length: {len}\r\n\r\n{\"apiVersion\":" --close-after-send
raw "body cut short, client waits: closed after the idle timeout" "" closed \
  --send "${POST}Content-Length: {len}\r\n\r\n{\"apiVersion\":" --timeout $((IDLE + 4))
raw "Content-Length longer than the body: closed after the idle timeout" "" closed \
  --send "${POST}Content-Length: 5000\r\n\r\n{body}" --timeout $((IDLE + 4))
raw "Content-Length shorter than the body: the prefix is judged (400), the rest refused" 400 closed \
  --send "${POST}Content-Length: 10\r\n\r\n{body}"
# RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and the connection must close after.
raw "Content-Length and Transfer-Encoding both: chunked wins, then close" 200 closed \
  --send "${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n{hexlen}\r\n{body}\r\n0\r\n\r\n"

# --- chunked bodies
line=$(hostile raw --send "${POST}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{hexlen}\r\n{body}\r\n0\r\n\r\n")
expect_eq "chunked review: 200" "$(fact "$line" statuses)" "200"
expect_eq "chunked review: answered with its uid" "$(fact "$line" uids)" "$(json_get 'd["request"]["uid"]' < "$FIX/rolebinding-v1.json")"
raw "chunk size that is not hex" 400 closed --send "${POST}Transfer-Encoding: chunked\r\n\r\nzz\r\n{body}\r\n0\r\n\r\n"
raw "chunked body cut short: closed after the idle timeout" "" closed \
  --send "${POST}Transfer-Encoding: chunked\r\n\r\n4000\r\n{body}" --timeout $((IDLE + 4))

# --- pipelining: three requests in one write, three answers in order
line=$(hostile raw --send "${POST}Content-Length: {len}\r\n\r\n{body}${POST}Content-Length: {len}\r\n\r\n{body}GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
expect_eq "pipelined requests: three answers" "$(fact "$line" statuses)" "200,200,200"
expect_eq "pipelined requests: both reviews answered" "$(fact "$line" uids | tr ',' '\n' | wc -l)" "2"
healthy "pipelined requests"

# --- protocol versions
line=$(hostile raw --send 'POST /validate HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n{body}')
expect_eq "HTTP/1.0: answered" "$(fact "$line" statuses)" "200"
expect_eq "HTTP/1.0: closed after the answer" "$(fact "$line" end)" "closed"
raw "HTTP/0.9 request line" 400 closed --send 'GET /healthz\r\n\r\n'
raw "HTTP/2 preface over HTTP/1.1 TLS" 505 closed --send 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
raw "header line without a colon" 400 closed --send 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nnonsense\r\n\r\n'

# --- not TLS at all on the TLS port
raw "plain HTTP on the TLS port" "" closed --plain --send 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'
raw "garbage instead of a ClientHello" "" closed --plain --send '\x00\xff\x13garbage\x16\x03\x01\x00\x05hello'
raw "a TLS record header claiming 16 KiB, then silence" "" closed --plain --send '\x16\x03\x01\x40\x00\x01' --timeout $((IDLE + 4))
stop_server "main server after every hostile client" "$MAIN_PID"

# --- requests that never finish: libmicrohttpd's own timer restarts with every byte, so a client
# that keeps dribbling is cut by the request deadline instead: --request-timeout after its first
# byte, while it is still sending, whether it dribbles the headers or a body after whole headers;
# each cut is counted and logged at warn. Many at once do not slow the real reviews down.
RT=3
SPORT=$(free_port)
SMPORT=$(free_port)
start_server slow --listen 127.0.0.1:$SPORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --request-timeout $RT --idle-timeout 60 --max-connections 300 --metrics-listen 127.0.0.1:$SMPORT
SLOW_PID=$SERVER_PID
wait_ready "https://localhost:$SPORT" "$CA"
slack=2
[ -n "$TOOL" ] && slack=6
slowreq() { "${HOSTILE[@]}" slowreq --port "$SPORT" --ca "$CA" --body "$FIX/rolebinding-v1.json" --interval 0.2 "$@"; }
cut_in_time() { # DESC LINE: cut no earlier than the deadline, and within the slack after it
  check "$1: cut no earlier than --request-timeout ($(fact "$2" cut_min_s) s)" \
    awk -v t="$(fact "$2" cut_min_s)" -v rt=$RT 'BEGIN { exit !(t >= rt - 0.1) }'
  check "$1: cut within ${slack} s after it ($(fact "$2" cut_max_s) s)" \
    awk -v t="$(fact "$2" cut_max_s)" -v rt=$RT -v s=$slack 'BEGIN { exit !(t <= rt + s) }'
}
for phase in headers body; do
  line=$(slowreq --conns 10 --phase $phase --seconds $((RT + slack + 4)) --normal-pause -1)
  echo "# slow $phase: $line"
  expect_eq "slow $phase: all 10 cut by the request deadline" "$(fact "$line" cut)" "10"
  check "slow $phase: they were still sending when cut ($(fact "$line" most_bytes) bytes dribbled)" \
    [ "$(fact "$line" most_bytes)" -ge 5 ]
  cut_in_time "slow $phase" "$line"
done
MANY=100
[ "$TOOL" = valgrind ] && MANY=40
line=$(slowreq --conns $MANY --phase mixed --seconds $((RT + slack + 6)) --normal-pause 0.05)
echo "# $MANY slow requests at once: $line"
expect_eq "$MANY slow requests at once: all cut" "$(fact "$line" cut)" "$MANY"
cut_in_time "$MANY slow requests at once" "$line"
total=$(fact "$line" normal_total)
check "$MANY slow requests at once: real reviews were made meanwhile ($total)" [ "${total:-0}" -ge 5 ]
expect_eq "$MANY slow requests at once: every real review answered 200" "$(fact "$line" normal_ok)" "${total:-none}"
fast "$MANY slow requests at once: real reviews stay fast (p99 $(fact "$line" normal_p99_ms) ms, each a new TLS connection)" \
  "$(fact "$line" normal_max_ms)"
expect_eq "request deadline cuts are counted on /metrics" \
  "$(curl -sS "http://127.0.0.1:$SMPORT/metrics" | sed -n 's/^session_admission_request_timeouts_total //p')" "$((20 + MANY))"
check "request deadline cuts are logged at warn, headers" \
  grep -q '"level":"warn","msg":"request not received within --request-timeout; connection cut".*"waiting_for":"handshake or headers"' "$TMP/slow.log"
check "request deadline cuts are logged at warn, body" \
  grep -q '"level":"warn","msg":"request not received within --request-timeout; connection cut".*"waiting_for":"body"' "$TMP/slow.log"
healthy_slow=$(curl -sS --max-time 5 --cacert "$CA" "https://localhost:$SPORT/healthz" 2>&1)
expect_eq "slow requests: /healthz still answers" "$healthy_slow" "ok"
stop_server "slow request server" "$SLOW_PID"

# --- connection flood: with --max-connections 16 held, 10 more connections are refused at once
# (not left hanging in the listen backlog), and the server serves again as soon as they close.
FPORT=$(free_port)
FMPORT=$(free_port)
start_server flood --listen 127.0.0.1:$FPORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --max-connections 16 --idle-timeout 60 --metrics-listen 127.0.0.1:$FMPORT
wait_ready "https://localhost:$FPORT" "$CA"
line=$("${HOSTILE[@]}" flood --port "$FPORT" --ca "$CA" --body "$FIX/rolebinding-v1.json" --conns 16 --extra 10 --request-timeout 2)
echo "# flood: $line"
expect_eq "flood: the first 16 connections are held" "$(fact "$line" first-held)" "16"
expect_eq "flood: 10 more are refused" "$(fact "$line" extra-refused)" "10"
check "flood: each refusal is immediate" [ "$(fact "$line" slowest_refusal_s | cut -d. -f1)" -lt 1 ]
expect_eq "flood: a review while full is refused, not left hanging" "$(fact "$line" while_full)" "None"
check "flood: ... within a second ($(fact "$line" while_full_ms) ms)" [ "$(fact "$line" while_full_ms)" -lt 1000 ]
expect_eq "flood: served again once they close" "$(fact "$line" after)" "200"
refused=$(curl -sS "http://127.0.0.1:$FMPORT/metrics" | sed -n 's/^session_admission_connections_refused_total //p')
check "flood: the refusals are counted on /metrics ($refused)" [ "${refused:-0}" -ge 11 ]
stop_server "flood server" "$SERVER_PID"

finish
