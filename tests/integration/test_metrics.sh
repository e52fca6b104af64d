#!/usr/bin/env bash
# test_metrics.sh: the plain-HTTP metrics listener and the logs, end to end. A known set of
# requests (each outcome's kind, operation and decision worked out independently with the
# offline `review`), then /metrics is checked line by line for the exposition format
# (promcheck.py) and for exact counter values. The whole run's log, at debug level, is then
# checked: one JSON object per line, the review and refusal fields, and never a PEM armour line
# or the marker planted in every request body.
source "$(dirname "$0")/lib.sh"
CASES=$SA_SRC/tests/validate/cases
FIX=$SA_SRC/tests/fixtures
CHECK=$SA_SRC/tests/integration/promcheck.py
MARKER=planted-marker-5e1c0d
export MARKER

make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
mkdir -p "$TMP/policy" "$TMP/req"
# rbac-impersonation in warn mode, so a warn-mode violation is counted too.
sed 's/^  rbac-impersonation: enforce/  rbac-impersonation: warn/' "$SA_SRC/examples/policy.yaml" > "$TMP/policy/policy.yaml"
grep -q '^  rbac-impersonation: warn' "$TMP/policy/policy.yaml"

# Every review gets the marker in an annotation, and the ConfigMap a PEM private key block in
# its data: neither may ever reach the log.
plant() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
obj = d["request"].get("object") or {}
obj.setdefault("metadata", {}).setdefault("annotations", {})["planted"] = os.environ["MARKER"]
if obj.get("kind") == "ConfigMap":
    obj["data"] = {"tls.key": "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % os.environ["MARKER"]}
d["request"]["object"] = obj
json.dump(d, open(sys.argv[2], "w"))
EOF
}
plant "$FIX/rolebinding-v1.json" "$TMP/req/rolebinding.json"
plant "$FIX/configmap-v1beta1.json" "$TMP/req/configmap.json"
plant "$FIX/pod-plain-v1.json" "$TMP/req/pod-plain.json"
plant "$CASES/pod-session-missing-key.json" "$TMP/req/pod-session.json"
plant "$CASES/binding-clusterrolebinding-cluster-admin-session-sa.json" "$TMP/req/crb-admin.json"
plant "$CASES/role-impersonate-star-verb.json" "$TMP/req/impersonate.json"

PORT=$(free_port)
MPORT=$(free_port)
URL=https://localhost:$PORT
MURL=http://127.0.0.1:$MPORT
start_server main --listen 127.0.0.1:$PORT --metrics-listen 127.0.0.1:$MPORT \
  --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$TMP/policy/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" \
  --max-body 64K --reload-interval 1 --log-level debug
MAIN_PID=$SERVER_PID
wait_ready "$URL" "$CA"

# --- the known set of reviews, and what the offline review says each one is
declare -A WANT
# label KIND: the bounded kind label, as sa_metrics maps it
label() { case "$1" in Pod|RoleBinding|ClusterRoleBinding|Role|ClusterRole|TokenRequest) echo "$1";; *) echo other;; esac; }
send() { # send ENDPOINT FILE COUNT
  local ep=$1 file=$2 n=$3 i got kind op decision resp
  for i in $(seq 1 "$n"); do
    got=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" -H 'Content-Type: application/json' \
      --data-binary @"$file" "$URL/$ep?timeout=10s")
    [ "$got" = 200 ] || fail "$ep $(basename "$file") answered $got"
  done
  resp=$("$SA_BIN" review --policy "$TMP/policy/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" --path "/$ep" "$file" 2>/dev/null)
  decision=$(printf '%s' "$resp" | json_get '"patched" if "patch" in d["response"] else "allowed" if d["response"]["allowed"] else "denied"')
  kind=$(label "$(json_get 'd["request"]["kind"]["kind"]' < "$file")")
  op=$(json_get 'd["request"]["operation"]' < "$file")
  local key="session_admission_requests_total{endpoint=\"$ep\",kind=\"$kind\",operation=\"$op\",decision=\"$decision\"}"
  WANT[$key]=$(( ${WANT[$key]:-0} + n ))
}
send validate "$TMP/req/rolebinding.json" 3
send validate "$TMP/req/configmap.json" 1
send mutate "$TMP/req/pod-plain.json" 2
send mutate "$TMP/req/pod-session.json" 2
send validate "$TMP/req/crb-admin.json" 2
send validate "$TMP/req/impersonate.json" 1
expect_eq "the session pod is patched" "${WANT['session_admission_requests_total{endpoint="mutate",kind="Pod",operation="CREATE",decision="patched"}']:-0}" "2"
expect_eq "the cluster-admin binding is denied" "${WANT['session_admission_requests_total{endpoint="validate",kind="ClusterRoleBinding",operation="CREATE",decision="denied"}']:-0}" "2"

