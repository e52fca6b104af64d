# What the API server does that a hand-written review does not: its defaulting, the chart's
# matchConditions evaluated by its own CEL, dryRun requests, a policy reload while it is calling,
# the webhook server down (each webhook's failurePolicy), and version-gated features.

# crb NAME [LABELLED]: a ClusterRoleBinding of cluster-admin to a session ServiceAccount, with the
# exempt label (kubernetes.io/bootstrapping: rbac-defaults) when LABELLED is "labelled".
crb() {
  local labels=""
  [ "${2:-}" != labelled ] || labels=", labels: {kubernetes.io/bootstrapping: rbac-defaults}"
  echo "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: $1$labels},
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin},
    subjects: [{kind: ServiceAccount, name: session-abc-sa, namespace: project-a}]}"
}

# A session pod without serviceAccountName: the API server sets "default" (its ServiceAccount
# admission, before the webhooks), the webhook replaces it. An unlabelled one keeps "default" and
# is never sent on 1.28+ (the matchCondition on its ServiceAccount); before, every pod of the
# selected namespaces is sent to validate-unlabelled-pods, which allows it.
case_defaulting_pod_without_service_account() {
  namespace "$SESSION_NS" "$SESSION_SA"
  create "/api/v1/namespaces/$SESSION_NS/pods" "
apiVersion: v1
kind: Pod
metadata: {name: e2e-defaulted, labels: {ambient-code.io/session-id: 7F3A9C2E}}
spec: {containers: [{name: runner, image: runner}]}"
  [ "$(jget 'd["spec"]["serviceAccountName"]')" = "$SESSION_SA" ] || fail "runs as $(jget 'd["spec"]["serviceAccountName"]')"
  create "/api/v1/namespaces/$SESSION_NS/pods" "
apiVersion: v1
kind: Pod
metadata: {name: e2e-plain}
spec: {containers: [{name: c, image: busybox}]}"
  [ "$(jget 'd["spec"]["serviceAccountName"]')" = default ] || fail "plain pod runs as $(jget 'd["spec"]["serviceAccountName"]')"
  if [ "$KUBE_MINOR" -ge 28 ]; then expect_not_judged Pod e2e-plain; else expect_judged validate Pod e2e-plain allowed; fi
}

# The RBAC webhooks' matchConditions (1.28+) skip exactly the requests the server exempts by who
# asks: the API server's bootstrap and the aggregation controller (tests/chart checks the CEL
# for other values; here the API server's own CEL runs, on requests made as those users).
case_match_conditions_skip_exempt_users() {
  [ "$KUBE_MINOR" -ge 28 ] || skip_case "webhook matchConditions need Kubernetes 1.28 (this is $KUBE_VERSION): the chart renders none"
  local r=/apis/rbac.authorization.k8s.io/v1
  KAPI_AS=system:apiserver create "$r/clusterrolebindings" "$(crb e2e-bootstrap labelled)"
  expect_not_judged ClusterRoleBinding e2e-bootstrap
  KAPI_AS=system:apiserver expect_denied rbac-session-binding validate-cluster-rbac 'cluster-admin is not in allowedRoles' \
    POST "$r/clusterrolebindings" "$(crb e2e-bootstrap-unlabelled)"
  # The name alone is not the API server's loopback client, which is also in system:masters: a
  # user named system:apiserver (allowed by RBAC here through a binding of its own) is judged.
  create "$r/clusterrolebindings" "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding,
    metadata: {name: e2e-apiserver-name}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin},
    subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: 'system:apiserver'}]}"
  KAPI_AS=system:apiserver KAPI_GROUPS= expect_denied rbac-session-binding validate-cluster-rbac \
    'cluster-admin is not in allowedRoles' POST "$r/clusterrolebindings" "$(crb e2e-bootstrap-name-only labelled)"
  expect_code 200 DELETE "$r/clusterrolebindings/e2e-apiserver-name"
  KAPI_AS=alice@example.com expect_denied rbac-session-binding validate-cluster-rbac 'cluster-admin is not in allowedRoles' \
    POST "$r/clusterrolebindings" "$(crb e2e-self-labelled labelled)"
  # With matchConditions every namespace's RoleBindings are sent, kube-system's too.
  # (It reaches beyond kube-system too: the webhook reports both rules, the API server one policy.)
  KAPI_AS=alice@example.com POLICY_RULES="rbac-session-binding rbac-cross-namespace" \
    POLICY_FRAGMENT='RoleBinding kube-system/e2e-kube-system: ' \
    expect_denied rbac-session-binding validate-rbac 'cluster-admin is not in allowedRoles' \
    POST "$r/namespaces/kube-system/rolebindings" "$(crb e2e-kube-system labelled | sed 's/ClusterRoleBinding/RoleBinding/')"
  # The aggregation controller fills a labelled ClusterRole: skipped; one that was not labelled: sent.
  local agg=system:serviceaccount:kube-system:clusterrole-aggregation-controller
  local role="apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole"
  create "$r/clusterroles" "$role
