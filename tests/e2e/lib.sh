# lib.sh: helpers of the e2e suite (sourced by run.sh and the cases/*.sh files, not run).
# The case runner, the API client (curl with the admin's client certificate), assertions on what
# the API server answered, and the webhook server the suite runs on loopback.
set -euo pipefail

SA_SRC=${SA_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SA_BIN=${SA_BIN:-$SA_SRC/build/session-admission}
HELM=${HELM:-$SA_SRC/.tools/bin/helm}
PY=/usr/bin/python3
E2E=$SA_SRC/tests/e2e
W=$(mktemp -d "${TMPDIR:-/tmp}/sa-e2e.XXXXXX")
RESP=$W/resp.json
CLUSTER_PIDS=()

PASSED=0 FAILED=0 SKIPPED=0

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- the case runner ----------------------------------------------------------------------------
# A case is a function case_NAME, run by run_case in a subshell with errexit: its first failing
# command ends it. Assertions print "FAIL: why" and return 1; skip_case REASON ends it as skipped.
# Cases share the one cluster and run in the order run.sh lists them; each cleans up what would
# change a later case's answer (and names its objects after itself).
run_case() {
  local name=$1 rc log=$W/cases/$1.log
  mkdir -p "$W/cases"
  set +e
  (set -e; "case_$name") >"$log" 2>&1
  rc=$?
  set -e
  case $rc in
    0) PASSED=$((PASSED + 1)); echo "ok - $name" ;;
    77) SKIPPED=$((SKIPPED + 1)); echo "skip - $name: $(sed -n 's/^SKIP: //p' "$log" | tail -n 1)" ;;
    *) FAILED=$((FAILED + 1))
       echo "not ok - $name: $(grep '^FAIL: ' "$log" | tail -n 1 | cut -c7- || true)"
       tail -n 20 "$log" | sed 's/^/    /' ;;
  esac
}

fail() { echo "FAIL: $*" >&2; return 1; }
skip_case() { echo "SKIP: $*"; exit 77; }

# finish: the closing line, and the exit status.
finish() {
  local line="$PASSED passed, $FAILED failed"
  [ "$SKIPPED" -eq 0 ] || line+=", $SKIPPED skipped"
  echo "$line"
  [ "$FAILED" -eq 0 ]
}

# --- the API client -------------------------------------------------------------------------------
# kapi METHOD PATH [BODY]: one request to the API server as the admin (system:masters). BODY is
# YAML or JSON, sent as application/yaml unless KAPI_TYPE says otherwise; KAPI_AS impersonates a
# user, in the group system:masters (so RBAC allows it and only the webhooks judge it) unless
# KAPI_GROUPS is set (empty: no group but system:authenticated). Prints the HTTP status; the
# response body is in $RESP, its headers in $RESP.headers.
kapi() {
  local method=$1 path=$2
  local args=(-sS --max-time 40 --cacert "$W/pki/ca.crt" --cert "$W/pki/admin.crt" --key "$W/pki/admin.key"
              -X "$method" -o "$RESP" -D "$RESP.headers" -w '%{http_code}')
  if [ -n "${KAPI_AS:-}" ]; then
    args+=(-H "Impersonate-User: $KAPI_AS")
    [ -z "${KAPI_GROUPS-system:masters}" ] || args+=(-H "Impersonate-Group: ${KAPI_GROUPS-system:masters}")
  fi
  if [ $# -ge 3 ]; then
    curl "${args[@]}" -H "Content-Type: ${KAPI_TYPE:-application/yaml}" --data-binary @- "$KUBE_URL$path" <<<"$3"
  else
    curl "${args[@]}" "$KUBE_URL$path"
  fi
}

# jget EXPR [FILE]: a Python expression over the JSON document d (default $RESP), printed.
jget() {
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[2])); v=eval(sys.argv[1], {"d": d})
print(v if isinstance(v, str) else json.dumps(v))' "$1" "${2:-$RESP}"
}

# expect_code WANT METHOD PATH [BODY]: the API server answers WANT (e.g. 201), else FAIL with its message.
expect_code() {
  local want=$1 got; shift
  got=$(kapi "$@")
  [ "$got" = "$want" ] || fail "$1 $2: HTTP $got, want $want: $(head -c 600 "$RESP")"
}

# create PATH BODY: POST that must be stored (201).
create() { expect_code 201 POST "$@"; }