# --- transport refusals and an unusable review, all carrying the marker too
code() { curl -sS -o "$TMP/body" -w '%{http_code}' --cacert "$CA" "$@"; }
printf 'not json %s' "$MARKER" > "$TMP/req/bad.json"
expect_eq "unparseable review is 400" "$(code -H 'Content-Type: application/json' --data-binary @"$TMP/req/bad.json" "$URL/validate")" "400"
expect_eq "text/plain is 415" "$(code -H 'Content-Type: text/plain' --data-binary @"$TMP/req/rolebinding.json" "$URL/validate")" "415"
{ printf '{"marker":"%s","pad":"' "$MARKER"; head -c 70000 /dev/zero | tr '\0' x; printf '"}'; } > "$TMP/req/big.json"
# The server refuses a declared length over the limit before reading the body and closes: with
# Expect: 100-continue the client waits for that answer instead of racing the close with its
# upload (a reset that reaches curl first reads as code 000).
expect_eq "body over --max-body is 413" "$(code -H 'Content-Type: application/json' -H 'Expect: 100-continue' --data-binary @"$TMP/req/big.json" "$URL/validate")" "413"
expect_eq "unknown path is 404" "$(code "$URL/nope")" "404"
expect_eq "wrong method is 405" "$(code -X PUT "$URL/mutate")" "405"
unknown='session_admission_requests_total{endpoint="validate",kind="unknown",operation="unknown",decision="error"}'
WANT[$unknown]=3

# --- the listener's own paths; no TLS there, no metrics on the admission port
expect_eq "metrics listener: healthz" "$(curl -sS "$MURL/healthz")" "ok"
expect_eq "metrics listener: readyz" "$(curl -sS "$MURL/readyz")" "ok"
expect_eq "metrics listener: no /validate" "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' "$MURL/validate")" "404"
expect_eq "metrics listener: POST /metrics is 405" "$(curl -sS -o /dev/null -w '%{http_code}' -d x "$MURL/metrics")" "405"
check "metrics listener speaks no TLS" bash -c "! curl -sS --max-time 3 -k https://127.0.0.1:$MPORT/metrics >/dev/null 2>&1"
expect_eq "admission listener: no /metrics" "$(code "$URL/metrics")" "404"
WANT['session_admission_http_errors_total{code="404"}']=2
ctype=$(curl -sS -D - -o /dev/null "$MURL/metrics" | tr -d '\r' | sed -n 's/^Content-Type: //Ip')
expect_eq "exposition content type" "$ctype" "text/plain; version=0.0.4; charset=utf-8"

