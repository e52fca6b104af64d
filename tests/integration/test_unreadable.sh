#!/usr/bin/env bash
# test_unreadable.sh: a readable review always gets a verdict, never an HTTP error, through the
# offline `review` and the TLS server alike: under failurePolicy Ignore an HTTP error would be an
# allowed request. A NUL (\u0000, which the API server sends in TokenRequest audiences and any
# object string) where the policy compares is denied, in free text or an unjudged kind allowed;
# a review the strict reader refuses (duplicate keys, invalid UTF-8, nesting deeper than 200) or
# one over --max-body is denied for a judged kind and allowed for another; only a body that is no
# AdmissionReview is 400 (413 over the limit). The reviews are unreadable_reviews.py's.
source "$(dirname "$0")/lib.sh"
MAX=65536
/usr/bin/python3 "$(dirname "$0")/unreadable_reviews.py" "$TMP" $MAX
POLICY=$SA_SRC/examples/policy.yaml
KEY=$SA_SRC/examples/example-public.pem

# verdict FILE: "STATUS ALLOWED MESSAGE" from a response body file (STATUS given by the caller).
verdict() {
  /usr/bin/python3 -c 'import json,sys
try:
    r = json.load(open(sys.argv[1], "rb"))["response"]
except ValueError:
    print("-", open(sys.argv[1], errors="replace").read().strip()); sys.exit()
print(str(r["allowed"]).lower(), r.get("status", {}).get("message", ""))' "$1"
}

# --- through `session-admission review` (no transport limit: a big review is judged whole)
for f in deny-nul-audience allow-nul-annotation allow-nul-configmap deny-duplicate-key \
         deny-invalid-utf8 deny-deep-managed-fields refuse-no-uid; do
  rc=0
  "$SA_BIN" review --policy "$POLICY" --public-key "$KEY" --path /validate "$TMP/$f.json" \
    >"$TMP/$f.cli" 2>"$TMP/$f.err" || rc=$?
  case $f in
    refuse-*) expect_eq "review $f: exit 2, no AdmissionReview" "$rc $(wc -c <"$TMP/$f.cli")" "2 0"
              expect_eq "review $f: one-line reason" "$(cat "$TMP/$f.err")" "session-admission review: duplicate JSON key \"a\"" ;;
    allow-*)  expect_eq "review $f: allowed" "$rc $(verdict "$TMP/$f.cli" | cut -d' ' -f1)" "0 true" ;;
    deny-*)   expect_eq "review $f: denied" "$rc $(verdict "$TMP/$f.cli" | cut -d' ' -f1)" "0 false" ;;
  esac
done
msg=$(verdict "$TMP/deny-nul-audience.cli" | cut -d' ' -f2-)
expect_eq "review: the NUL audience is named" "$msg" \
  'session-admission: request.object.spec.audiences[1] holds a NUL (\u0000), which no name, key or value the policy compares may hold: this TokenRequest cannot be judged'
msg=$(verdict "$TMP/deny-duplicate-key.cli" | cut -d' ' -f2-)
expect_eq "review: a duplicate key is named" "$msg" \
  'session-admission: this RoleBinding review cannot be judged: duplicate JSON key "roleRef"'
check "review: the uid is echoed" grep -q '"uid":"2b752327-a529-4ffd-b2e2-478455e80a0d"' "$TMP/deny-duplicate-key.cli"

# --- through the TLS server, with a small --max-body
make_certs "$TMP/certs"
CA=$TMP/certs/ca.crt
PORT=$(free_port)
URL=https://localhost:$PORT
start_server main --listen 127.0.0.1:$PORT --tls-cert "$TMP/certs/tls.crt" --tls-key "$TMP/certs/tls.key" \
  --policy "$POLICY" --public-key "$KEY" --max-body $MAX --max-buffered 1M
wait_ready "$URL" "$CA"

# send FILE [CURL ARGS...]: "HTTP_STATUS ALLOWED" for a POST to /validate.
send() {
  local f=$1 code; shift
  code=$(curl -sS --max-time 20 --cacert "$CA" -H 'Content-Type: application/json' "$@" \
    --data-binary "@$TMP/$f.json" -o "$TMP/$f.srv" -w '%{http_code}' "$URL/validate")
  echo "$code $(verdict "$TMP/$f.srv" | cut -d' ' -f1)"
}
for f in deny-nul-audience deny-duplicate-key deny-invalid-utf8 deny-deep-managed-fields deny-oversized-token; do
  expect_eq "server $f: 200, denied" "$(send $f)" "200 false"
done
for f in allow-nul-annotation allow-nul-configmap allow-oversized-configmap; do
  expect_eq "server $f: 200, allowed" "$(send $f)" "200 true"
done
expect_eq "server: the same answer as review for the NUL audience" "$(cat "$TMP/deny-nul-audience.srv")" \
  "$(cat "$TMP/deny-nul-audience.cli")"
expect_eq "server: an oversized TokenRequest says why" "$(verdict "$TMP/deny-oversized-token.srv" | cut -d' ' -f2-)" \
  "session-admission: this TokenRequest review cannot be judged: request body is over the limit of $MAX bytes"
expect_eq "server: an oversized review sent chunked is denied too" \
  "$(send deny-oversized-token -H 'Transfer-Encoding: chunked')" "200 false"
expect_eq "server: an oversized body that is no review is 413" "$(send refuse-oversized-not-review | cut -d' ' -f1)" "413"
expect_eq "server: a body with no uid is 400" "$(send refuse-no-uid | cut -d' ' -f1)" "400"
# Only the headers are sent: the answer must come before any of the body (a client still sending
# a body the server will not read can see the connection reset instead of the 413).
far_status=$(/usr/bin/python3 - "$CA" "$PORT" "$((MAX * 4 + 1))" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=20) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                   "Content-Length: %s\r\n\r\n" % sys.argv[3]).encode())
        print(s.recv(64).split(b" ")[1].decode())
PY
)
expect_eq "server: a declared length over 4 x --max-body is 413 at once" "$far_status" "413"
stop_server "server"
finish