metadata: {name: e2e-aggregated, labels: {kubernetes.io/bootstrapping: rbac-defaults}}
rules: []"
  create "$r/clusterroles" "$role
metadata: {name: e2e-aggregated-plain}
rules: []"
  local wide="rules: [{apiGroups: [''], resources: [users], verbs: [impersonate]}]"
  KAPI_AS=$agg expect_code 200 PUT "$r/clusterroles/e2e-aggregated" "$role
metadata: {name: e2e-aggregated, labels: {kubernetes.io/bootstrapping: rbac-defaults}}
$wide"
  grep '"msg":"review"' "$W/webhook.log" | grep '"name":"e2e-aggregated"' | grep -q '"operation":"UPDATE"' \
    && fail "the aggregation controller's update of a labelled ClusterRole was sent"
  KAPI_AS=$agg expect_denied rbac-impersonation validate-cluster-rbac 'ClusterRole e2e-aggregated-plain' \
    PUT "$r/clusterroles/e2e-aggregated-plain" "$role
metadata: {name: e2e-aggregated-plain, labels: {kubernetes.io/bootstrapping: rbac-defaults}}
$wide"
  # Its writes into a guarded role (here system:image-puller, in allowedRoles) are sent even when
  # labelled: every session bound to it would get what it adds.
  local puller="$role
metadata: {name: 'system:image-puller', labels: {kubernetes.io/bootstrapping: rbac-defaults}}"
  create "$r/clusterroles" "$puller
rules: [{apiGroups: [image.openshift.io], resources: [imagestreams/layers], verbs: [get]}]"
  # (The webhook names the rule by index, rules[1]; the policies by what it lists.)
  KAPI_AS=$agg expect_denied rbac-session-binding validate-cluster-rbac 'grants create on pods/exec, beyond the ceiling of allowedRoles row ClusterRole/system:image-puller' \
    PUT "$r/clusterroles/system:image-puller" "$puller
rules: [{apiGroups: [image.openshift.io], resources: [imagestreams/layers], verbs: [get]},
        {apiGroups: [''], resources: [pods/exec], verbs: [create]}]"
  # It only updates: a labelled ClusterRole it creates is sent.
  KAPI_AS=$agg expect_denied rbac-impersonation validate-cluster-rbac 'ClusterRole e2e-aggregated-new' \
    POST "$r/clusterroles" "$role
metadata: {name: e2e-aggregated-new, labels: {kubernetes.io/bootstrapping: rbac-defaults}}
$wide"
}

# An aggregated ClusterRole (Kubernetes' own admin, edit and view are made so): an aggregationRule
# and no rules, which the API server holds as "rules": null (rbac/v1 ClusterRole.Rules has no
# omitempty). Admitted when created, and when the aggregation controller fills it in.
case_aggregated_clusterrole_admitted() {
  local r=/apis/rbac.authorization.k8s.io/v1
  local role="apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-aggregate-to-view}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {e2e.example.com/aggregate-to: view}}]}"
  create "$r/clusterroles" "$role"
  [ "$(jget 'd.get("rules")')" = null ] || fail "stored with rules $(jget 'd.get("rules")')"
  KAPI_AS=system:serviceaccount:kube-system:clusterrole-aggregation-controller expect_code 200 \
    PUT "$r/clusterroles/e2e-aggregate-to-view" "$role
rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]"
  expect_code 200 DELETE "$r/clusterroles/e2e-aggregate-to-view"
}

