#!/usr/bin/env bash
# test_tls.sh: the admission listener's TLS seen from clients nobody here wrote (openssl s_client,
# curl, sslscan): TLS 1.0/1.1 refused and 1.2/1.3 accepted (the client is told to offer anything,
# SECLEVEL=0, so it is the server that refuses); only ECDHE with AEAD ciphers; no renegotiation;
# --tls-min-version 1.3; and client authentication with --client-ca and --client-cn, where a
# connection without a valid certificate fails its handshake and is never served.
source "$(dirname "$0")/lib.sh"

make_certs "$TMP/certs" --client kube-apiserver
CA=$TMP/certs/ca.crt
make_certs "$TMP/intruder" --ca-dir "$TMP/certs" --client intruder   # right CA, wrong CN
make_certs "$TMP/other" --client kube-apiserver                         # another CA altogether
# An RSA serving certificate too: with it, RSA key exchange would be possible if allowed.
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$TMP/rsa.key" -out "$TMP/rsa.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$TMP/rsa.ext"
openssl x509 -req -in "$TMP/rsa.csr" -CA "$CA" -CAkey "$TMP/certs/ca.key" -CAcreateserial -CAserial "$TMP/ca.srl" \
  -days 30 -extfile "$TMP/rsa.ext" -out "$TMP/rsa.crt" 2>/dev/null
COMMON=(--policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem")

# handshake PORT ARGS...: "ok PROTOCOL CIPHER" when openssl s_client completes a handshake (it
# exits 0 and names a cipher), else "refused".
handshake() {
  local port=$1; shift
  local out rc=0
  out=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:"$port" -servername localhost -CAfile "$CA" "$@" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q 'Verify return code: 0 (ok)' && ! printf '%s' "$out" | grep -q 'Cipher is (NONE)'; then
    echo "ok $(printf '%s' "$out" | sed -n 's/^New, \([^,]*\), Cipher is \(.*\)$/\1 \2/p' | head -n 1)"
  else
    echo refused
  fi
}

# --- default: TLS 1.2 and 1.3, ECDSA certificate
PORT=$(free_port)
start_server ec --listen 127.0.0.1:$PORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" "${COMMON[@]}"
EC_PID=$SERVER_PID
wait_ready "https://localhost:$PORT" "$CA"
ANY='DEFAULT@SECLEVEL=0'
# Control: this client does speak TLS 1.0 and 1.1 when a server accepts them (openssl s_server),
# so the refusals below are the server's.
CPORT=$(free_port)
openssl s_server -quiet -accept 127.0.0.1:$CPORT -cert "$TMP/certs/tls.crt" -key "$TMP/certs/tls.key" -cipher "$ANY" >/dev/null 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$CPORT) 2>/dev/null && break; sleep 0.1; done
expect_eq "control: the client speaks TLS 1.0" "$(handshake $CPORT -tls1 -cipher "$ANY" | cut -d' ' -f1)" "ok"
expect_eq "control: the client speaks TLS 1.1" "$(handshake $CPORT -tls1_1 -cipher "$ANY" | cut -d' ' -f1)" "ok"
expect_eq "TLS 1.0 refused" "$(handshake $PORT -tls1 -cipher "$ANY")" "refused"
expect_eq "TLS 1.1 refused" "$(handshake $PORT -tls1_1 -cipher "$ANY")" "refused"
check "SSLv3 refused" bash -c "! echo | openssl s_client -connect 127.0.0.1:$PORT -ssl3 >/dev/null 2>&1"
expect_eq "TLS 1.2 accepted" "$(handshake $PORT -tls1_2 | cut -d' ' -f1-2)" "ok TLSv1.2"
expect_eq "TLS 1.3 accepted" "$(handshake $PORT -tls1_3 | cut -d' ' -f1-2)" "ok TLSv1.3"
for c in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
  expect_eq "TLS 1.2 $c accepted" "$(handshake $PORT -tls1_2 -cipher "$c")" "ok TLSv1.2 $c"
done
for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384 \
         ECDHE-ECDSA-AES128-CCM ECDHE-ECDSA-NULL-SHA DHE-RSA-AES128-GCM-SHA256 AES128-GCM-SHA256 AES128-SHA; do
  expect_eq "TLS 1.2 $c refused" "$(handshake $PORT -tls1_2 -cipher "$c@SECLEVEL=0")" "refused"
done
for c in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
  expect_eq "TLS 1.3 $c accepted" "$(handshake $PORT -tls1_3 -ciphersuites "$c")" "ok TLSv1.3 $c"