# --- scrape: format first, then exact values
scrape() { curl -sS --max-time 5 -o "$TMP/metrics.txt" "$MURL/metrics"; }
value() { /usr/bin/python3 "$CHECK" "$TMP/metrics.txt" "$1" 2>/dev/null | tail -n 1; }
# Connections close asynchronously after curl exits: wait until the server has seen them go.
for _ in $(seq 1 50); do scrape; [ "$(value session_admission_open_connections)" = 0 ] && break; sleep 0.1; done
check "the exposition passes promcheck" /usr/bin/python3 "$CHECK" "$TMP/metrics.txt"
/usr/bin/python3 "$CHECK" "$TMP/metrics.txt" >/dev/null || cat "$TMP/metrics.txt" >&2
WANT['session_admission_http_errors_total{code="400"}']=1
WANT['session_admission_http_errors_total{code="405"}']=1
WANT['session_admission_http_errors_total{code="413"}']=1
WANT['session_admission_http_errors_total{code="415"}']=1
WANT['session_admission_http_errors_total{code="503"}']=0
WANT['session_admission_violations_total{rule="rbac-session-binding",mode="enforce"}']=2
WANT['session_admission_violations_total{rule="rbac-impersonation",mode="warn"}']=1
WANT['session_admission_violations_total{rule="rbac-impersonation",mode="enforce"}']=0
# Every rule id of the closed set has its series from the start, the newest too.
WANT['session_admission_violations_total{rule="session-env-from-secret",mode="audit"}']=0
WANT['session_admission_request_duration_seconds_count{endpoint="validate"}']=10
WANT['session_admission_request_duration_seconds_bucket{endpoint="validate",le="+Inf"}']=10
WANT['session_admission_request_duration_seconds_count{endpoint="mutate"}']=4
WANT['session_admission_in_flight_requests']=0
WANT['session_admission_open_connections']=0
WANT['session_admission_reloads_total{target="certificate",result="success"}']=0
WANT['session_admission_reloads_total{target="certificate",result="failure"}']=0
WANT['session_admission_reloads_total{target="policy",result="failure"}']=0
WANT['session_admission_client_certificate_rejections_total']=0
WANT['session_admission_request_timeouts_total']=0
fp=$(openssl pkey -pubin -in "$SA_SRC/examples/example-public.pem" -outform DER | sha256sum | cut -d' ' -f1)
WANT["session_admission_public_key_info{fingerprint=\"$fp\"}"]=1
serial=$(openssl x509 -in "$TMP/certs/tls.crt" -noout -serial | cut -d= -f2)
WANT["session_admission_tls_certificate_info{serial=\"$serial\"}"]=1
WANT['session_admission_tls_certificate_expiry_timestamp_seconds']=$(date -d "$(openssl x509 -in "$TMP/certs/tls.crt" -noout -enddate | cut -d= -f2)" +%s)
WANT['session_admission_tls_certificate_expiring_soon']=0
WANT['session_admission_ready']=1
for key in $(printf '%s\n' "${!WANT[@]}" | sort); do
  expect_eq "$key" "$(value "$key")" "${WANT[$key]}"
done
# Exactly the combinations sent, no others.
expect_eq "no other request series" "$(grep -c '^session_admission_requests_total{' "$TMP/metrics.txt")" "$(printf '%s\n' "${!WANT[@]}" | grep -c '^session_admission_requests_total')"
check "build info names the version" grep -q "^session_admission_build_info{version=\"$("$SA_BIN" version | cut -d' ' -f2)\",libmicrohttpd=\"0.9" "$TMP/metrics.txt"
loaded=$(value 'session_admission_last_successful_load_timestamp_seconds{target="certificate"}')
check "certificate load time is now-ish" [ $(( $(date +%s) - loaded )) -lt 300 ]
loaded=$(value 'session_admission_last_successful_load_timestamp_seconds{target="policy_and_key"}')
check "policy load time is now-ish" [ $(( $(date +%s) - loaded )) -lt 300 ]

# --- gauges move: a held connection shows as open
(sleep 4) | openssl s_client -quiet -connect 127.0.0.1:$PORT -CAfile "$CA" >/dev/null 2>&1 &
HOLD=$!
held=absent
for _ in $(seq 1 30); do scrape; held=$(value session_admission_open_connections); [ "$held" = 1 ] && break; sleep 0.1; done
expect_eq "a held TLS connection is counted open" "$held" "1"
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null || true