# dryRun: judged the same (sideEffects: None), logged as a dry run, nothing stored. (Under
# enforcement=policies the policies judge both; their denial is expect_denied's to check.)
case_dry_run_requests() {
  namespace "$SESSION_NS" "$SESSION_SA"
  expect_denied rbac-session-binding validate-cluster-rbac 'cluster-admin is not in allowedRoles' \
    POST "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All" "$(crb e2e-dry-run)"
  if [ "$ENFORCEMENT" = webhook ] || webhook_covers validate clusterrolebindings; then
    grep '"msg":"review"' "$W/webhook.log" | grep '"name":"e2e-dry-run"' | grep -q '"dry_run":"true"' \
      || fail "the webhook server did not see a dry run"
  fi
  create "/api/v1/namespaces/$SESSION_NS/pods?dryRun=All" "
apiVersion: v1
kind: Pod
metadata: {name: e2e-dry-pod, labels: {ambient-code.io/session-id: 7f3a9c2e}}
spec: {containers: [{name: runner, image: runner}]}"
  [ "$(jget 'd["spec"]["serviceAccountName"]')" = "$SESSION_SA" ] || fail "the dry run was not mutated"
  expect_code 404 GET "/api/v1/namespaces/$SESSION_NS/pods/e2e-dry-pod"
}

# policy_swap FILE: the webhook server's policy file replaced whole (rename, as a ConfigMap
# update does), then SIGHUP to reload at once; returns once the server logged the reload.
policy_swap() {
  local before
  before=$(grep -c '"msg":"policy reloaded"' "$W/webhook.log" || true)
  cp "$1" "$W/webhook/policy.new" && mv "$W/webhook/policy.new" "$W/webhook/policy.yaml"
  kill -HUP "$(cat "$W/webhook.pid")"
  for _ in $(seq 1 50); do
    [ "$(grep -c '"msg":"policy reloaded"' "$W/webhook.log" || true)" -gt "$before" ] && return 0
    sleep 0.1
  done
  fail "the webhook server did not reload $1"
}

# policy_with OUT PYTHON: the chart's policy ($W/policy.chart, kept by the first caller) with the
# Python statement PYTHON applied to it as p, written to OUT. The case's subshell puts the chart's
# policy back when it ends, whether it passed or failed.
policy_with() {
  [ -f "$W/policy.chart" ] || cp "$W/webhook/policy.yaml" "$W/policy.chart"
  trap 'policy_swap "$W/policy.chart"' EXIT
  "$PY" - "$W/policy.chart" "$2" >"$1" <<'PY'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
exec(sys.argv[2], {"p": p})
print(yaml.safe_dump(p))
PY
}

# A TokenRequest without audiences: the API server fills in its own (--api-audiences) before it
# calls the webhook (kubernetes pkg/registry/core/serviceaccount/storage/token.go), so what the
# webhook judges is that audience: with a policy whose sessions.apiAudiences lacks this server's
# https://kubernetes.default.svc, the empty request is refused naming it.
case_defaulting_token_request_without_audiences() {
  webhook_case "changes the webhook server's policy file live (the policies change by helm upgrade)"
  namespace "$SESSION_NS" "$SESSION_SA"
  policy_with "$W/policy.other-api" 'p["sessions"]["apiAudiences"] = ["https://kubernetes.default.svc.cluster.local"]'
  policy_swap "$W/policy.other-api"
  expect_denied session-token-audience validate-tokens \
    'spec.audiences[0] "https://kubernetes.default.svc" is not in sessions.tokenAudiences nor sessions.apiAudiences' \
    POST "/api/v1/namespaces/$SESSION_NS/serviceaccounts/$SESSION_SA/token" \
    '{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}'
  policy_swap "$W/policy.chart"
  [ "$(token_request "$SESSION_NS" "$SESSION_SA")" = 201 ] || fail "after the reload: $(head -c 300 "$RESP")"
}

