#!/usr/bin/env bash
# test_server.sh: the TLS server end to end with curl: every endpoint and every transport error,
# keep-alive, byte-identical answers with the offline `review`, --dev with its written CA, and a
# graceful SIGTERM with a request in flight.
source "$(dirname "$0")/lib.sh"
FIX=$SA_SRC/tests/fixtures

make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
PORT=$(free_port)
MPORT=$(free_port)
URL=https://localhost:$PORT
start_server main --listen 127.0.0.1:$PORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --max-body 1M --max-buffered 1M --drain-timeout 20 --metrics-listen 127.0.0.1:$MPORT
wait_ready "$URL" "$CA"

# --- probes and routing
expect_eq "healthz" "$(curl -sS --cacert "$CA" "$URL/healthz")" "ok"
expect_eq "readyz" "$(curl -sS --cacert "$CA" "$URL/readyz")" "ok"
code() { curl -sS -o "$TMP/body" -w '%{http_code}' --cacert "$CA" "$@"; }
expect_eq "unknown path is 404" "$(code "$URL/nope")" "404"
expect_eq "404 reason" "$(cat "$TMP/body")" "no such path: /nope"
expect_eq "GET /mutate is 405" "$(code "$URL/mutate")" "405"
expect_eq "405 reason" "$(cat "$TMP/body")" "method not allowed, use POST"
expect_eq "405 Allow header" "$(curl -sS -D - -o /dev/null --cacert "$CA" -X PUT "$URL/validate" | tr -d '\r' | sed -n 's/^Allow: //p')" "POST"
expect_eq "POST /healthz is 405" "$(code -X POST -d x "$URL/healthz")" "405"
expect_eq "text/plain is 415" "$(code -H 'Content-Type: text/plain' --data-binary @"$FIX/rolebinding-v1.json" "$URL/validate")" "415"
expect_eq "415 reason" "$(cat "$TMP/body")" "content type must be application/json, got text/plain"
expect_eq "no content type is 415" "$(code -H 'Content-Type:' --data-binary @"$FIX/rolebinding-v1.json" "$URL/validate")" "415"
expect_eq "json with charset is accepted" "$(code -H 'Content-Type: application/json; charset=utf-8' --data-binary @"$FIX/rolebinding-v1.json" "$URL/validate")" "200"

# --- 413: declared length over the limit, and a chunked body that grows past it
head -c 1100000 /dev/zero | tr '\0' ' ' > "$TMP/big.json"
expect_eq "body over --max-body is 413" "$(code -H 'Content-Type: application/json' --data-binary @"$TMP/big.json" "$URL/validate")" "413"
expect_eq "413 reason" "$(cat "$TMP/body")" "request body is over the limit of 1048576 bytes"
expect_eq "chunked body over the limit is 413" "$(code -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big.json" "$URL/validate")" "413"

# --- 503: request bodies buffered by all connections together are capped (--max-buffered 1M):
# two slow 700 KB uploads at once, the first reserves its declared length, the second is refused
{ cat "$FIX/rolebinding-v1.json"; head -c 700000 /dev/zero | tr '\0' ' '; } > "$TMP/700k.json"
slow_post() { curl -sS --cacert "$CA" -H 'Content-Type: application/json' --limit-rate 200K \
  --data-binary @"$TMP/700k.json" -o "$TMP/$1.body" -w '%{http_code}' "$URL/validate" > "$TMP/$1.code"; }
slow_post first & P1=$!
sleep 0.5
slow_post second & P2=$!
wait $P1 $P2
expect_eq "first of two big bodies is served" "$(cat "$TMP/first.code")" "200"
expect_eq "second, past --max-buffered, is 503" "$(cat "$TMP/second.code")" "503"
expect_eq "503 reason" "$(cat "$TMP/second.body")" "busy: request bodies over 1048576 bytes are being buffered; retry"
expect_eq "the budget is given back: a big body is served again" "$(slow_post third; cat "$TMP/third.code")" "200"

