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

# SA_E2E_ENFORCEMENT: the chart's enforcement the suite installs and judges by. webhook (the
# default): the webhook for everything. policies: the generated admission policies, the webhook
# registered only for what they leave to it (charts/session-admission/templates/_policies.tpl);
# expect_denied and expect_judged then ask the API server which of the two judges each request.
ENFORCEMENT=${SA_E2E_ENFORCEMENT:-webhook}
case $ENFORCEMENT in webhook | policies) ;; *) echo "FAIL: SA_E2E_ENFORCEMENT=$ENFORCEMENT: webhook or policies" >&2; exit 1 ;; esac

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
# webhook_case REASON: a case about the webhook server itself, skipped (counted) under policies.
webhook_case() { [ "$ENFORCEMENT" = webhook ] || skip_case "enforcement=$ENFORCEMENT: $*"; }

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
# Under enforcement=policies, where a ValidatingAdmissionPolicy of RULE (its annotation
# session-admission.ambient-code.io/rule) matches the request's resource, that policy must be the
# one that denied, in the API server's form for it: "<resource> \"<name>\" is forbidden:
# ValidatingAdmissionPolicy 'P' with binding 'P' denied request: RULE: …" with FRAGMENT, and the
# webhook server was not called; elsewhere the webhook must still judge it, as above. Where the
# webhook reports two rules in one answer, the API server reports one policy that denies (not
# always the same one): POLICY_RULES lists the rules whose policy may be the one, POLICY_FRAGMENT
# what each of their messages says (also for the policies' own wording: list items by name).
expect_denied() {
  local rule=$1 hook=$2 fragment=$3 got msg; shift 3
  local before reviews policy="" policies=() r p
  before=$(grep -c '"decision":"denied"' "$W/webhook.log" || true)
  reviews=$(grep '"msg":"review"' "$W/webhook.log" | grep -c '"endpoint":"validate"' || true)
  if [ "$ENFORCEMENT" != webhook ]; then
    for r in ${POLICY_RULES:-$rule}; do
      p=$(policy_judging "$r" "$(resource_of "$2")")
      [ -z "$p" ] || policies+=("$r $p")
    done
    [ "${#policies[@]}" -eq 0 ] || policy=${policies[0]#* }
  fi
  got=$(kapi "$@")
  msg=$(jget 'd.get("message", "")')
  [ "$got" = 403 ] || fail "$1 $2: HTTP $got, want 403: $msg"
  if [ -n "$policy" ]; then
    fragment=${POLICY_FRAGMENT:-$fragment}
    for r in "${policies[@]}"; do
      p=${r#* } r=${r%% *}
      [[ $msg == *" is forbidden: ValidatingAdmissionPolicy '$p' with binding '$p' denied request: $r: "* ]] \
        && { policy=$p rule=$r; break; }
    done
    [[ $msg == *" is forbidden: ValidatingAdmissionPolicy '$policy' with binding '$policy' denied request: $rule: "* ]] \
      || fail "the refusal does not name policy ${policies[*]#* } of rule ${POLICY_RULES:-$rule}: $msg"
    [[ $msg == *"$fragment"* ]] || fail "the refusal does not say \"$fragment\": $msg"
    echo "refused by the policy as expected: $msg"
    [ "$(grep '"msg":"review"' "$W/webhook.log" | grep -c '"endpoint":"validate"' || true)" = "$reviews" ] \
      || fail "the webhook server was asked to validate a request the policies judge: $(tail -n 1 "$W/webhook.log")"
    return 0
  fi
  [ "$ENFORCEMENT" = webhook ] || webhook_covers validate "$(resource_of "$2")" \
    || fail "no policy of $rule and no webhook registration judge $(resource_of "$2")"
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
# server did call it, and it decided DECISION: allowed, patched, denied, warned...). Under
# enforcement=policies, where no webhook registration of ENDPOINT sends KIND's resource, the
# policies judged it instead: the webhook server must have logged no ENDPOINT review of it.
expect_judged() {
  if [ "$ENFORCEMENT" != webhook ] && ! webhook_covers "$1" "$(resource_of_kind "$2")"; then
    ! grep '"msg":"review"' "$W/webhook.log" | grep "\"endpoint\":\"$1\"" | grep "\"kind\":\"$2\"" \
      | grep -q "\"name\":\"$3\"" || fail "the webhook server was called ($1) for $2 $3, which the policies judge"
    echo "judged by the policies, not the webhook ($1): $2 $3"
    return 0
  fi
  grep '"msg":"review"' "$W/webhook.log" | grep "\"endpoint\":\"$1\"" | grep "\"kind\":\"$2\"" \
    | grep "\"name\":\"$3\"" | grep -q "\"decision\":\"$4\"" \
    || fail "the webhook server logged no $1 review of $2 $3 decided $4"
}

# expect_not_judged KIND NAME: the webhook server logged no review of it (the API server did not
# call it: a selector, a matchCondition or the enforcement left it out).
expect_not_judged() {
  ! grep '"msg":"review"' "$W/webhook.log" | grep "\"kind\":\"$1\"" | grep -q "\"name\":\"$2\"" \
    || fail "the webhook server was called for $1 $2"
}

# resource_of PATH: the resource a request path writes, with its subresource (pods,
# pods/ephemeralcontainers, serviceaccounts/token, clusterrolebindings...).
resource_of() {
  "$PY" - "$1" <<'PY'
import sys
parts = [p for p in sys.argv[1].split("?")[0].split("/") if p]
rest = parts[2:] if parts[0] == "api" else parts[3:]
if rest[0] == "namespaces" and len(rest) > 2:
    rest = rest[2:]
print(rest[0] + ("/" + rest[2] if len(rest) > 2 else ""))
PY
}

# resource_of_kind KIND: the resource of the kinds the cases write.
resource_of_kind() {
  case $1 in
    Pod) echo pods ;; TokenRequest) echo serviceaccounts/token ;; RoleBinding) echo rolebindings ;;
    ClusterRoleBinding) echo clusterrolebindings ;; Role) echo roles ;; ClusterRole) echo clusterroles ;;
    *) echo "unknown kind $1" >&2; return 1 ;;
  esac
}

# webhook_covers ENDPOINT RESOURCE: a webhook registration of the installed release ($W/conf names
# its configurations: the chart's fullname) sends RESOURCE, the mutating one for ENDPOINT mutate.
webhook_covers() {
  local kind=validating
  [ "$1" != mutate ] || kind=mutating
  [ "$(kapi GET "/apis/admissionregistration.k8s.io/v1/${kind}webhookconfigurations/$(cat "$W/conf")")" = 200 ] || return 1
  "$PY" - "$RESP" "$2" <<'PY'
import json, sys
conf = json.load(open(sys.argv[1]))
sys.exit(0 if any(sys.argv[2] in r.get("resources", []) for w in conf["webhooks"] for r in w.get("rules", [])) else 1)
PY
}

# policy_judging RULE RESOURCE: the name of the ValidatingAdmissionPolicy of RULE the API server
# holds whose matchConstraints take RESOURCE, if there is one.
policy_judging() {
  kapi GET /apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies >/dev/null
  "$PY" - "$RESP" "$1" "$2" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1])).get("items", []):
    if p["metadata"].get("annotations", {}).get("session-admission.ambient-code.io/rule") != sys.argv[2]:
        continue
    if any(sys.argv[3] in r.get("resources", []) for r in p["spec"].get("matchConstraints", {}).get("resourceRules", [])):
        print(p["metadata"]["name"])
        break
PY
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