# A reload while the API server is calling: requests in a loop through the API server, the policy
# switched to warn for rbac-session-binding and back; every answer is the old policy's refusal or
# the new one's warning, never an error, and each policy takes effect.
case_policy_reload_while_called() {
  webhook_case "reloads the webhook server's policy while the API server calls it (the policies change by helm upgrade)"
  policy_with "$W/policy.warn" 'p.setdefault("modes", {})["rbac-session-binding"] = "warn"'
  local url="$KUBE_URL/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All"
  (for i in $(seq 1 60); do
     curl -sS --max-time 20 --cacert "$W/pki/ca.crt" --cert "$W/pki/admin.crt" --key "$W/pki/admin.key" \
       -H 'Content-Type: application/yaml' --data-binary "$(crb "e2e-reload-$i")" -o "$W/reload-$i.json" \
       -D "$W/reload-$i.headers" -w "%{http_code}\n" "$url"
   done) >"$W/reload-codes" &
  local loop=$!
  sleep 0.5
  policy_swap "$W/policy.warn"
  local warned=0
  for _ in $(seq 1 50); do
    [ "$(kapi POST "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All" "$(crb e2e-reload-probe)")" = 201 ] \
      && grep -qi '^warning: .*rbac-session-binding' "$RESP.headers" && { warned=1; break; }
    sleep 0.1
  done
  policy_swap "$W/policy.chart"
  wait "$loop"
  [ "$warned" = 1 ] || fail "the warn policy never took effect: $(head -c 300 "$RESP")"
  expect_denied rbac-session-binding validate-cluster-rbac 'cluster-admin is not in allowedRoles' \
    POST "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All" "$(crb e2e-reload-after)"
  local i code denied=0 allowed=0
  for i in $(seq 1 60); do
    code=$(sed -n "${i}p" "$W/reload-codes")
    case $code in
      403) grep -q 'denied the request: rbac-session-binding: ' "$W/reload-$i.json" || fail "request $i: $(cat "$W/reload-$i.json")"
           denied=$((denied + 1)) ;;
      201) grep -qi '^warning: .*rbac-session-binding' "$W/reload-$i.headers" || fail "request $i allowed without the warning"
           allowed=$((allowed + 1)) ;;
      *) fail "request $i during the reload: HTTP $code: $(head -c 300 "$W/reload-$i.json")" ;;
    esac
  done
  echo "during the reloads: $denied refused, $allowed warned"
  [ "$denied" -gt 0 ] || fail "no request ran under the enforcing policy"
}

# failure_policies: "NAME POLICY" of each webhook the API server holds, sorted (a configuration
# enforcement=policies did not render has none).
failure_policies() {
  local k
  for k in mutating validating; do
    [ "$(kapi GET "/apis/admissionregistration.k8s.io/v1/${k}webhookconfigurations/session-admission")" = 200 ] || continue
    jget '"\n".join(w["name"].split(".")[0] + " " + w["failurePolicy"] for w in d["webhooks"])'
  done | sort
}

# The webhook server down: failurePolicy Fail refuses and the API server names the webhook; the
# chart's token webhook is Ignore by default (values.yaml: an outage must not stop every pod's
# token), so a TokenRequest goes through unjudged. The unlabelled-pod webhook is Fail from 1.28,
# where its matchConditions send only pods that may run as a session ServiceAccount, and Ignore
# before (values.yaml webhook.pods.unlabelled.failurePolicy). The server is started again at the end.
# The API server does not validate a TokenRequest's audiences before admission and sends a NUL
# in one as \u0000 (issue 19 part 1): the webhook must answer with a denial, not an HTTP error
# that the chart's failurePolicy Ignore for tokens would turn into a minted token.
# Under enforcement=policies the token webhook is not registered (the chart reads the NUL refusal,
# generate's webhook-only "refused", as the webhook's own need): the audience policy compares the
# very string, NUL included, and refuses it as an audience it does not know; where generate also
# writes the refusal as a policy (session-admission-refused-tokens), either may be the one the
# API server reports.
case_nul_in_token_audience_denied() {
  namespace "$SESSION_NS" "$SESSION_SA"
  local got msg
  local body='{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"audiences": ["https://kubernetes.default.svc\u0000.attacker.example"]}}'
  if [ "$ENFORCEMENT" != webhook ] && ! webhook_covers validate serviceaccounts/token; then
    got=$(KAPI_TYPE=application/json kapi POST "/api/v1/namespaces/$SESSION_NS/serviceaccounts/$SESSION_SA/token" "$body")
    msg=$(jget 'd.get("message", "").replace("\0", "\\u0000")')
    [ "$got" = 403 ] || fail "HTTP $got, want 403: $msg"
    local a="ValidatingAdmissionPolicy 'session-admission-session-token-audience-tokens' with binding 'session-admission-session-token-audience-tokens' denied request: session-token-audience: "
    local n="ValidatingAdmissionPolicy '$(policy_judging refused serviceaccounts/token)' with binding '$(policy_judging refused serviceaccounts/token)' denied request: refused: "
    if [[ $msg == *"$a"*'is not in sessions.tokenAudiences'* ]]; then
      echo "refused by the audience policy: $msg"
    elif [ -n "$(policy_judging refused serviceaccounts/token)" ] && [[ $msg == *"$n"*'holds a NUL'* ]]; then
      echo "refused by the policy of the NUL refusal: $msg"
    else
      fail "not refused by the audience policy nor a NUL refusal policy: $msg"
    fi
    [ "$(jget 'd.get("status", {}).get("token", "")')" = "" ] || fail "a token came back"
    return 0
  fi
  got=$(KAPI_TYPE=application/json kapi POST "/api/v1/namespaces/$SESSION_NS/serviceaccounts/$SESSION_SA/token" "$body")
  msg=$(jget 'd.get("message", "")')
  [ "$got" = 403 ] || fail "HTTP $got, want 403: $msg"
  [[ $msg == 'admission webhook "validate-tokens.session-admission.ambient-code.io" denied the request: '* ]] \
    || fail "the refusal does not name webhook validate-tokens: $msg"
  [[ $msg == *"spec.audiences[0] holds a NUL"* ]] || fail "the refusal does not say where the NUL is: $msg"
  [ "$(jget 'd.get("status", {}).get("token", "")')" = "" ] || fail "a token came back"
  echo "refused as expected: $msg"
}