# --- 400: unusable reviews, each with its one-line reason
bad() { printf '%s' "$1" > "$TMP/bad.json"; code -H 'Content-Type: application/json' --data-binary @"$TMP/bad.json" "$URL/validate"; }
expect_eq "not JSON is 400" "$(bad 'nope')" "400"
expect_eq "not JSON reason" "$(cat "$TMP/body")" "body is not valid JSON (error at byte 0)"
expect_eq "no request is 400" "$(bad '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}')" "400"
expect_eq "no request reason" "$(cat "$TMP/body")" "request is missing or not an object"
expect_eq "no uid is 400" "$(bad '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"}}}')" "400"
expect_eq "uid of the wrong type is 400" "$(bad '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":5}}')" "400"
printf '{"kind":"\xff"}' > "$TMP/bad.json"
expect_eq "non-UTF-8 is 400" "$(code -H 'Content-Type: application/json' --data-binary @"$TMP/bad.json" "$URL/validate")" "400"

# --- reviews: uid echoed, version kept, query string ignored, server == offline review
for f in rolebinding-v1 configmap-v1beta1 pod-plain-v1; do
  for ep in mutate validate; do
    got=$(code -H 'Content-Type: application/json' --data-binary @"$FIX/$f.json" "$URL/$ep?timeout=5s")
    expect_eq "$f via /$ep is 200" "$got" "200"
    "$SA_BIN" review --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
      --path "/$ep" "$FIX/$f.json" 2>/dev/null | head -c -1 > "$TMP/offline"
    check "$f via /$ep: server and review are byte-identical" cmp -s "$TMP/body" "$TMP/offline"
  done
  want_uid=$(json_get 'd["request"]["uid"]' < "$FIX/$f.json")
  want_api=$(json_get 'd["apiVersion"]' < "$FIX/$f.json")
  expect_eq "$f: response.uid = request.uid" "$(json_get 'd["response"]["uid"]' < "$TMP/body")" "$want_uid"
  expect_eq "$f: answered in its apiVersion" "$(json_get 'd["apiVersion"]' < "$TMP/body")" "$want_api"
  expect_eq "$f: kind AdmissionReview" "$(json_get 'd["kind"]' < "$TMP/body")" "AdmissionReview"
done

# --- keep-alive: many requests over one TLS connection (curl reuses it within one invocation)
args=()
for i in $(seq 1 20); do
  args+=(--cacert "$CA" -H 'Content-Type: application/json' --data-binary @"$FIX/rolebinding-v1.json" "$URL/validate" -o /dev/null)
  [ "$i" -lt 20 ] && args+=(--next)
done
reuse=$(curl -sS -v "${args[@]}" 2>&1 | grep -c 'Re-using existing connection' || true)
expect_eq "20 requests over one kept-alive connection" "$reuse" "19"
alpn=$(curl -sS -v --cacert "$CA" "$URL/healthz" 2>&1 | grep -c 'ALPN: server accepted http/1.1' || true)
expect_eq "ALPN settles on http/1.1" "$alpn" "1"
expect_eq "a client offering HTTP/2 is answered in HTTP/1.1" \
  "$(curl -sS --http2 -o /dev/null -w '%{http_version}' --cacert "$CA" "$URL/healthz")" "1.1"

# --- SIGTERM with a request in flight: the request completes, the server exits 0
{ cat "$FIX/rolebinding-v1.json"; head -c 600000 /dev/zero | tr '\0' ' '; } > "$TMP/slow.json"
curl -sS --cacert "$CA" -H 'Content-Type: application/json' --limit-rate 150K --data-binary @"$TMP/slow.json" \
  -o "$TMP/slow.body" -w '%{http_code}' "$URL/validate" > "$TMP/slow.code" &
CURL_PID=$!
sleep 1.5
expect_eq "metrics /readyz is 200 before the drain" "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")" "200"
check "session_admission_ready is 1 before the drain" \
  bash -c "curl -sS --max-time 2 http://127.0.0.1:$MPORT/metrics | grep -qx 'session_admission_ready 1'"
kill -TERM "$SERVER_PID"
sleep 0.3
expect_eq "metrics /readyz is 503 while admission drains" "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")" "503"
check "session_admission_ready is 0 while admission drains" \
  bash -c "curl -sS --max-time 2 http://127.0.0.1:$MPORT/metrics | grep -qx 'session_admission_ready 0'"