# expect_denied RULE WEBHOOK FRAGMENT METHOD PATH [BODY]: the API server refuses the request
# because the webhook WEBHOOK (its name before the first dot) denied it: the Status carries
# "admission webhook \"WEBHOOK.…\" denied the request: RULE: …", with FRAGMENT in the server's
# message, and the webhook server logged a deny of that rule.
expect_denied() {
  local rule=$1 hook=$2 fragment=$3 got msg; shift 3
  local before
  before=$(grep -c '"decision":"denied"' "$W/webhook.log" || true)
  got=$(kapi "$@")
  msg=$(jget 'd.get("message", "")')
  [ "$got" = 403 ] || fail "$1 $2: HTTP $got, want 403: $msg"
  [[ $msg == "admission webhook \"$hook.session-admission.ambient-code.io\" denied the request: "* ]] \
    || fail "the refusal does not name webhook $hook: $msg"
  [[ $msg == *"$rule: "* ]] || fail "the refusal does not carry rule $rule: $msg"
  [[ $msg == *"$fragment"* ]] || fail "the refusal does not say \"$fragment\": $msg"
  echo "refused as expected: $msg"
  # The server's own log line, written before it answered.
  tail -n +"$((before + 1))" <(grep '"decision":"denied"' "$W/webhook.log") | grep -q "\"rules\":\"[^\"]*$rule" \
    || fail "the webhook server logged no deny of $rule"
}

# --- the Kubernetes objects the cases share ---------------------------------------------------
# namespace NAME [SERVICEACCOUNT...]: a namespace with the ServiceAccounts a controller-manager
# would make ("default") and the ones named; kept for later cases, so an existing one is fine.
namespace() {
  local ns=$1 sa code; shift
  code=$(kapi POST /api/v1/namespaces "{apiVersion: v1, kind: Namespace, metadata: {name: $ns}}")
  [ "$code" = 201 ] || [ "$code" = 409 ] || fail "namespace $ns: HTTP $code: $(head -c 300 "$RESP")"
  for sa in default "$@"; do
    code=$(kapi POST "/api/v1/namespaces/$ns/serviceaccounts" "{apiVersion: v1, kind: ServiceAccount, metadata: {name: $sa}}")
    [ "$code" = 201 ] || [ "$code" = 409 ] || fail "serviceaccount $ns/$sa: HTTP $code: $(head -c 300 "$RESP")"
  done
}

# expect_judged ENDPOINT KIND NAME DECISION: the webhook server logged that review (so the API
# server did call it, and it decided DECISION: allowed, patched, denied, warned...).
expect_judged() {
  grep '"msg":"review"' "$W/webhook.log" | grep "\"endpoint\":\"$1\"" | grep "\"kind\":\"$2\"" \
    | grep "\"name\":\"$3\"" | grep -q "\"decision\":\"$4\"" \
    || fail "the webhook server logged no $1 review of $2 $3 decided $4"
}

# token_request NS SA [AUDIENCES-JSON]: POSTs a TokenRequest (no audiences: the API server's).
token_request() {
  local spec='{}'
  [ -z "${3:-}" ] || spec="{\"audiences\": $3}"
  kapi POST "/api/v1/namespaces/$1/serviceaccounts/$2/token" \
    "{\"apiVersion\": \"authentication.k8s.io/v1\", \"kind\": \"TokenRequest\", \"spec\": $spec}"
}

# yaml_json FILE: the YAML file as JSON (python3-yaml), to edit or compare.
yaml_json() { "$PY" -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$1"; }

# --- the webhook server ---------------------------------------------------------------------------
# webhook_start: build/session-admission serve on WEBHOOK_PORT (chosen once, so the registered
# URLs stay valid across restarts) with the certificates in $W/webhook and the policy the chart
# rendered ($W/webhook/policy.yaml); logs (JSON lines) appended to $W/webhook.log. The pid is
# kept in $W/webhook.pid, not a variable, because a case (a subshell) may restart the server.
webhook_start() {
  "$SA_BIN" serve --listen "127.0.0.1:$WEBHOOK_PORT" --tls-cert "$W/webhook/tls.crt" --tls-key "$W/webhook/tls.key" \
    --policy "$W/webhook/policy.yaml" --public-key "$SA_SRC/examples/example-public.pem" --metrics-listen off \
    --shutdown-delay 0 --drain-timeout 2 --reload-interval 1 --log-format json >>"$W/webhook.log" 2>&1 &
  echo $! >"$W/webhook.pid"
  for _ in $(seq 1 100); do
    curl -fsS --max-time 2 --cacert "$W/webhook/ca.crt" "https://127.0.0.1:$WEBHOOK_PORT/readyz" >/dev/null 2>&1 && return 0
    pid_gone "$(cat "$W/webhook.pid")" && break
    sleep 0.1
  done
  tail -n 20 "$W/webhook.log" >&2
  fail "the webhook server did not become ready"
}

# pid_gone PID: the process has exited (a zombie not yet reaped by its parent counts as gone).
pid_gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# webhook_stop: SIGTERM, and the server must be gone within its drain timeout (else SIGKILL, FAIL).
webhook_stop() {
  [ -s "$W/webhook.pid" ] || return 0
  local pid
  pid=$(cat "$W/webhook.pid")
  rm -f "$W/webhook.pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do pid_gone "$pid" && return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  fail "the webhook server was still running 5 s after SIGTERM"
}