# Under enforcement=policies: the policies judge on with the server down (no outage mode for
# what they cover: the TokenRequest webhook's Ignore is gone with it), and only what is left to
# the webhook waits on it, under its failurePolicy.
webhook_server_stopped_policies() {
  local code msg r=/apis/rbac.authorization.k8s.io/v1
  failure_policies >"$W/fp"
  echo "stored: $(tr '\n' ' ' <"$W/fp")"
  ! grep -qv ' Fail$' "$W/fp" || fail "a webhook left under enforcement=policies is not Fail"
  trap '[ -s "$W/webhook.pid" ] || webhook_start' EXIT
  webhook_stop
  local pod="{apiVersion: v1, kind: Pod, metadata: {name: e2e-while-down, labels: {ambient-code.io/session-id: 7f3a9c2e}},
    spec: {containers: [{name: runner, image: runner}]}}"
  if webhook_covers mutate pods; then
    code=$(kapi POST "/api/v1/namespaces/$SESSION_NS/pods?dryRun=All" "$pod")
    [[ $code != 201 && $(jget 'd.get("message", "")') == *'failed calling webhook "mutate-pods.'* ]] \
      || fail "session pod with the mutating webhook down: HTTP $code: $(head -c 300 "$RESP")"
    echo "session pod: refused, the mutation is still the webhook's here"
  else
    create "/api/v1/namespaces/$SESSION_NS/pods?dryRun=All" "$pod"
    [ "$(jget 'd["spec"]["serviceAccountName"]')" = "$SESSION_SA" ] || fail "not mutated with the server down"
    echo "session pod: admitted and mutated by the MutatingAdmissionPolicy with the server down"
  fi
  create "$r/namespaces/project-a/rolebindings?dryRun=All" \
    "$(sed 's/name: session-abc-image-builder/name: e2e-while-down/' "$OBJ/image-builder-rolebinding.yaml")"
  expect_denied rbac-session-binding validate-cluster-rbac 'cluster-admin is not in allowedRoles' \
    POST "$r/clusterrolebindings" "$(crb e2e-while-down)"
  expect_denied session-pod validate-unlabelled-pods "$SESSION_SA" POST "/api/v1/namespaces/$SESSION_NS/pods" \
    "{apiVersion: v1, kind: Pod, metadata: {name: e2e-borrower-while-down}, spec: {serviceAccountName: $SESSION_SA, containers: [{name: c, image: busybox}]}}"
  # The hole the token webhook's failurePolicy Ignore leaves in an outage is closed.
  expect_denied session-token-audience validate-tokens 'https://vault.example.com' \
    POST "/api/v1/namespaces/$SESSION_NS/serviceaccounts/$SESSION_SA/token" \
    '{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"audiences": ["https://vault.example.com"]}}'
  # What is left to the webhook (Roles, ClusterRoles) waits on it.
  code=$(kapi POST "$r/clusterroles?dryRun=All" "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: e2e-while-down}, rules: []}")
  if webhook_covers validate clusterroles; then
    [[ $code != 201 && $(jget 'd.get("message", "")') == *'failed calling webhook "validate-cluster-rbac.'* ]] \
      || fail "ClusterRole with the webhook server down: HTTP $code: $(head -c 300 "$RESP")"
    echo "ClusterRole: refused while the webhook it is left to is down"
  else
    [ "$code" = 201 ] || fail "ClusterRole, judged by the policies, with the server down: HTTP $code"
  fi
  webhook_start
  for _ in $(seq 1 50); do
    [ "$(kapi POST "$r/clusterroles?dryRun=All" "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: e2e-after-down}, rules: []}")" = 201 ] && return 0
    sleep 0.1
  done
  fail "the restarted server is not called: $(head -c 300 "$RESP")"
}