wait "$CURL_PID" || true
wait "$SERVER_PID"; rc=$?
expect_eq "in-flight request finished with 200" "$(cat "$TMP/slow.code")" "200"
expect_eq "in-flight response is whole" "$(json_get 'd["response"]["allowed"]' < "$TMP/slow.body")" "True"
expect_eq "SIGTERM exits 0" "$rc" "0"
check "shutdown is logged" grep -q '"msg":"shutting down","signal":"SIGTERM"' "$TMP/main.log"
check "no longer listening" bash -c "! curl -sS --max-time 2 --cacert '$CA' '$URL/healthz' 2>/dev/null"

# --- refuses to start without its files, with a clear reason
"$SA_BIN" serve --listen 127.0.0.1:0 --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$SA_SRC/examples/policy.yaml" --public-key "$TMP/missing.pem" 2>"$TMP/nokey.log" && rc=0 || rc=$?
expect_eq "missing key file: exit 1" "$rc" "1"
check "missing key file: reason logged" grep -q "missing.pem: No such file or directory" "$TMP/nokey.log"
"$SA_BIN" serve --listen 127.0.0.1:0 --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/ca.key" \
  --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" 2>"$TMP/badpair.log" && rc=0 || rc=$?
expect_eq "certificate and key that do not match: exit 1" "$rc" "1"
"$SA_BIN" serve --threads 0 2>"$TMP/flag.log" && rc=0 || rc=$?
expect_eq "bad flag value: exit 2" "$rc" "2"
check "bad flag value: reason" grep -q -- "--threads: expected a number from 1 to 256" "$TMP/flag.log"
SA_THREADS=abc "$SA_BIN" serve 2>"$TMP/env.log" && rc=0 || rc=$?
expect_eq "bad env value: exit 2" "$rc" "2"
check "bad env value: reason names the variable" grep -q "SA_THREADS: expected a number" "$TMP/env.log"

"$SA_BIN" serve --dev --dev-ca-out /dev/full --listen 127.0.0.1:0 2>"$TMP/devfull.log" && rc=0 || rc=$?
expect_eq "--dev with an unwritable CA file: exit 1" "$rc" "1"
check "--dev with an unwritable CA file: reason" grep -q "cannot write the dev CA to /dev/full" "$TMP/devfull.log"

# --- serve --dev: nothing prepared, reachable with the CA it writes
DPORT=$(free_port)
(cd "$TMP" && exec "$SA_BIN" serve --dev --listen 127.0.0.1:$DPORT >"$TMP/dev.out" 2>"$TMP/dev.log") &
DEV_PID=$!
PIDS+=("$DEV_PID")
wait_ready "https://localhost:$DPORT" "$TMP/session-admission-dev-ca.pem"
check "--dev wrote its CA in the working directory" openssl x509 -in "$TMP/session-admission-dev-ca.pem" -noout
check "--dev prints how to reach it" grep -q "curl --cacert session-admission-dev-ca.pem https://localhost:$DPORT/readyz" "$TMP/dev.out"
expect_eq "--dev answers a review" "$(curl -sS -o "$TMP/body" -w '%{http_code}' --cacert "$TMP/session-admission-dev-ca.pem" -H 'Content-Type: application/json' --data-binary @"$FIX/rolebinding-v1.json" "https://127.0.0.1:$DPORT/validate")" "200"
(cd "$TMP" && "$SA_BIN" serve --dev --dev-ca-out "$TMP/dev2-ca.pem" --listen 127.0.0.1:$DPORT) 2>"$TMP/inuse.log" && rc=0 || rc=$?
expect_eq "a port in use: exit 1" "$rc" "1"
check "a port in use: libmicrohttpd's reason is logged" grep -q '"level":"warn","msg":"libmicrohttpd","detail":"Failed to bind.*Address already in use"' "$TMP/inuse.log"
kill -TERM "$DEV_PID"; wait "$DEV_PID"; expect_eq "--dev exits 0 on SIGTERM" "$?" "0"

finish