# --- a broken policy on disk is counted as a failed reload, and the last good one serves on
echo "modes: [" >> "$TMP/policy/policy.yaml"
failed=0
for _ in $(seq 1 80); do scrape; failed=$(value 'session_admission_reloads_total{target="policy",result="failure"}'); [ "$failed" = 1 ] && break; sleep 0.1; done
expect_eq "broken policy counted as a failed reload" "$failed" "1"
expect_eq "still ready with the last good policy" "$(curl -sS "$MURL/readyz")" "ok"

stop_server "metrics run" "$MAIN_PID"
LOG=$TMP/main.log

# --- the log: JSON lines, the right fields, never a body, a key or a secret
check "every log line is a JSON object" /usr/bin/python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    if not isinstance(json.loads(line), dict):
        sys.exit("line %d is not an object" % n)' "$LOG"
check "no PEM armour in the log" bash -c "! grep -q -e '-----BEGIN' -e '-----END' -e 'PRIVATE KEY' '$LOG'"
check "the planted marker never reaches the log" bash -c "! grep -q '$MARKER' '$LOG'"
check "the reviews were logged at all" grep -q '"msg":"review"' "$LOG"
row=$(/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("msg") == "review" and d.get("uid") == "5a000000-0000-4000-8000-000000000008":
        print("|".join(d.get(k, "-") for k in ("level", "endpoint", "kind", "namespace", "name", "operation", "user", "decision", "rules", "status")))
        print("duration" if float(d["duration_ms"]) >= 0 else "")
        break' "$LOG")
expect_eq "review log line fields" "$(echo "$row" | head -n 1)" "info|validate|ClusterRoleBinding||session-root|CREATE|alice@example.com|denied|rbac-session-binding|200"
expect_eq "review log line has a duration" "$(echo "$row" | tail -n 1)" "duration"
refused() { # refused STATUS: the reason of the warn line for that transport refusal
  /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("level") == "warn" and d.get("status") == sys.argv[2] and d.get("msg") in ("request refused", "review"):
        print(d.get("reason", "")); break' "$LOG" "$1"
}
expect_eq "413 logged at warn with its reason" "$(refused 413)" "request body is over the limit of 65536 bytes"
expect_eq "415 logged at warn with its reason" "$(refused 415)" "content type must be application/json, got text/plain"
expect_eq "400 logged at warn with its reason" "$(refused 400)" "body is not valid JSON (error at byte 0)"
expect_eq "405 logged at warn with its reason" "$(refused 405)" "method not allowed, use POST"
check "startup line carries the new settings" grep -q "\"metrics_listen\":\"127.0.0.1:$MPORT\",\"metrics_port\":\"$MPORT\",\"tls_min_version\":\"1.2\",\"client_ca\":\"off\",\"client_cn\":\"any\"" "$LOG"
expect_eq "configuration printed once" "$(grep -c '"msg":"session-admission starting"' "$LOG")" "1"

# --- SA_METRICS_LISTEN from the environment; "off"; a bad address refuses to start
P2=$(free_port); M2=$(free_port)
SA_METRICS_LISTEN=127.0.0.1:$M2 start_server env --listen 127.0.0.1:$P2 --tls-cert "$TMP/certs/tls.crt" \
  --tls-key "$TMP/certs/tls.key" --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem"
wait_ready "https://localhost:$P2" "$CA"
check "SA_METRICS_LISTEN is honoured" bash -c "curl -sS http://127.0.0.1:$M2/metrics | grep -q '^# TYPE session_admission_requests_total counter'"
stop_server "env-configured run"
"$SA_BIN" serve --listen 127.0.0.1:0 --metrics-listen nowhere --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$SA_SRC/examples/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" 2>"$TMP/badm.log" && rc=0 || rc=$?
expect_eq "bad --metrics-listen: exit 1" "$rc" "1"
check "bad --metrics-listen: reason" grep -q 'listen address nowhere: expected ADDR:PORT' "$TMP/badm.log"

finish