case_webhook_server_stopped() {
  namespace "$SESSION_NS" "$SESSION_SA"
  namespace project-a session-abc-sa
  if [ "$ENFORCEMENT" != webhook ]; then webhook_server_stopped_policies; return; fi
  local unlabelled=Ignore
  [ "$KUBE_MINOR" -lt 28 ] || unlabelled=Fail
  diff <(failure_policies) <(printf '%s\n' "mutate-pods Fail" "validate-cluster-rbac Fail" "validate-pods Fail" \
    "validate-rbac Fail" "validate-tokens Ignore" "validate-unlabelled-pods $unlabelled" | sort) >&2 \
    || fail "the stored failurePolicies are not the chart's documented defaults"
  # Started again however the case ends: a later case needs it.
  trap '[ -s "$W/webhook.pid" ] || webhook_start' EXIT
  webhook_stop
  local code msg
  code=$(kapi POST "/api/v1/namespaces/$SESSION_NS/pods" "
apiVersion: v1
kind: Pod
metadata: {name: e2e-while-down, labels: {ambient-code.io/session-id: 7f3a9c2e}}
spec: {containers: [{name: runner, image: runner}]}")
  msg=$(jget 'd.get("message", "")')
  [ "$code" != 201 ] || fail "a session pod was admitted with the webhook server down"
  [[ $msg == *'failed calling webhook "mutate-pods.session-admission.ambient-code.io"'* ]] \
    || fail "the refusal does not name the pod webhook: HTTP $code: $msg"
  echo "session pod: HTTP $code: $msg"
  code=$(kapi POST /apis/rbac.authorization.k8s.io/v1/namespaces/project-a/rolebindings \
    "$(sed 's/name: session-abc-image-builder/name: e2e-while-down/' "$OBJ/image-builder-rolebinding.yaml")")
  msg=$(jget 'd.get("message", "")')
  [ "$code" != 201 ] && [[ $msg == *'failed calling webhook "validate-rbac.session-admission.ambient-code.io"'* ]] \
    || fail "RoleBinding with the webhook server down: HTTP $code: $msg"
  echo "RoleBinding: HTTP $code: $msg"
  # An unlabelled pod of a plain ServiceAccount: never sent on 1.28+ (matchConditions), sent and
  # ignored before; admitted either way. One borrowing a session ServiceAccount: refused on 1.28+.
  create "/api/v1/namespaces/$SESSION_NS/pods" "{apiVersion: v1, kind: Pod, metadata: {name: e2e-plain-while-down},
    spec: {containers: [{name: c, image: busybox}]}}"
  local borrower="{apiVersion: v1, kind: Pod, metadata: {name: e2e-borrower-while-down},
    spec: {serviceAccountName: $SESSION_SA, containers: [{name: c, image: busybox}]}}"
  if [ "$unlabelled" = Fail ]; then
    code=$(kapi POST "/api/v1/namespaces/$SESSION_NS/pods" "$borrower")
    msg=$(jget 'd.get("message", "")')
    [ "$code" != 201 ] && [[ $msg == *'failed calling webhook "validate-unlabelled-pods.session-admission.ambient-code.io"'* ]] \
      || fail "unlabelled pod as a session ServiceAccount with the webhook server down: HTTP $code: $msg"
    echo "unlabelled borrower: HTTP $code: $msg"
  else
    create "/api/v1/namespaces/$SESSION_NS/pods" "$borrower"
    echo "unlabelled borrower admitted while down (failurePolicy Ignore before 1.28, as documented)"
    expect_code 200 DELETE "/api/v1/namespaces/$SESSION_NS/pods/e2e-borrower-while-down"
  fi
  # The API server's own bootstrap writes are skipped by matchConditions (1.28+), so they go on.
  if [ "$KUBE_MINOR" -ge 28 ]; then
    KAPI_AS=system:apiserver create "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?dryRun=All" \
      "$(crb e2e-bootstrap-while-down labelled)"
  fi
  # Ignore: even an audience the server would refuse gets its token while the server is down.
  [ "$(token_request "$SESSION_NS" "$SESSION_SA" '["https://vault.example.com"]')" = 201 ] \
    || fail "TokenRequest with the webhook server down: $(head -c 300 "$RESP")"
  webhook_start
  for _ in $(seq 1 50); do
    [ "$(token_request "$SESSION_NS" "$SESSION_SA" '["https://vault.example.com"]')" = 403 ] && return 0
    sleep 0.1
  done
  fail "the restarted server is not called: $(head -c 300 "$RESP")"
}