done
expect_eq "TLS 1.3 AES-CCM refused" "$(handshake $PORT -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256)" "refused"
expect_eq "finite-field DH groups refused" "$(handshake $PORT -tls1_3 -groups ffdhe2048:ffdhe3072)" "refused"
check "no compression" bash -c "echo | openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -CAfile '$CA' 2>/dev/null | grep -q '^Compression: NONE'"

# Renegotiation: s_client's R command asks for it; the server drops the connection, so the
# request sent after it gets no answer. Without R the same request is answered.
reneg() { # reneg [R]: the HTTP status line the server sent, if any
  { [ -n "${1:-}" ] && echo R; sleep 1; printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'; sleep 1; } |
    timeout 10 openssl s_client -connect 127.0.0.1:$PORT -tls1_2 -CAfile "$CA" -ign_eof 2>/dev/null | grep -a -m1 '^HTTP/1.1' | tr -d '\r' || true
}
expect_eq "without renegotiation the request is answered" "$(reneg)" "HTTP/1.1 200 OK"
expect_eq "a renegotiation attempt closes the connection" "$(reneg R)" ""

# sslscan, an independent scanner: only TLS 1.2 and 1.3, only AEAD suites with ECDHE.
if command -v sslscan >/dev/null; then
  start=$(date +%s%N)
  timeout 20 sslscan --no-colour --show-sigs 127.0.0.1:$PORT > "$TMP/sslscan.txt" 2>&1 || true
  took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "# sslscan took ${took_ms} ms"
  sed -n '/SSL\/TLS Protocols/,/SSL Certificate/p' "$TMP/sslscan.txt" | grep -v '^$' | sed 's/^/# /'
  for v in "SSLv2 *disabled" "SSLv3 *disabled" "TLSv1.0 *disabled" "TLSv1.1 *disabled" "TLSv1.2 *enabled" "TLSv1.3 *enabled"; do
    check "sslscan: $v" grep -Eq "^$v" "$TMP/sslscan.txt"
  done
  accepted=$(grep -E '^(Preferred|Accepted) ' "$TMP/sslscan.txt" | awk '{print $5}')
  check "sslscan: some suites accepted" [ -n "$accepted" ]
  weak=$(printf '%s\n' "$accepted" | grep -Ev '^(TLS_AES_(128|256)_GCM_SHA(256|384)|TLS_CHACHA20_POLY1305_SHA256|ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305))$' || true)
  expect_eq "sslscan: no weak suite" "$weak" ""
  check "sslscan: no finite-field DH group" bash -c "! grep -q ffdhe '$TMP/sslscan.txt'"
  check "sslscan: renegotiation not supported" grep -q 'Session renegotiation not supported' "$TMP/sslscan.txt"
  check "sslscan: no compression" bash -c "! grep -qi 'Compression enabled' '$TMP/sslscan.txt'"
  check "sslscan: within 20 s" [ "$took_ms" -lt 20000 ]
else
  skip "sslscan is not installed"
fi
stop_server "ECDSA server" "$EC_PID"

# --- an RSA certificate: ECDHE-RSA only, never RSA key exchange
PORT=$(free_port)
start_server rsa --listen 127.0.0.1:$PORT --tls-cert "$TMP/rsa.crt" --tls-key "$TMP/rsa.key" "${COMMON[@]}"
wait_ready "https://localhost:$PORT" "$CA"
expect_eq "RSA: ECDHE-RSA-AES128-GCM-SHA256 accepted" "$(handshake $PORT -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)" "ok TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256"
expect_eq "RSA: ECDHE-RSA-CHACHA20-POLY1305 accepted" "$(handshake $PORT -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305)" "ok TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305"
for c in AES128-GCM-SHA256 AES256-GCM-SHA384 AES128-SHA DHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-SHA; do
  expect_eq "RSA: $c refused" "$(handshake $PORT -tls1_2 -cipher "$c@SECLEVEL=0")" "refused"
done
expect_eq "RSA: TLS 1.3 accepted" "$(handshake $PORT -tls1_3 | cut -d' ' -f1-2)" "ok TLSv1.3"
stop_server "RSA server"

# --- --tls-min-version 1.3 (and from the environment)
PORT=$(free_port)
SA_TLS_MIN_VERSION=1.3 start_server v13 --listen 127.0.0.1:$PORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" "${COMMON[@]}"
wait_ready "https://localhost:$PORT" "$CA"
expect_eq "1.3 only: TLS 1.2 refused" "$(handshake $PORT -tls1_2)" "refused"
expect_eq "1.3 only: TLS 1.3 accepted" "$(handshake $PORT -tls1_3 | cut -d' ' -f1-2)" "ok TLSv1.3"
check "1.3 only: logged in the startup line" grep -q '"tls_min_version":"1.3"' "$TMP/v13.log"
stop_server "TLS 1.3-only server"
"$SA_BIN" serve --listen 127.0.0.1:0 --tls-min-version 1.1 --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  "${COMMON[@]}" 2>"$TMP/v11.log" && rc=0 || rc=$?
expect_eq "--tls-min-version 1.1: refuses to start" "$rc" "1"
check "--tls-min-version 1.1: reason" grep -q 'tls-min-version must be 1.2 or 1.3' "$TMP/v11.log"

# --- client authentication
PORT=$(free_port)
MPORT=$(free_port)
start_server mtls --listen 127.0.0.1:$PORT --metrics-listen 127.0.0.1:$MPORT --tls-cert "$TMP/certs/tls.crt" \
  --tls-key "$TMP/certs/tls.key" --client-ca "$CA" --client-cn kube-apiserver "${COMMON[@]}"
MTLS_PID=$SERVER_PID
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$MPORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
status() { # status TLSMAX [curl args]: the HTTP status a review gets, 000 when none
  local v=$1; shift
  curl -sS --max-time 10 --tls-max "$v" -o "$TMP/body" -w '%{http_code}' --cacert "$CA" -H 'Content-Type: application/json' \
    --data-binary @"$SA_SRC/tests/fixtures/rolebinding-v1.json" "$@" "https://localhost:$PORT/validate" 2>/dev/null || true
}
for v in 1.2 1.3; do
  expect_eq "TLS $v: the right client certificate is served" "$(status $v --cert "$TMP/certs/client.crt" --key "$TMP/certs/client.key")" "200"
  expect_eq "TLS $v: no client certificate is not served" "$(status $v)" "000"
  expect_eq "TLS $v: a certificate from another CA is not served" "$(status $v --cert "$TMP/other/client.crt" --key "$TMP/other/client.key")" "000"
  expect_eq "TLS $v: --client-cn mismatch is not served" "$(status $v --cert "$TMP/intruder/client.crt" --key "$TMP/intruder/client.key")" "000"
  expect_eq "TLS $v: a server certificate (no clientAuth use) is not served" "$(status $v --cert "$TMP/certs/tls.crt" --key "$TMP/certs/tls.key")" "000"
done
expect_eq "TLS 1.2: no client certificate fails the handshake itself" \
  "$(handshake $PORT -tls1_2 | cut -d' ' -f1)" "refused"
expect_eq "TLS 1.2: the right certificate completes the handshake" \
  "$(handshake $PORT -tls1_2 -cert "$TMP/certs/client.crt" -key "$TMP/certs/client.key" | cut -d' ' -f1)" "ok"
expect_eq "only the two good clients were reviewed" "$(grep -c '"msg":"review"' "$TMP/mtls.log")" "2"
check "other CA: refusal logged with the reason" grep -q '"msg":"client certificate refused","reason":"The certificate is NOT trusted. The certificate issuer is unknown."' "$TMP/mtls.log"
check "CN mismatch: refusal logged with the reason" grep -q 'subject CN \\"intruder\\" is not the pinned --client-cn' "$TMP/mtls.log"
check "no clientAuth use: refusal logged with the reason" grep -q 'does not match the intended purpose' "$TMP/mtls.log"
rejected=$(curl -sS "http://127.0.0.1:$MPORT/metrics" | sed -n 's/^session_admission_client_certificate_rejections_total //p')
expect_eq "rejections counted (3 kinds x 2 versions)" "$rejected" "6"
stop_server "client-auth server" "$MTLS_PID"

# --- client authentication: bad configuration refuses to start, with the reason
start_refused() { # start_refused DESCRIPTION REASON ARGS...
  local d=$1 why=$2 rc; shift 2
  "$SA_BIN" serve --listen 127.0.0.1:0 --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" "${COMMON[@]}" "$@" \
    2>"$TMP/refused.log" && rc=0 || rc=$?
  expect_eq "$d: exit 1" "$rc" "1"
  check "$d: reason" grep -q -- "$why" "$TMP/refused.log"
}
start_refused "--client-cn without --client-ca" "--client-cn needs --client-ca" --client-cn kube-apiserver
start_refused "--client-ca missing" "nope.pem: No such file or directory" --client-ca "$TMP/nope.pem"
start_refused "--client-ca without a certificate" "no CA certificate could be read" --client-ca "$SA_SRC/examples/example-public.pem"

finish
